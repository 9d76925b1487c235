"""How a write changes a user's memberships (SPEC §1.2, §3.1): domain/profile.py."""

from __future__ import annotations

import pytest

from segpixel.domain.profile import (
    RECENT_ADDS_KEPT,
    Add,
    Membership,
    Mutation,
    apply_add,
    apply_mutation,
)

T0 = 1_700_000_040  # minute-aligned
MIN = 60
HOUR = 3600


def member(
    expires_at: int = T0 + HOUR,
    value: int | None = None,
    first: int = T0,
    last: int = T0,
    count: int = 1,
    recent: tuple[int, ...] = (),
    sid: int = 5,
) -> Membership:
    return Membership(sid, expires_at, value, first, last, count, recent)


# --- apply_add ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "add", "at", "expected"),
    [
        pytest.param(None, Add(5, T0 + HOUR, 3), T0, member(T0 + HOUR, 3), id="fresh-with-value"),
        pytest.param(None, Add(5, T0 + HOUR), T0, member(T0 + HOUR, None), id="fresh-no-value"),
        pytest.param(
            member(T0 + HOUR, 3),
            Add(5, T0 + 10 * MIN + HOUR),
            T0 + 10 * MIN,
            member(T0 + 10 * MIN + HOUR, 3, last=T0 + 10 * MIN, count=2, recent=(T0,)),
            id="re-add-extends-and-keeps-value",
        ),
        pytest.param(
            member(T0 + HOUR, 3),
            Add(5, T0 + 10 * MIN + HOUR, 8),
            T0 + 10 * MIN,
            member(T0 + 10 * MIN + HOUR, 8, last=T0 + 10 * MIN, count=2, recent=(T0,)),
            id="re-add-replaces-value",
        ),
        pytest.param(
            member(T0 + 30 * 24 * HOUR, 3),
            Add(5, T0 + MIN + HOUR),
            T0 + MIN,
            member(T0 + 30 * 24 * HOUR, 3, last=T0 + MIN, count=2, recent=(T0,)),
            id="re-add-never-shortens",
        ),
        pytest.param(
            member(T0 + HOUR, 3),
            Add(5, T0 + 2 * HOUR, 4),
            T0 + HOUR,
            member(T0 + 2 * HOUR, 4, first=T0 + HOUR, last=T0 + HOUR),
            id="restart-at-expiry",
        ),
        pytest.param(
            member(T0 + HOUR, 3, count=9, recent=(T0 - MIN,)),
            Add(5, T0 + 5 * HOUR),
            T0 + 4 * HOUR,
            member(T0 + 5 * HOUR, None, first=T0 + 4 * HOUR, last=T0 + 4 * HOUR),
            id="restart-after-expiry-forgets-value-and-count",
        ),
    ],
)
def test_apply_add(old: Membership | None, add: Add, at: int, expected: Membership) -> None:
    assert apply_add(old, add, at) == expected


def test_re_add_keeps_first_added() -> None:
    m = apply_add(None, Add(5, T0 + HOUR), T0)
    for i in range(1, 5):
        m = apply_add(m, Add(5, T0 + i * MIN + HOUR), T0 + i * MIN)
    assert m.first_added == T0
    assert m.last_added == T0 + 4 * MIN
    assert m.count == 5
    assert m.expires_at == T0 + 4 * MIN + HOUR


@pytest.mark.parametrize(
    ("adds", "kept"),
    [
        pytest.param(2, 1, id="2-adds"),
        pytest.param(16, 15, id="16-adds"),
        pytest.param(17, 15, id="17-adds-capped"),
        pytest.param(40, 15, id="40-adds-capped"),
    ],
)
def test_recent_adds_capped(adds: int, kept: int) -> None:
    m = None
    times = [T0 + i * MIN for i in range(adds)]
    for t in times:
        m = apply_add(m, Add(5, t + HOUR), t)
    assert m is not None
    assert RECENT_ADDS_KEPT == 15
    assert len(m.recent_adds) == kept
    assert m.recent_adds == tuple(reversed(times[:-1]))[:kept]  # newest first
    assert m.count == adds


def test_recent_adds_are_minute_floored() -> None:
    m = apply_add(None, Add(5, T0 + HOUR), T0 + 59)
    m = apply_add(m, Add(5, T0 + HOUR), T0 + 61)
    m = apply_add(m, Add(5, T0 + HOUR), T0 + 179)
    assert m.last_added == T0 + 179  # the last add keeps its second
    assert m.recent_adds == (T0 + 60, T0)
    assert all(t % 60 == 0 for t in m.recent_adds)


