"""The segment and its rules (SPEC §1.2, §1.3, §5.1, §5.2)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from segpixel.domain.errors import FieldError, field_error
from segpixel.domain.fields import (
    check_absolute_url,
    check_code,
    check_description,
    check_int_range,
    check_name,
    check_state,
)
from segpixel.domain.limits import (
    DEFAULT_EXPIRE_MINUTES,
    MAX_AD_CALL_KEY_VALUE_LEN,
    MAX_EXPIRE_MINUTES,
    MAX_USERSYNC_PIXELS,
    RESERVED_KEY_PREFIX,
)

PIXEL_TYPES = ("img", "js")
SEGMENT_TYPES = ("pixel", "querystring", "querystring_key_value")
QS_VALUE_TYPES = ("text", "numeric", "none")

# The seed's piggyback rules, in the words shown next to the field (SPEC §1.3).
PIGGYBACK_RULES = {
    1: "Adds made by a creative (on view or on click) never fire piggyback pixels.",
    2: "Image pixels can only piggyback image pixels and JavaScript pixels only JavaScript "
    "pixels, so a segment's piggybacks must all be of one type.",
    3: "An image pixel can have only one piggyback pixel; use a JavaScript pixel to chain several.",
    4: "A piggyback URL must be an absolute http:// or https:// URL; there is no length limit "
    "beyond what browsers and servers allow.",
}


@dataclass(frozen=True, slots=True)
class Piggyback:
    url: str
    pixel_type: str  # "img" | "js"


@dataclass(frozen=True, slots=True)
class QueryStringMapping:
    """Type "Query String": a param whose value (text/numeric/any) adds the user (SPEC §5.1)."""

    param: str
    value_type: str = "text"
    values: tuple[str, ...] = ()
    allow_empty_text: bool = False
    publishers: tuple[int, ...] = ()
    sites: tuple[int, ...] = ()
    placements: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class KeyValueMapping:
    """Type "Query String Key Value": `qs_key=qs_value` adds the user (SPEC §5.2)."""

    qs_key: str
    qs_value: str | None = None


@dataclass(frozen=True, slots=True)
class SegmentDraft:
    """A segment as it would be stored: a create's fields, or the stored ones merged with a PUT."""

    member_id: int
    short_name: str
    advertiser_id: int | None = None
    code: str | None = None
    description: str | None = None
    state: str = "active"
    expire_minutes: int | None = None
    max_usersync_pixels: int | None = 0
    piggyback_pixels: tuple[Piggyback, ...] = field(default_factory=tuple)
    querystring_mapping: QueryStringMapping | None = None
    querystring_mapping_key_value: KeyValueMapping | None = None


def segment_type(draft: SegmentDraft) -> str:
    if draft.querystring_mapping is not None:
        return "querystring"
    if draft.querystring_mapping_key_value is not None:
        return "querystring_key_value"
    return "pixel"


def effective_expire_minutes(expire_minutes: int | None) -> int:
    """`null` keeps a user for the 180-day maximum (SPEC §1.2)."""
    return DEFAULT_EXPIRE_MINUTES if expire_minutes is None else expire_minutes


def segment_errors(draft: SegmentDraft) -> list[FieldError]:
    """Every rule of SPEC §1.2–1.3 that can be checked without looking at other segments."""
    errors = [
        *check_name("short_name", draft.short_name),
        *check_code("code", draft.code),
        *check_description("description", draft.description),
        *check_state("state", draft.state),
        *_expire_errors(draft.expire_minutes),
        *_usersync_errors(draft),
        *piggyback_errors(draft.piggyback_pixels),
        *_mapping_errors(draft),
    ]
    return errors


def _expire_errors(expire_minutes: int | None) -> list[FieldError]:
    if expire_minutes is None or 0 <= expire_minutes <= MAX_EXPIRE_MINUTES:
        return []
    return [
        field_error(
            "expire_minutes",
            f"must be between 0 and {MAX_EXPIRE_MINUTES} minutes (180 days), or null for "
            f"180 days (got {expire_minutes})",
        )
    ]


def _usersync_errors(draft: SegmentDraft) -> list[FieldError]:
    value = draft.max_usersync_pixels
    if not value:
        return []  # null and 0 are the same: no usersync pixels
    if draft.querystring_mapping_key_value is not None:
        return [
            field_error(
                "max_usersync_pixels",
                "cannot be set on a segment with querystring_mapping_key_value "
                "(Query String Key Value segments fire no usersync pixels)",
            )
        ]
    return check_int_range("max_usersync_pixels", value, 0, MAX_USERSYNC_PIXELS)


