"""The profile's JSON form (SPEC §7): read and checked in one pass, written back the same way.

Every broken rule becomes a FieldError whose field is the path as the user wrote it
(`profile.segment_group_targets[0].segments[1].other_less`), so one answer lists them all.

Read as the reference reads it (SPEC §7): a group without `boolean_operator` is `or`,
`segment_boolean_operator` defaults to `and`; an item names its segment by `id` or `code` (of the
line item's member: `bind_segments` resolves it) and may carry `name` and `deleted` (the
reference's answers do; ignored); `other_equals` / `other_in_list` take numbers, or strings for
a text query-string segment, matched ignoring case against the text value it kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from segpixel.domain.errors import FieldError, ValidationFailed, field_error
from segpixel.domain.fields import CODE_RE, CODE_RULE
from segpixel.domain.limits import MAX_AD_CALL_KEY_VALUE_LEN, MAX_EXPIRE_MINUTES, VALUE_MAX
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
    "code",
    "name",  # the segment's name, as the reference's answers show it: ignored
    "deleted",  # likewise
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

    def operator(self, field: str, value: Any, default: str) -> str:
        if value is None:
            return default
        if value not in OPERATORS:
            self.fail(field, f"must be 'and' or 'or' (got {value!r})")
            return default
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
    operator = r.operator(
        f"{field}.segment_boolean_operator", data.get("segment_boolean_operator"), "and"
    )
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
    # the reference's default inside a group is `or` (between groups, `and`)
    operator = r.operator(f"{field}.boolean_operator", data.get("boolean_operator"), "or")
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
    code = data.get("code")
    if code is not None and not (isinstance(code, str) and CODE_RE.fullmatch(code)):
        r.fail(f"{field}.code", f"{CODE_RULE} (got {str(code)[:60]!r})")
        code = None
    if data.get("id") is None and data.get("code") is None:
        r.fail(f"{field}.id", "is required: the segment to target (or its code)")
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
    equals = _predicate(r, f"{field}.other_equals", data.get("other_equals"))
    less, greater = (
        r.int_in(f"{field}.{k}", data.get(k), 0, VALUE_MAX) for k in ("other_less", "other_greater")
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
        texts=_texts(equals, in_list),
        code=code,
    )


def _predicate(r: _Reader, field: str, value: Any) -> int | str | None:
    """A segment value to match: a number, or the text value of a text query-string segment."""
    if isinstance(value, str):
        if not value or len(value) > MAX_AD_CALL_KEY_VALUE_LEN:
            r.fail(
                field,
                f"as text must be 1 to {MAX_AD_CALL_KEY_VALUE_LEN} characters (an ad call's "
                f"values are no longer; got {len(value)})",
            )
            return None
        return value
    return r.int_in(field, value, 0, VALUE_MAX)


def _in_list(r: _Reader, field: str, value: Any) -> tuple[int | str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not value:
        r.fail(field, "must be a non-empty list of values")
        return None
    if len(value) > MAX_IN_LIST:
        r.fail(field, f"may hold at most {MAX_IN_LIST} values (got {len(value)})")
        return None
    if len({isinstance(v, str) for v in value}) > 1:
        r.fail(field, "must hold numbers or text values, not both")
        return None
    values = [_predicate(r, f"{field}[{i}]", v) for i, v in enumerate(value)]
    return tuple(v for v in values if v is not None)


def _texts(
    equals: int | str | None, in_list: tuple[int | str, ...] | None
) -> frozenset[str] | None:
    """The text values to match, lower-cased; None when the predicates are numbers."""
    wanted = [equals] if equals is not None else list(in_list or ())
    if not wanted or not isinstance(wanted[0], str):
        return None
    return frozenset(str(v).lower() for v in wanted)


@dataclass(frozen=True, slots=True)
class SegmentFacts:
    """What targeting rules need to know of a segment an item names."""

    id: int
    text_values: bool  # a text query-string segment: it keeps the ad call's text (SPEC §5.1)


Lookup = Callable[[Any], SegmentFacts | None]


def bind_segments(
    targeting: Targeting, by_id: Lookup, by_code: Lookup, field: str = "profile"
) -> Targeting:
    """Items named by `code` get their segment's id (`by_code` looks in the line item's member);
    text predicates are checked against the segment's kind: on a segment that is not a text
    query-string segment, numbers written as strings are numbers, other text is SYNTAX."""
    errors: list[FieldError] = []
    groups = []
    for g, group in enumerate(targeting.groups):
        items = []
        for i, target in enumerate(group.segments):
            path = _path(targeting, field, g, i)
            items.append(_bind(target, path, by_id, by_code, errors))
        groups.append(replace(group, segments=tuple(items)))
    if errors:
        raise ValidationFailed(errors)
    return replace(targeting, groups=tuple(groups))


def _bind(
    target: SegmentTarget, path: str, by_id: Lookup, by_code: Lookup, errors: list[FieldError]
) -> SegmentTarget:
    facts = None
    if target.code is not None:
        facts = by_code(target.code)
        if facts is None:
            errors.append(
                field_error(f"{path}.code", f"names no segment of this member ({target.code!r})")
            )
            return target
        if target.segment_id and target.segment_id != facts.id:
            errors.append(
                field_error(
                    f"{path}.code",
                    f"names segment {facts.id}, but id names segment {target.segment_id}: "
                    "give one of them, or both for the same segment",
                )
            )
            return target
        target = replace(target, segment_id=facts.id, code=None)
    if target.texts is None:
        return target
    facts = facts or by_id(target.segment_id)
    if facts is None or facts.text_values:
        return target  # (an unknown segment is reported by the caller's reference check)
    as_numbers = _numbers(target)
    if as_numbers is None:
        name = "other_equals" if target.other_in_list is None else "other_in_list"
        errors.append(
            field_error(
                f"{path}.{name}",
                f"takes text values only on a text query-string segment (segment "
                f"{target.segment_id} is not one): use numbers",
            )
        )
        return target
    return as_numbers


def _numbers(target: SegmentTarget) -> SegmentTarget | None:
    """The item with its text predicates read as numbers, when they all are."""
    wanted = [target.other_equals] if target.other_equals is not None else target.other_in_list
    numbers = []
    for value in wanted or ():
        text = str(value)
        if not (len(text) <= 10 and text.isascii() and text.isdigit() and int(text) <= VALUE_MAX):
            return None
        numbers.append(int(text))
    if target.other_equals is not None:
        return replace(target, other_equals=numbers[0], texts=None)
    return replace(target, other_in_list=tuple(numbers), texts=None)


def _path(targeting: Targeting, field: str, g: int, i: int) -> str:
    if targeting.flat:
        return f"{field}.segment_targets[{i}]"
    return f"{field}.segment_group_targets[{g}].segments[{i}]"


def segment_refs(targeting: Targeting, field: str = "profile") -> list[tuple[str, int]]:
    """(field path of the item's id, segment id) for every item, as the user wrote the profile."""
    return [
        (f"{_path(targeting, field, g, i)}.id", target.segment_id)
        for g, group in enumerate(targeting.groups)
        for i, target in enumerate(group.segments)
    ]


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
