"""Property tests (hypothesis): the targeting evaluator agrees with a brute-force reading.

Each user is generated as its true history — for every segment, the times and values of its adds
and its expire_minutes — and stored through the real profile rules (`apply_add`). The oracle
never looks at the stored Membership: it replays the history by hand (a membership restarts when
an add finds it expired; the value is the run's last one given; the count is the run's adds in the
window) and combines the items with plain loops. The evaluator reads only the stored profile.
Add times are whole minutes, the precision at which a profile keeps its earlier adds.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from hypothesis import given, settings
from hypothesis import strategies as st

from segpixel.domain.profile import Add, Membership, Profile, apply_add
from segpixel.domain.targeting import (
    SegmentGroup,
    SegmentTarget,
    Targeting,
    explain,
    item_verdict,
    matches,
    user_state,
)

SEGMENTS = (1, 2, 3, 4)
BASE = 1_800_000_000 - 1_800_000_000 % 60  # stored adds happen at whole minutes after BASE


@dataclass(frozen=True)
class History:
    """One segment's adds: (minute offset from BASE, value or None), oldest first."""

    adds: tuple[tuple[int, int | None], ...]
    expire_minutes: int


@dataclass(frozen=True)
class User:
    histories: dict[int, History]
    call_adds: tuple[tuple[int, int | None], ...]  # this call's 0-minute adds
    known: bool
    seconds: int = 0  # now = BASE + 600 minutes + seconds: on a minute boundary, or inside one

    @property
    def now(self) -> int:
        return BASE + 600 * 60 + self.seconds

    def profile(self) -> Profile:
        memberships = []
        for sid, history in self.histories.items():
            m: Membership | None = None
            for minute, value in history.adds:
                at = BASE + minute * 60
                m = apply_add(m, Add(sid, at + history.expire_minutes * 60, value), at)
            if m is not None:
                memberships.append(m)
        return Profile(7, tuple(memberships))

    def state(self):  # type: ignore[no-untyped-def]
        call_adds = [(sid, value, None) for sid, value in self.call_adds]  # (no text value)
        return user_state(self.profile(), self.now, call_adds, self.known)


values = st.one_of(st.none(), st.integers(1, 12))
# minutes near the edges the targets and expiries below draw (600 is "now")
minutes = st.one_of(
    st.integers(0, 600), st.sampled_from([300, 310, 480, 510, 540, 570, 590, 599, 600])
)
history = st.builds(
    History,
    adds=st.lists(st.tuples(minutes, values), min_size=1, max_size=10).map(
        lambda adds: tuple(sorted(adds, key=lambda a: a[0]))
    ),
    expire_minutes=st.sampled_from([1, 10, 30, 90, 700, 259_200]),
)
call_adds = st.lists(
    st.tuples(st.sampled_from(SEGMENTS), values), max_size=2, unique_by=lambda a: a[0]
).map(tuple)
seconds = st.sampled_from([0, 0, 0, 1, 30, 59])
users = st.builds(
    User,
    histories=st.dictionaries(st.sampled_from(SEGMENTS), history, max_size=4),
    call_adds=call_adds,
    known=st.booleans(),
    seconds=seconds,
)


@st.composite
def users_in(draw: st.DrawFn, segment_id: int) -> User:
    """A known user with a history in `segment_id`: the item's own conditions decide."""
    histories = draw(st.dictionaries(st.sampled_from(SEGMENTS), history, max_size=3))
    histories[segment_id] = draw(history)
    return User(histories, draw(call_adds), True, draw(seconds))


@st.composite
def targets(draw: st.DrawFn) -> SegmentTarget:
    start = draw(st.sampled_from([0, 0, 10, 60, 90, 300]))
    expire = draw(st.sampled_from([-1, -1, start, start + 30, start + 60, start + 200]))
    in_list = draw(st.one_of(st.none(), st.lists(st.integers(0, 12), min_size=1, max_size=3)))
    equals = None if in_list is not None else draw(st.one_of(st.none(), st.integers(0, 12)))
    greater = draw(st.one_of(st.none(), st.integers(0, 10)))
    less = draw(st.one_of(st.none(), st.integers((greater or 0) + 2, 14)))
    counted = draw(st.booleans())
    return SegmentTarget(
        segment_id=draw(st.sampled_from(SEGMENTS)),
        action=draw(st.sampled_from(["include", "exclude"])),
        start_minutes=start,
        expire_minutes=expire,
        other_equals=equals,
        other_less=less,
        other_greater=greater,
        other_in_list=tuple(in_list) if in_list is not None else None,
        min_count=draw(st.integers(1, 5)) if counted else None,
        within_minutes=draw(st.sampled_from([1, 10, 30, 60, 90, 120, 700])) if counted else None,
    )