def test_recent_adds_keep_very_old_adds() -> None:
    long = T0 + 400 * 24 * HOUR
    m = member(long, recent=(T0 - MIN,))
    later = T0 + 70_000 * 60
    m = apply_add(m, Add(5, later + HOUR), later)
    assert m.recent_adds[-1] == T0 - MIN
    assert m.count == 2


@pytest.mark.parametrize(
    ("since", "expected"),
    [
        pytest.param(T0 - HOUR, 4, id="all"),
        pytest.param(T0, 4, id="at-first"),
        pytest.param(T0 + 1, 3, id="after-first"),
        pytest.param(T0 + 2 * MIN, 2, id="middle"),
        pytest.param(T0 + 5 * MIN, 1, id="at-last"),
        pytest.param(T0 + 5 * MIN + 1, 0, id="after-last"),
    ],
)
def test_adds_since(since: int, expected: int) -> None:
    m = None
    for t in (T0, T0 + MIN, T0 + 2 * MIN, T0 + 5 * MIN):
        m = apply_add(m, Add(5, t + HOUR), t)
    assert m is not None
    assert m.adds_since(since) == expected


def test_adds_since_exact_up_to_sixteen() -> None:
    m = None
    for i in range(16):
        m = apply_add(m, Add(5, T0 + HOUR * 2), T0 + i * MIN)
    assert m is not None
    assert m.adds_since(T0) == 16
    assert m.adds_since(T0 + 10 * MIN) == 6


@pytest.mark.parametrize(
    ("expires_at", "now", "active"),
    [
        pytest.param(T0 + 1, T0, True, id="before"),
        pytest.param(T0, T0, False, id="at-expiry"),
        pytest.param(T0 - 1, T0, False, id="after"),
    ],
)
def test_is_active(expires_at: int, now: int, active: bool) -> None:
    assert member(expires_at).is_active(now) is active


# --- apply_mutation ------------------------------------------------------------------------------


def test_apply_mutation_adds_then_removes() -> None:
    old = {5: member(T0 + HOUR, 2, sid=5), 6: member(T0 + HOUR, 2, sid=6)}
    mutation = Mutation(
        1, T0 + MIN, adds=(Add(5, T0 + 2 * HOUR, 9), Add(7, T0 + HOUR)), removes=(5, 6, 8)
    )
    changed, deleted = apply_mutation(old, mutation)
    assert set(changed) == {7}
    assert changed[7] == Membership(7, T0 + HOUR, None, T0 + MIN, T0 + MIN, 1)
    assert sorted(deleted) == [5, 6]  # 8 was never there


def test_apply_mutation_add_and_remove_of_a_new_segment() -> None:
    changed, deleted = apply_mutation({}, Mutation(1, T0, adds=(Add(5, T0 + HOUR),), removes=(5,)))
    assert changed == {}
    assert deleted == [5]  # harmless: nothing stored under it


def test_apply_mutation_reports_expired_memberships() -> None:
    old = {
        1: member(T0 - 1, sid=1),  # expired
        2: member(T0 + HOUR, sid=2),  # active, untouched
        3: member(T0 - HOUR, sid=3),  # expired, re-added now
        4: member(T0 - HOUR, sid=4),  # expired and removed
    }
    mutation = Mutation(1, T0, adds=(Add(3, T0 + HOUR, 5),), removes=(4,))
    changed, deleted = apply_mutation(old, mutation)
    assert set(changed) == {3}
    assert changed[3] == Membership(3, T0 + HOUR, 5, T0, T0, 1)  # a fresh start
    assert sorted(deleted) == [1, 4]
    assert len(deleted) == len(set(deleted))


def test_apply_mutation_two_adds_of_one_segment() -> None:
    mutation = Mutation(1, T0, adds=(Add(5, T0 + HOUR, 1), Add(5, T0 + 2 * HOUR)))
    changed, deleted = apply_mutation({}, mutation)
    assert changed[5].count == 2
    assert changed[5].value == 1
    assert changed[5].expires_at == T0 + 2 * HOUR
    assert deleted == []


def test_apply_mutation_does_not_touch_its_input() -> None:
    old = {5: member(T0 + HOUR, 2)}
    snapshot = dict(old)
    apply_mutation(old, Mutation(1, T0 + MIN, adds=(Add(5, T0 + 2 * HOUR),), removes=()))
    assert old == snapshot


def test_apply_mutation_nothing() -> None:
    assert apply_mutation({5: member(T0 + HOUR)}, Mutation(1, T0)) == ({}, [])
