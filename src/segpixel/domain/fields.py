"""Checks shared by several objects: names, codes, states, URLs, host names."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from segpixel.domain.errors import FieldError, field_error
from segpixel.domain.limits import CODE_MAX_LEN, DESCRIPTION_MAX_LEN, NAME_MAX_LEN

STATES = ("active", "inactive")
CODE_RE = re.compile(rf"[A-Za-z0-9_-]{{1,{CODE_MAX_LEN}}}")
CODE_RULE = (
    f"must be 1 to {CODE_MAX_LEN} characters, each a letter, a digit, '_' or '-' "
    "(no spaces, dots or other characters)"
)
_HOST_LABEL = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
HOST_RE = re.compile(rf"(\*\.)?{_HOST_LABEL}(\.{_HOST_LABEL})*")


def check_name(field: str, value: str | None, *, required: bool = True) -> list[FieldError]:
    if value is None or not value.strip():
        return [field_error(field, "is required and must not be blank")] if required else []
    if len(value) > NAME_MAX_LEN:
        return [field_error(field, f"must be at most {NAME_MAX_LEN} characters (got {len(value)})")]
    return []


def check_description(field: str, value: str | None) -> list[FieldError]:
    if value is not None and len(value) > DESCRIPTION_MAX_LEN:
        return [
            field_error(
                field, f"must be at most {DESCRIPTION_MAX_LEN} characters (got {len(value)})"
            )
        ]
    return []


def check_code(field: str, value: str | None) -> list[FieldError]:
    if value is None or CODE_RE.fullmatch(value):
        return []
    return [field_error(field, f"{CODE_RULE}; got {value!r}")]


def check_state(field: str, value: str) -> list[FieldError]:
    if value in STATES:
        return []
    return [field_error(field, f"must be 'active' or 'inactive' (got {value!r})")]


def check_int_range(
    field: str, value: int, low: int, high: int, unit: str = ""
) -> list[FieldError]:
    if low <= value <= high:
        return []
    suffix = f" {unit}" if unit else ""
    return [field_error(field, f"must be between {low} and {high}{suffix} (got {value})")]


def check_absolute_url(field: str, url: str) -> list[FieldError]:
    """An absolute http(s) URL; macros such as ${UID} may stand anywhere in it."""
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        return [field_error(field, "must be a URL without spaces or control characters")]
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return [
            field_error(field, f"must be an absolute http:// or https:// URL (got {url[:80]!r})")
        ]
    return []


def check_host_name(field: str, host: str) -> list[FieldError]:
    if len(host) <= 253 and HOST_RE.fullmatch(host):
        return []
    return [
        field_error(
            field, f"must be a host name such as 'example.com' or '*.example.com' (got {host!r})"
        )
    ]


def code_collision_error(field: str, code: str, existing: str, what: str = "segment") -> FieldError:
    """Codes are unique per member ignoring case, though pixels match them case-sensitively."""
    return field_error(
        field,
        f"{code!r} is already used by another {what} of this member as {existing!r} "
        "(codes must be unique ignoring case)",
    )