operators = st.sampled_from(["and", "or"])
groups = st.builds(SegmentGroup, operators, st.lists(targets(), min_size=1, max_size=3).map(tuple))
profiles = st.builds(Targeting, operators, st.lists(groups, min_size=0, max_size=3).map(tuple))


# -- the oracle ---------------------------------------------------------------------------------


def replay(user: User, sid: int) -> tuple[list[tuple[int, int | None]], int] | None:
    """The current run of adds (time, value) of segment `sid` at NOW, and its expiry; None when
    the user is not in it. Every add sets expiry = time + expire_minutes; an add that finds the
    membership expired starts a new run."""
    adds = [
        (BASE + minute * 60, value, user.histories[sid].expire_minutes)
        for minute, value in (user.histories[sid].adds if sid in user.histories else ())
    ]
    adds += [(user.now, value, 1) for s, value in user.call_adds if s == sid]
    run: list[tuple[int, int | None]] = []
    expiry = None
    for at, value, minutes in adds:
        if expiry is None or expiry <= at:
            run, expiry = [], at + minutes * 60
        run.append((at, value))
        expiry = max(expiry, at + minutes * 60)
    if not run or expiry is None or expiry <= user.now:
        return None
    return run, expiry


def oracle_include(target: SegmentTarget, user: User) -> bool:
    found = replay(user, target.segment_id)
    if found is None:
        return False
    run, _ = found
    last = run[-1][0]
    age = max(0, user.now - last)
    if age < target.start_minutes * 60:
        return False
    if target.expire_minutes != -1 and age > target.expire_minutes * 60:
        return False
    given = [v for _, v in run if v is not None]
    value = given[-1] if given else None
    if target.other_equals is not None and value != target.other_equals:
        return False
    if target.other_less is not None and not (value is not None and value < target.other_less):
        return False
    if target.other_greater is not None and not (
        value is not None and value > target.other_greater
    ):
        return False
    if target.other_in_list is not None and value not in target.other_in_list:
        return False
    if target.min_count is not None:
        since = user.now - (target.within_minutes or 0) * 60
        if len([at for at, _ in run if at >= since]) < target.min_count:
            return False
    return True


def oracle(profile: Targeting, user: User) -> bool:
    if not profile.groups:
        return True  # SPEC §7: a line item without segment targeting serves every user
    group_results = []
    for group in profile.groups:
        items = []
        for target in group.segments:
            if target.action == "include":
                items.append(oracle_include(target, user))
            else:
                items.append(user.known and not oracle_include(target, user))
        group_results.append(all(items) if group.boolean_operator == "and" else any(items))
    if profile.boolean_operator == "and":
        return all(group_results)
    return any(group_results)


# -- the properties -----------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(profiles, users)
def test_the_evaluator_agrees_with_the_brute_force_reading(profile: Targeting, user: User) -> None:
    assert matches(profile, user.state()) == oracle(profile, user)


@settings(max_examples=500, deadline=None)
@given(st.data())
def test_each_item_agrees_with_the_brute_force_reading(data: st.DataObject) -> None:
    target = data.draw(targets())
    user = data.draw(users_in(target.segment_id))
    expected = oracle_include(target, user)
    if target.action == "exclude":
        expected = not expected
    assert item_verdict(target, user.state())[0] == expected


BOUNDS = ("none", "start", "expire", "less", "greater", "equals", "in_list", "count")


