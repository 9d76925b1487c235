"""Buyers' segment targeting (SPEC §7): the profile's shape, its evaluation, and why it matched.

A profile is groups of segment items; items combine inside a group by the group's
`boolean_operator`, groups combine by `segment_boolean_operator` (the flat `segment_targets` form is
one group). An include item holds when the user is in the segment within the item's recency window,
value bounds and frequency; an exclude item holds when that is NOT so — but only for a user whose
stored profile we know. For an unknown user (no cookie, opted out, no consent, store unreachable)
absence cannot be told from ignorance, so exclusions fail safe: such a user never passes one.

Parsing and validation of the JSON form live in `targeting_rules`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from segpixel.domain.profile import Add, Membership, Profile, apply_add

MINUTE = 60


@dataclass(frozen=True, slots=True)
class SegmentTarget:
    segment_id: int
    action: str = "include"  # "include" | "exclude"
    start_minutes: int = 0  # minutes since the last add, lower bound (inclusive)
    expire_minutes: int = -1  # upper bound (inclusive); -1: none
    other_equals: int | str | None = None  # a string: the text value of a text QS segment
    other_less: int | None = None  # exclusive
    other_greater: int | None = None  # exclusive
    other_in_list: tuple[int | str, ...] | None = None
    min_count: int | None = None  # with within_minutes: at least N adds in the last D minutes
    within_minutes: int | None = None
    # other_equals / other_in_list as text values, lower-cased (SPEC §7): matched on the text
    # value a text query-string segment kept, not on the numeric value
    texts: frozenset[str] | None = None
    code: str | None = None  # named by code and not yet resolved to an id (targeting_rules)


@dataclass(frozen=True, slots=True)
class SegmentGroup:
    boolean_operator: str  # "and" | "or"
    segments: tuple[SegmentTarget, ...]


@dataclass(frozen=True, slots=True)
class Targeting:
    boolean_operator: str = "and"  # segment_boolean_operator: combines the groups
    groups: tuple[SegmentGroup, ...] = ()
    flat: bool = False  # written as `segment_targets` (one group): kept for the round trip

    @property
    def targets_anything(self) -> bool:
        return bool(self.groups)

    def segment_ids(self) -> frozenset[int]:
        return frozenset(t.segment_id for g in self.groups for t in g.segments)


EVERYONE = Targeting()


@dataclass(slots=True)
class UserState:
    """What targeting may read about one user at one moment."""

    memberships: dict[int, Membership]  # active ones, this call's 0-minute adds merged in
    now: int
    known: bool  # the stored profile was read: exclusions can be trusted


def user_state(
    profile: Profile | None,
    now: int,
    call_adds: Iterable[tuple[int, int | None, str | None]] = (),
    known: bool = True,
) -> UserState:
    """The user's active memberships plus this call's 0-minute adds (segment id, value, text).

    A 0-minute add is never stored but counts for the call that made it (SPEC §1.2, §5.3): it is
    merged as an add made now, exactly as a stored add would have been.
    """
    memberships = {m.segment_id: m for m in profile.active(now)} if profile else {}
    for segment_id, value, text in call_adds:
        old = memberships.get(segment_id)
        memberships[segment_id] = apply_add(old, Add(segment_id, now + MINUTE, value, text), now)
    return UserState(memberships, now, known and profile is not None)


# -- evaluation -----------------------------------------------------------------------------------


def unmet(target: SegmentTarget, m: Membership | None, now: int) -> str | None:
    """Why the user is not in the segment as the item asks (None: they are)."""
    sid = target.segment_id
    if m is None or m.expires_at <= now:
        return f"the user is not in segment {sid}"
    age = max(0, now - m.last_added)  # a clock slightly behind the writer's is not "before"
    added = f"segment {sid} was last added {age // MINUTE} min ago"
    if age < target.start_minutes * MINUTE:
        return f"{added}, before start_minutes {target.start_minutes}"
    if target.expire_minutes >= 0 and age > target.expire_minutes * MINUTE:
        return f"{added}, after expire_minutes {target.expire_minutes}"
    value = m.value
    shown = "no value" if value is None else f"value {value}"
    if target.texts is not None:  # other_equals / other_in_list name text values
        if m.text not in target.texts:
            text = "no text value" if m.text is None else f"text value {m.text!r}"
            wanted = "other_equals" if target.other_in_list is None else "other_in_list"
            return f"segment {sid} has {text}, not the {wanted} text"
    elif target.other_equals is not None and value != target.other_equals:
        return f"segment {sid} has {shown}, not equal to {target.other_equals}"
    elif target.other_in_list is not None and value not in target.other_in_list:
        return f"segment {sid} has {shown}, not in other_in_list"
    if target.other_less is not None and (value is None or value >= target.other_less):
        return f"segment {sid} has {shown}, not less than {target.other_less}"
    if target.other_greater is not None and (value is None or value <= target.other_greater):
        return f"segment {sid} has {shown}, not greater than {target.other_greater}"
    if target.min_count is not None and target.within_minutes is not None:
        count = m.adds_since(now - target.within_minutes * MINUTE)
        if count < target.min_count:
            return (
                f"segment {sid} was added {count} time(s) in the last {target.within_minutes} "
                f"min, fewer than min_count {target.min_count}"
            )
    return None


def item_verdict(target: SegmentTarget, user: UserState) -> tuple[bool, str]:
    """Whether the item holds for the user, and a sentence saying why."""
    why_not = unmet(target, user.memberships.get(target.segment_id), user.now)
    if target.action == "include":
        if why_not is None:
            return True, f"the user is in segment {target.segment_id} as the item asks"
        return False, why_not
    if not user.known:
        return False, (
            f"the user is unknown (no cookie, opted out, no consent or no profile), so "
            f"exclusion of segment {target.segment_id} cannot be verified"
        )
    if why_not is None:
        return False, f"the user is in segment {target.segment_id}, which the item excludes"
    return True, f"exclusion holds: {why_not}"


def _holds(target: SegmentTarget, user: UserState) -> bool:
    return item_verdict(target, user)[0]


def _combine(operator: str, results: Iterable[bool]) -> bool:
    return all(results) if operator == "and" else any(results)


def matches(targeting: Targeting, user: UserState) -> bool:
    """The hot path's question: does this profile match this user? (Short-circuits.)"""
    if not targeting.groups:
        return True  # no segment targeting, whatever the operator: everyone
    return _combine(
        targeting.boolean_operator,
        (
            _combine(g.boolean_operator, (_holds(t, user) for t in g.segments))
            for g in targeting.groups
        ),
    )


