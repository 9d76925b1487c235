"""How values read on a page: durations, counts, segment types (Jinja filters)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from segpixel.domain.limits import MAX_EXPIRE_MINUTES

DASH = "—"  # shown where a value does not exist (yet), e.g. stats before reporting runs
TYPE_LABELS = {
    "pixel": "Pixel",
    "querystring": "Query String",
    "querystring_key_value": "Query String Key Value",
}
UNITS = (("days", 1440), ("hours", 60), ("minutes", 1))


def split_minutes(minutes: int) -> tuple[int, str]:
    """The largest unit that divides the duration exactly: 4320 → (3, "days")."""
    for unit, size in UNITS:
        if minutes and minutes % size == 0:
            return minutes // size, unit
    return minutes, "minutes"


def keep_user(expire_minutes: int | None) -> str:
    if expire_minutes is None or expire_minutes == MAX_EXPIRE_MINUTES:
        return "180 days"
    if expire_minutes == 0:
        return "This request only"
    amount, unit = split_minutes(expire_minutes)
    return f"{amount} {unit.rstrip('s') if amount == 1 else unit}"


def count(value: int | None) -> str:
    return DASH if value is None else f"{value:,}"


def or_dash(value: Any) -> Any:
    return DASH if value is None or value == "" else value


def type_label(segment_type: str) -> str:
    return TYPE_LABELS.get(segment_type, segment_type)


FILTERS: dict[str, Callable[..., Any]] = {
    "keep_user": keep_user,
    "count": count,
    "or_dash": or_dash,
    "type_label": type_label,
}