@settings(max_examples=1500, deadline=None)
@given(st.data())
def test_boundaries_agree_with_the_brute_force_reading(data: st.DataObject) -> None:
    """One condition at a time, set one below, at, or one above the user's true state."""
    user = data.draw(users_in(1))
    found = replay(user, 1)
    run = found[0] if found else [(user.now, None)]
    ages = [(user.now - at) // 60 for at, _ in run]
    given_values = [v for _, v in run if v is not None]
    value = given_values[-1] if given_values else data.draw(st.integers(0, 3))

    def near(n: int) -> int:
        return max(0, n + data.draw(st.sampled_from([-1, 0, 0, 1])))

    kind = data.draw(st.sampled_from(BOUNDS))
    fields: dict[str, object] = {}
    if kind == "start":
        fields["start_minutes"] = near(ages[-1])
    elif kind == "expire":
        fields["expire_minutes"] = near(ages[-1])
    elif kind in ("less", "greater", "equals"):
        fields[f"other_{kind}"] = near(value)
    elif kind == "in_list":
        fields["other_in_list"] = (near(value), near(value + 5))
    elif kind == "count":
        window = max(1, near(data.draw(st.sampled_from(ages))))
        inside = sum(1 for age in ages if age <= window)
        fields["within_minutes"] = window
        fields["min_count"] = min(16, max(1, near(inside)))
    target = SegmentTarget(1, data.draw(st.sampled_from(["include", "exclude"])), **fields)  # type: ignore[arg-type]
    expected = oracle_include(target, user)
    if target.action == "exclude":
        expected = not expected
    assert item_verdict(target, user.state())[0] == expected


@settings(max_examples=300, deadline=None)
@given(profiles, users)
def test_explain_agrees_and_names_the_item_that_decided(profile: Targeting, user: User) -> None:
    state = user.state()
    result = explain(profile, state)
    assert result.matched == matches(profile, state)
    assert len(result.items) == sum(len(g.segments) for g in profile.groups)
    if not profile.groups:
        assert result.decided_by is None and result.matched
    else:
        # whatever the operators, the deciding item went the way the whole profile went
        assert result.decided_by is not None
        assert result.decided_by.matched == result.matched
        assert result.decided_by in result.items


@settings(max_examples=300, deadline=None)
@given(targets(), users)
def test_for_a_known_user_exclude_is_exactly_not_include(target: SegmentTarget, user: User) -> None:
    state = replace(user, known=True).state()
    include = item_verdict(replace(target, action="include"), state)[0]
    exclude = item_verdict(replace(target, action="exclude"), state)[0]
    assert exclude is (not include)
    unknown = replace(user, known=False).state()
    assert item_verdict(replace(target, action="exclude"), unknown)[0] is False


@settings(max_examples=200, deadline=None)
@given(profiles, users, st.randoms(use_true_random=False))
def test_the_order_of_groups_and_items_does_not_matter(
    profile: Targeting, user: User, rng: random.Random
) -> None:
    shuffled_groups = []
    for group in profile.groups:
        items = list(group.segments)
        rng.shuffle(items)
        shuffled_groups.append(SegmentGroup(group.boolean_operator, tuple(items)))
    rng.shuffle(shuffled_groups)
    shuffled = Targeting(profile.boolean_operator, tuple(shuffled_groups))
    state = user.state()
    assert matches(shuffled, state) == matches(profile, state)


@settings(max_examples=200, deadline=None)
@given(targets(), users)
def test_loosening_an_include_never_loses_a_match(target: SegmentTarget, user: User) -> None:
    include = replace(target, action="include")
    state = user.state()
    if item_verdict(include, state)[0]:
        for looser in (
            replace(include, expire_minutes=-1),
            replace(include, start_minutes=0),
            replace(include, other_less=None, other_greater=None),
            replace(include, min_count=None, within_minutes=None),
        ):
            assert item_verdict(looser, state)[0]


@settings(max_examples=200, deadline=None)
@given(st.lists(targets(), min_size=1, max_size=4), users, operators)
def test_the_flat_form_is_one_group(items: list[SegmentTarget], user: User, op: str) -> None:
    flat = Targeting("and", (SegmentGroup(op, tuple(items)),), flat=True)
    state = user.state()
    results = [item_verdict(t, state)[0] for t in items]
    assert matches(flat, state) == (all(results) if op == "and" else any(results))