# -- explain ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ItemResult:
    group: int
    index: int
    segment_id: int
    action: str
    matched: bool
    reason: str


@dataclass(frozen=True, slots=True)
class Explanation:
    matched: bool
    decided_by: ItemResult | None  # the item that settled the outcome; None: nothing targeted
    items: tuple[ItemResult, ...]

    @property
    def summary(self) -> str:
        if self.decided_by is None:
            return "the profile targets no segment: every user matches"
        verdict = "matches" if self.matched else "does not match"
        d = self.decided_by
        return f"the profile {verdict}; decided by item {d.index} of group {d.group}: {d.reason}"


def _decisive(operator: str, results: list[ItemResult]) -> ItemResult:
    """`and` is settled by its first failure, `or` by its first success; else by its last item."""
    settling = operator != "and"
    return next((r for r in results if r.matched == settling), results[-1])


def explain(targeting: Targeting, user: UserState) -> Explanation:
    """Evaluate every item and say which one decided the outcome."""
    per_group: list[list[ItemResult]] = []
    for g_index, group in enumerate(targeting.groups):
        results = []
        for i, target in enumerate(group.segments):
            ok, reason = item_verdict(target, user)
            results.append(ItemResult(g_index, i, target.segment_id, target.action, ok, reason))
        per_group.append(results)
    if not per_group:
        return Explanation(True, None, ())
    group_results = [
        (_combine(g.boolean_operator, (r.matched for r in rs)), _decisive(g.boolean_operator, rs))
        for g, rs in zip(targeting.groups, per_group, strict=True)
    ]
    settling = targeting.boolean_operator != "and"
    matched_groups = [ok for ok, _ in group_results]
    decided = next((d for ok, d in group_results if ok == settling), group_results[-1][1])
    matched = _combine(targeting.boolean_operator, matched_groups)
    return Explanation(matched, decided, tuple(r for rs in per_group for r in rs))
