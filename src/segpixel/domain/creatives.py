"""The creative's rules (SPEC §1.5, §6): what it shows, where a click goes, whom it adds."""

from __future__ import annotations

from dataclasses import dataclass

from segpixel.domain.errors import FieldError, field_error
from segpixel.domain.fields import check_absolute_url, check_int_range, check_name, check_state

CREATIVE_ACTIONS = ("add_on_view", "add_on_click")
MAX_SIDE = 10_000
MAX_CONTENT_LEN = 65_536
MAX_CREATIVE_SEGMENTS = 100


@dataclass(frozen=True, slots=True)
class CreativeSegment:
    segment_id: int
    action: str  # "add_on_view" | "add_on_click"


@dataclass(frozen=True, slots=True)
class CreativeDraft:
    name: str
    width: int | None = None
    height: int | None = None
    content: str | None = None
    media_url: str | None = None
    click_url: str | None = None
    state: str = "active"
    segments: tuple[CreativeSegment, ...] = ()


def creative_errors(draft: CreativeDraft) -> list[FieldError]:
    errors = [*check_name("name", draft.name), *check_state("state", draft.state)]
    for name, side in (("width", draft.width), ("height", draft.height)):
        if side is None:
            errors.append(field_error(name, "is required: the creative's size in pixels"))
        else:
            errors += check_int_range(name, side, 1, MAX_SIDE, "pixels")
    errors += _body_errors(draft)
    if draft.click_url is not None:
        errors += check_absolute_url("click_url", draft.click_url)
    errors += creative_segment_errors(draft.segments)
    return errors


def _body_errors(draft: CreativeDraft) -> list[FieldError]:
    content, media = draft.content or None, draft.media_url or None
    if content is not None and media is not None:
        return [
            field_error(
                "content",
                "and media_url cannot both be set: a creative is either HTML (content) or an "
                "image (media_url)",
            )
        ]
    if content is None and media is None:
        return [field_error("content", "or media_url is required: what the creative shows")]
    if content is not None and len(content) > MAX_CONTENT_LEN:
        return [
            field_error(
                "content", f"must be at most {MAX_CONTENT_LEN} characters (got {len(content)})"
            )
        ]
    return check_absolute_url("media_url", media) if media is not None else []


def creative_segment_errors(segments: tuple[CreativeSegment, ...]) -> list[FieldError]:
    errors: list[FieldError] = []
    if len(segments) > MAX_CREATIVE_SEGMENTS:
        errors.append(
            field_error(
                "segments", f"may hold at most {MAX_CREATIVE_SEGMENTS} items (got {len(segments)})"
            )
        )
    seen: set[tuple[int, str]] = set()
    for i, item in enumerate(segments):
        if item.action not in CREATIVE_ACTIONS:
            errors.append(
                field_error(
                    f"segments[{i}].action",
                    f"must be 'add_on_view' or 'add_on_click' (got {item.action!r})",
                )
            )
        if (item.segment_id, item.action) in seen:
            errors.append(
                field_error(
                    f"segments[{i}]",
                    f"names segment {item.segment_id} with action {item.action!r} twice",
                )
            )
        seen.add((item.segment_id, item.action))
    return errors
