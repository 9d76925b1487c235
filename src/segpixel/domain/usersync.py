"""The usersync (ID-sync partner) pixel's rules (SPEC §1.4)."""

from __future__ import annotations

from dataclasses import dataclass

from segpixel.domain.errors import FieldError, field_error
from segpixel.domain.fields import check_absolute_url, check_int_range, check_name, check_state
from segpixel.domain.limits import PRIORITY_MAX, PRIORITY_MIN

# Ours, then the reference's spellings of the same values (pixel_plan.Macros fills them all).
USERSYNC_MACROS = (
    "${UID}",
    "${GDPR}",
    "${GDPR_CONSENT}",
    "$UID",
    "${GDPR_APPLIES}",
    "${GDPR_CONSENT_STRING}",
    "${CACHEBUSTER}",
)


@dataclass(frozen=True, slots=True)
class UsersyncDraft:
    member_id: int
    name: str
    url: str
    pixel_type: str = "img"
    state: str = "active"
    priority: int = 5


def usersync_errors(draft: UsersyncDraft) -> list[FieldError]:
    errors = [
        *check_name("name", draft.name),
        *check_absolute_url("url", draft.url),
        *check_state("state", draft.state),
        *check_int_range("priority", draft.priority, PRIORITY_MIN, PRIORITY_MAX),
    ]
    if draft.pixel_type not in ("img", "js"):
        errors.append(
            field_error("pixel_type", f"must be 'img' or 'js' (got {draft.pixel_type!r})")
        )
    return errors


def with_uid(url: str, uid: str) -> str:
    """`/getuid`'s target: `$UID` and `${UID}` replaced by the id, or — when the URL has
    neither — the id appended to its end, as the reference does."""
    if "$UID" in url or "${UID}" in url:
        return url.replace("${UID}", uid).replace("$UID", uid)
    return url + uid
