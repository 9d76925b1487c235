"""The profile's JSON form (SPEC §7): read and checked in one pass, written back the same way.

Every broken rule becomes a FieldError whose field is the path as the user wrote it
(`profile.segment_group_targets[0].segments[1].other_less`), so one answer lists them all.
"""

from __future__ import annotations

from typing import Any

from segpixel.domain.errors import FieldError, ValidationFailed, field_error
from segpixel.domain.limits import MAX_EXPIRE_MINUTES, VALUE_MAX
from segpixel.domain.profile import RECENT_ADDS_KEPT
from segpixel.domain.targeting import SegmentGroup, SegmentTarget, Targeting

OPERATORS = ("and", "or")
ACTIONS = ("include", "exclude")
MAX_SEGMENT_ITEMS = 100  # per profile: more is a mistake, and every ad call evaluates them
MAX_IN_LIST = 100
MAX_MIN_COUNT = RECENT_ADDS_KEPT + 1  # the profile keeps this many add times: counts are exact
PROFILE_KEYS = ("segment_boolean_operator", "segment_group_targets", "segment_targets")
GROUP_KEYS = ("boolean_operator", "segments")
ITEM_KEYS = (
    "id",
    "action",
    "start_minutes",
    "expire_minutes",
    "other_equals",
    "other_less",
    "other_greater",
    "other_in_list",
    "min_count",
    "within_minutes",
)