def piggyback_errors(pixels: tuple[Piggyback, ...]) -> list[FieldError]:
    """Rules 2–4 of SPEC §1.3 (rule 1 is enforced where creatives add users)."""
    errors: list[FieldError] = []
    for i, pixel in enumerate(pixels):
        name = f"piggyback_pixels[{i}]"
        if pixel.pixel_type not in PIXEL_TYPES:
            errors.append(
                field_error(
                    f"{name}.pixel_type", f"must be 'img' or 'js' (got {pixel.pixel_type!r})"
                )
            )
        errors += [
            FieldError(e.field, f"{e.message} (rule 4)")
            for e in check_absolute_url(f"{name}.url", pixel.url)
        ]
    types = {p.pixel_type for p in pixels}
    if types == {"img", "js"}:
        errors.append(
            field_error(
                "piggyback_pixels",
                "must all be of one type, 'img' or 'js': image pixels can only piggyback image "
                "pixels and JavaScript pixels only JavaScript pixels (rule 2)",
            )
        )
    elif types == {"img"} and len(pixels) > 1:
        errors.append(
            field_error(
                "piggyback_pixels",
                f"may hold only one 'img' pixel (got {len(pixels)}): an image pixel can "
                "redirect only once; use 'js' pixels to chain several (rule 3)",
            )
        )
    return errors


def _mapping_errors(draft: SegmentDraft) -> list[FieldError]:
    qs, kv = draft.querystring_mapping, draft.querystring_mapping_key_value
    if qs is not None and kv is not None:
        return [
            field_error(
                "querystring_mapping",
                "and querystring_mapping_key_value cannot both be set: a segment is either of "
                "type Query String or of type Query String Key Value",
            )
        ]
    if qs is not None:
        return querystring_mapping_errors(qs)
    if kv is not None:
        return key_value_mapping_errors(kv)
    return []


def _key_errors(field: str, key: str) -> list[FieldError]:
    if not key.strip():
        return [field_error(field, "is required and must not be blank")]
    if len(key) > MAX_AD_CALL_KEY_VALUE_LEN:
        return [
            field_error(
                field,
                f"must be at most {MAX_AD_CALL_KEY_VALUE_LEN} characters, the longest key an "
                f"ad call reads (got {len(key)})",
            )
        ]
    if any(ch in "&=#?" or ch.isspace() for ch in key):
        return [field_error(field, f"must not contain spaces or any of & = # ? (got {key!r})")]
    if key.lower().startswith(RESERVED_KEY_PREFIX):
        return [
            field_error(
                field,
                f"must not start with {RESERVED_KEY_PREFIX!r}: the reference reserves those keys "
                f"and they never add anyone (got {key!r})",
            )
        ]
    return []


def querystring_mapping_errors(qs: QueryStringMapping) -> list[FieldError]:
    prefix = "querystring_mapping"
    errors = _key_errors(f"{prefix}.param", qs.param)
    if qs.value_type not in QS_VALUE_TYPES:
        errors.append(
            field_error(
                f"{prefix}.value_type",
                f"must be 'text', 'numeric' or 'none' (got {qs.value_type!r})",
            )
        )
    if qs.value_type == "text":
        if not qs.values and not qs.allow_empty_text:
            errors.append(
                field_error(
                    f"{prefix}.values",
                    "must list at least one value when value_type is 'text' "
                    "(or set allow_empty_text)",
                )
            )
        for i, value in enumerate(qs.values):
            errors += _text_value_errors(f"{prefix}.values[{i}]", value)
    elif qs.values:
        errors.append(
            field_error(f"{prefix}.values", "may only be given when value_type is 'text'")
        )
    return errors


def _text_value_errors(field: str, value: str) -> list[FieldError]:
    if not value or value == "*":
        return [field_error(field, f"must be a non-empty value or prefix* (got {value!r})")]
    if len(value) > MAX_AD_CALL_KEY_VALUE_LEN:
        return [field_error(field, f"must be at most {MAX_AD_CALL_KEY_VALUE_LEN} characters")]
    if "*" in value[:-1]:
        return [
            field_error(
                field, f"may hold '*' only as its last character, a prefix match (got {value!r})"
            )
        ]
    return []


def key_value_mapping_errors(kv: KeyValueMapping) -> list[FieldError]:
    prefix = "querystring_mapping_key_value"
    errors = _key_errors(f"{prefix}.qs_key", kv.qs_key)
    if kv.qs_value is not None and len(kv.qs_value) > MAX_AD_CALL_KEY_VALUE_LEN:
        errors.append(
            field_error(
                f"{prefix}.qs_value", f"must be at most {MAX_AD_CALL_KEY_VALUE_LEN} characters"
            )
        )
    return errors


def param_collision_error(param: str, other_segment_id: int) -> FieldError:
    return field_error(
        "querystring_mapping.param",
        f"{param!r} already maps to segment {other_segment_id} of this member "
        "(a query-string param maps to at most one segment, ignoring case)",
    )


def keeps_text(querystring_mapping: dict[str, Any] | None) -> bool:
    """Whether a segment with this stored mapping keeps the ad call's matched value as its text
    value (SPEC §5.1): a text query-string segment."""
    if not querystring_mapping:
        return False
    return querystring_mapping.get("value_type") in ("text", None)