class _Reader:
    """Collects errors while reading one profile."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def fail(self, field: str, rule: str) -> None:
        self.errors.append(field_error(field, rule))

    def keys(self, field: str, data: dict[str, Any], known: tuple[str, ...]) -> None:
        for key in data:
            if key not in known:
                self.fail(f"{field}.{key}", f"is not a known field (known: {', '.join(known)})")

    def operator(self, field: str, value: Any) -> str:
        if value is None:
            return "and"
        if value not in OPERATORS:
            self.fail(field, f"must be 'and' or 'or' (got {value!r})")
            return "and"
        return value

    def int_in(self, field: str, value: Any, low: int, high: int) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(field, f"must be a whole number (got {value!r})")
            return None
        if not low <= value <= high:
            self.fail(field, f"must be between {low} and {high} (got {value})")
            return None
        return value

    def list_of_objects(self, field: str, value: Any) -> list[dict[str, Any]]:
        if not isinstance(value, list):
            self.fail(field, "must be a list of objects")
            return []
        good = []
        for i, item in enumerate(value):
            if isinstance(item, dict):
                good.append(item)
            else:
                self.fail(f"{field}[{i}]", "must be an object")
        return good


def parse_targeting(data: Any, field: str = "profile") -> Targeting:
    """The profile as a Targeting; ValidationFailed listing every broken rule otherwise."""
    targeting, errors = read_targeting(data, field)
    if errors:
        raise ValidationFailed(errors)
    return targeting


def read_targeting(data: Any, field: str = "profile") -> tuple[Targeting, list[FieldError]]:
    r = _Reader()
    if data is None:
        return Targeting(), []
    if not isinstance(data, dict):
        r.fail(field, "must be an object (or null to target every user)")
        return Targeting(), r.errors
    r.keys(field, data, PROFILE_KEYS)
    operator = r.operator(f"{field}.segment_boolean_operator", data.get("segment_boolean_operator"))
    grouped, flat = data.get("segment_group_targets"), data.get("segment_targets")
    groups: list[SegmentGroup] = []
    if grouped and flat:
        r.fail(
            f"{field}.segment_group_targets",
            "and segment_targets cannot both be set: use segment groups or the flat list, not both",
        )
    elif grouped is not None and grouped != []:
        gfield = f"{field}.segment_group_targets"
        for i, group in enumerate(r.list_of_objects(gfield, grouped)):
            groups.append(_group(r, f"{gfield}[{i}]", group))
    elif flat is not None and flat != []:
        items = _items(r, f"{field}.segment_targets", flat)
        groups = [SegmentGroup(operator, items)] if items else []
    count = sum(len(g.segments) for g in groups)
    if count > MAX_SEGMENT_ITEMS:
        r.fail(field, f"may hold at most {MAX_SEGMENT_ITEMS} segment items (got {count})")
    if flat and not grouped:
        # one group, whose own operator is segment_boolean_operator; the outer one is moot
        return Targeting("and", tuple(groups), flat=True), r.errors
    return Targeting(operator, tuple(groups)), r.errors


def _group(r: _Reader, field: str, data: dict[str, Any]) -> SegmentGroup:
    r.keys(field, data, GROUP_KEYS)
    operator = r.operator(f"{field}.boolean_operator", data.get("boolean_operator"))
    items = _items(r, f"{field}.segments", data.get("segments"))
    if not items and not any(e.field.startswith(f"{field}.segments") for e in r.errors):
        r.fail(f"{field}.segments", "must list at least one segment item")
    return SegmentGroup(operator, items)


def _items(r: _Reader, field: str, value: Any) -> tuple[SegmentTarget, ...]:
    return tuple(
        _item(r, f"{field}[{i}]", item) for i, item in enumerate(r.list_of_objects(field, value))
    )


def _item(r: _Reader, field: str, data: dict[str, Any]) -> SegmentTarget:
    r.keys(field, data, ITEM_KEYS)
    segment_id = r.int_in(f"{field}.id", data.get("id"), 1, 2**31 - 1)
    if "id" not in data or data.get("id") is None:
        r.fail(f"{field}.id", "is required: the segment to target")
    action = data.get("action") or "include"
    if action not in ACTIONS:
        r.fail(f"{field}.action", f"must be 'include' or 'exclude' (got {action!r})")
    start = r.int_in(f"{field}.start_minutes", data.get("start_minutes"), 0, MAX_EXPIRE_MINUTES)
    expire = r.int_in(f"{field}.expire_minutes", data.get("expire_minutes"), -1, MAX_EXPIRE_MINUTES)
    if start is not None and expire is not None and expire != -1 and expire < start:
        r.fail(
            f"{field}.expire_minutes",
            f"must be -1 (no upper bound) or at least start_minutes (got {expire} < {start})",
        )
    equals, less, greater = (
        r.int_in(f"{field}.{k}", data.get(k), 0, VALUE_MAX)
        for k in ("other_equals", "other_less", "other_greater")
    )
    in_list = _in_list(r, f"{field}.other_in_list", data.get("other_in_list"))
    if in_list is not None and equals is not None:
        r.fail(
            f"{field}.other_in_list", "and other_equals cannot both be set: use one or the other"
        )
    if less is not None and greater is not None and less - greater < 2:
        r.fail(
            f"{field}.other_less",
            f"must be more than other_greater + 1: no whole value is both greater than "
            f"{greater} and less than {less} (both bounds are exclusive)",
        )
    min_count = r.int_in(f"{field}.min_count", data.get("min_count"), 1, MAX_MIN_COUNT)
    within = r.int_in(f"{field}.within_minutes", data.get("within_minutes"), 1, MAX_EXPIRE_MINUTES)
    if (data.get("min_count") is None) != (data.get("within_minutes") is None):
        r.fail(
            f"{field}.min_count",
            "and within_minutes go together: 'fired at least min_count times in the last "
            "within_minutes minutes'",
        )
    return SegmentTarget(
        segment_id=segment_id or 0,
        action=action if action in ACTIONS else "include",
        start_minutes=start or 0,
        expire_minutes=-1 if expire is None else expire,
        other_equals=equals,
        other_less=less,
        other_greater=greater,
        other_in_list=in_list,
        min_count=min_count if within is not None else None,
        within_minutes=within if min_count is not None else None,
    )


def _in_list(r: _Reader, field: str, value: Any) -> tuple[int, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not value:
        r.fail(field, "must be a non-empty list of values")
        return None
    if len(value) > MAX_IN_LIST:
        r.fail(field, f"may hold at most {MAX_IN_LIST} values (got {len(value)})")
        return None
    values = [r.int_in(f"{field}[{i}]", v, 0, VALUE_MAX) for i, v in enumerate(value)]
    return tuple(v for v in values if v is not None)


def segment_refs(targeting: Targeting, field: str = "profile") -> list[tuple[str, int]]:
    """(field path of the item's id, segment id) for every item, as the user wrote the profile."""
    refs = []
    for g, group in enumerate(targeting.groups):
        for i, target in enumerate(group.segments):
            path = (
                f"{field}.segment_targets[{i}]"
                if targeting.flat
                else f"{field}.segment_group_targets[{g}].segments[{i}]"
            )
            refs.append((f"{path}.id", target.segment_id))
    return refs


def targeting_out(targeting: Targeting) -> dict[str, Any] | None:
    """The JSON form (every item field shown, as the reference does); None targets everyone."""
    if not targeting.groups:
        return None
    if targeting.flat:
        group = targeting.groups[0]
        return {
            "segment_boolean_operator": group.boolean_operator,
            "segment_targets": [_item_out(t) for t in group.segments],
        }
    return {
        "segment_boolean_operator": targeting.boolean_operator,
        "segment_group_targets": [
            {"boolean_operator": g.boolean_operator, "segments": [_item_out(t) for t in g.segments]}
            for g in targeting.groups
        ],
    }


def _item_out(t: SegmentTarget) -> dict[str, Any]:
    return {
        "id": t.segment_id,
        "action": t.action,
        "start_minutes": t.start_minutes,
        "expire_minutes": t.expire_minutes,
        "other_equals": t.other_equals,
        "other_less": t.other_less,
        "other_greater": t.other_greater,
        "other_in_list": list(t.other_in_list) if t.other_in_list is not None else None,
        "min_count": t.min_count,
        "within_minutes": t.within_minutes,
    }
