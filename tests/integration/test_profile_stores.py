"""One contract, every profile store: the same cases against SQLite and Redis.

The reference is `domain.profile.apply_mutation`; a store is right when `read()` shows what the
reference computes in memory. Time is injected (`at`, `now`), never slept. It is set a day ahead of
the real clock because Redis expires keys by its own clock: an injected expiry must still be in
the real future, or Redis would drop the key before the test reads it.

Redis must run on 127.0.0.1:6379 (scripts/ensure-services starts it); when it cannot be reached
the Redis cases fail with a sentence that says so — never a skip.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import secrets
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segpixel.domain.loads import (
    SOURCES,
    active_window_start,
    day_number,
    day_start,
    month_number,
    utc_day,
)
from segpixel.domain.profile import (
    RECENT_ADDS_KEPT,
    Add,
    Membership,
    Mutation,
    Profile,
    apply_mutation,
)
from segpixel.errors import StoreUnavailable
from segpixel.profiles import sqlite as sqlite_backend
from segpixel.profiles.base import TOKENS_KEPT_SECONDS, BatchToken, ProfileStore
from segpixel.profiles.factory import make_profile_store
from segpixel.profiles.redis import RedisProfileStore
from segpixel.profiles.sqlite import SqliteProfileStore
from segpixel.stats import sqlite_log
from segpixel.stats.base import LoadStats
from segpixel.stats.redis import RedisLoadStats
from segpixel.stats.redis_log import FOLD_LOADS, FOLD_LUA, log_key
from segpixel.stats.sqlite import SqliteLoadStats

# The stores' connections live on the session loop (asyncio_default_fixture_loop_scope), so the
# tests that use them must run there too.
pytestmark = pytest.mark.asyncio(loop_scope="session")

REDIS_URL = os.environ.get("SEGPIXEL_TEST_REDIS", "redis://127.0.0.1:6379/0")
RUN_PREFIX = f"sptest:{os.getpid()}:{secrets.token_hex(3)}:"  # every key this run writes
T0 = (int(time.time()) // 60 + 24 * 60) * 60 + 17  # a day ahead, 17 s into a minute
MINUTE, HOUR, DAY = 60, 3600, 86_400
SYNC_KEPT = 7 * DAY
PARTNER_UID_KEPT = 180 * DAY

_uids = itertools.count(1_000)
_prefixes = itertools.count()


def new_uid(big: bool = False) -> int:
    """A user id no other test uses; `big` ones are ≥ 2**63 (unsigned 64-bit, like cookies)."""
    n = next(_uids)
    return 2**64 - n if big else n


# -- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_client() -> Iterator[redis.Redis]:
    """A plain client for the tests' own checks and clean-up; fails when Redis is down."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
        problem = None
    except redis.RedisError as exc:
        problem = str(exc)
    if problem is not None:
        pytest.fail(
            f"Redis is required at {REDIS_URL} and cannot be reached ({problem}). "
            "Start it with scripts/ensure-services.",
            pytrace=False,
        )
    yield client
    delete_prefix(client, RUN_PREFIX)
    client.close()


def delete_prefix(client: redis.Redis, prefix: str) -> None:
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    for start in range(0, len(keys), 500):
        client.delete(*keys[start : start + 500])


@pytest.fixture(params=["sqlite", "redis", "cluster"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ProfileStore]:
    """Each store; "cluster" is Redis Cluster (the session's local cluster, conftest.py: its keys
    go with it, no clean-up)."""
    prefix = f"{RUN_PREFIX}{next(_prefixes)}:"
    made: ProfileStore
    if request.param == "sqlite":
        made = SqliteProfileStore(tmp_path / "profiles.db")
    elif request.param == "cluster":
        url = request.getfixturevalue("redis_cluster")
        made = make_profile_store(url, redis_prefix=prefix, timeout=2.0)  # 5,000-user batches
    else:
        request.getfixturevalue("redis_client")
        made = RedisProfileStore(REDIS_URL, prefix=prefix)
    await made.open()
    yield made
    await made.close()
    if request.param == "redis":
        delete_prefix(request.getfixturevalue("redis_client"), prefix)


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[SqliteProfileStore]:
    made = SqliteProfileStore(tmp_path / "profiles.db")
    await made.open()
    yield made
    await made.close()


# -- the reference, in memory --------------------------------------------------------------------


@dataclass
class Reference:
    """What every store must show: domain.profile applied to plain dicts."""

    memberships: dict[int, dict[int, Membership]] = field(default_factory=dict)
    syncs: dict[int, dict[int, int]] = field(default_factory=dict)
    partner_uids: dict[int, dict[str, tuple[str, int]]] = field(default_factory=dict)

    def apply(self, batch: list[Mutation]) -> None:
        for m in batch:
            state = self.memberships.setdefault(m.user_id, {})
            changed, deleted = apply_mutation(state, m)
            for sid in deleted:
                state.pop(sid, None)
            state.update(changed)
            self.syncs.setdefault(m.user_id, {}).update(dict.fromkeys(m.synced_partners, m.at))
            puids = self.partner_uids.setdefault(m.user_id, {})
            puids.update((partner, (uid, m.at)) for partner, uid in m.partner_uids)

    def read(self, user_id: int, now: float) -> Profile:
        memberships = self.memberships.get(user_id, {})
        return Profile(
            user_id,
            tuple(m for _, m in sorted(memberships.items()) if m.is_active(now)),
            {i: t for i, t in self.syncs.get(user_id, {}).items() if t + SYNC_KEPT > now},
            {
                p: uid
                for p, (uid, t) in self.partner_uids.get(user_id, {}).items()
                if t + PARTNER_UID_KEPT > now
            },
        )


async def add(store: ProfileStore, uid: int, at: int, *adds: Add, **more: object) -> None:
    await store.apply([Mutation(uid, at, adds, **more)])  # type: ignore[arg-type]


async def only(store: ProfileStore, uid: int, now: float) -> Membership:
    profile = await store.read(uid, now)
    assert len(profile.memberships) == 1, profile
    return profile.memberships[0]


# -- the contract --------------------------------------------------------------------------------


async def test_add_then_read(store: ProfileStore) -> None:
    uid = new_uid()
    await add(store, uid, T0, Add(7, T0 + HOUR, 5))

    profile = await store.read(uid, T0 + 1)

    assert profile.user_id == uid
    assert profile.memberships == (Membership(7, T0 + HOUR, 5, T0, T0, 1),)
    assert profile.partner_syncs == {} and profile.partner_uids == {}


async def test_unknown_user_reads_empty(store: ProfileStore) -> None:
    uid = new_uid()
    assert await store.read(uid, T0) == Profile(uid)


@pytest.mark.parametrize("big", [False, True], ids=["small-uid", "uid-over-2**63"])
async def test_user_ids_use_all_64_bits(store: ProfileStore, big: bool) -> None:
    uid, other = new_uid(big), new_uid(big)
    await add(store, uid, T0, Add(1, T0 + HOUR))
    await add(store, other, T0, Add(2, T0 + HOUR))

    assert [m.segment_id for m in (await store.read(uid, T0)).memberships] == [1]
    assert [m.segment_id for m in (await store.read(other, T0)).memberships] == [2]


async def test_readd_extends_expiry_and_never_shortens_it(store: ProfileStore) -> None:
    uid = new_uid()
    await add(store, uid, T0, Add(7, T0 + 2 * HOUR))
    await add(store, uid, T0 + 60, Add(7, T0 + HOUR))  # expires earlier: the later expiry wins
    assert (await only(store, uid, T0 + 61)).expires_at == T0 + 2 * HOUR

    await add(store, uid, T0 + 120, Add(7, T0 + 3 * HOUR))
    m = await only(store, uid, T0 + 121)
    assert (m.expires_at, m.first_added, m.last_added, m.count) == (T0 + 3 * HOUR, T0, T0 + 120, 3)


async def test_value_is_replaced_only_when_given(store: ProfileStore) -> None:
    uid = new_uid()
    await add(store, uid, T0, Add(7, T0 + HOUR, 5))
    await add(store, uid, T0 + 1, Add(7, T0 + HOUR))
    assert (await only(store, uid, T0 + 2)).value == 5

    await add(store, uid, T0 + 2, Add(7, T0 + HOUR, 2_147_483_647))
    assert (await only(store, uid, T0 + 3)).value == 2_147_483_647


async def test_readd_after_expiry_starts_afresh(store: ProfileStore) -> None:
    uid = new_uid()
    await add(store, uid, T0, Add(7, T0 + MINUTE, 5))
    await add(store, uid, T0 + 30, Add(7, T0 + MINUTE))
    await add(store, uid, T0 + 120, Add(7, T0 + 180))

    assert await only(store, uid, T0 + 121) == Membership(7, T0 + 180, None, T0 + 120, T0 + 120, 1)


async def test_recent_adds_kept_at_minute_precision(store: ProfileStore) -> None:
    uid = new_uid()
    times = [T0 + i * 61 for i in range(20)]
    for at in times:
        await add(store, uid, at, Add(7, T0 + DAY))

    m = await only(store, uid, times[-1])

    assert (m.count, m.first_added, m.last_added) == (20, T0, times[-1])
    earlier = list(reversed(times[:-1]))[:RECENT_ADDS_KEPT]
    assert m.recent_adds == tuple(t - t % 60 for t in earlier)
    assert m.adds_since(times[-1]) == 1
    assert m.adds_since(times[-4] - times[-4] % 60) == 4
    assert m.adds_since(T0 - DAY) == RECENT_ADDS_KEPT + 1  # exact only up to what is kept


async def test_recent_adds_keep_old_adds_exactly(store: ProfileStore) -> None:
    # An earlier add more than 65,535 minutes before the last one (Redis: no u16 offset for it).
    uid, long_ago = new_uid(), 70_000 * 60
    await add(store, uid, T0, Add(7, T0 + 170 * DAY))
    await add(store, uid, T0 + 600, Add(7, T0 + 170 * DAY))
    await add(store, uid, T0 + 600 + long_ago, Add(7, T0 + 170 * DAY))

    m = await only(store, uid, T0 + 600 + long_ago)

    assert m.count == 3
    assert m.recent_adds == (T0 + 600 - (T0 + 600) % 60, T0 - T0 % 60)


async def test_add_times_out_of_order_are_kept_exactly(store: ProfileStore) -> None:
    # Two processes' clocks: an add stamped a minute earlier than the one stored before it.
    uid = new_uid()
    reference = Reference()
    for at in (T0 + 50, T0 + 10, T0 + 20, T0 + 200):  # T0 is 17 s into a minute
        batch = [Mutation(uid, at, (Add(7, T0 + DAY),))]
        await store.apply(batch)
        reference.apply(batch)
        assert await store.read(uid, T0 + 200) == reference.read(uid, T0 + 200)

    assert (await only(store, uid, T0 + 200)).count == 4


async def test_text_value_is_kept_replaced_only_when_given_and_dies_with_its_membership(
    store: ProfileStore,
) -> None:
    # SPEC §5.1: a text query-string segment keeps the ad call's text beside the numeric value
    uid = new_uid()
    await add(store, uid, T0, Add(7, T0 + HOUR, None, "ford"), Add(8, T0 + HOUR))
    profile = await store.read(uid, T0)
    assert [(m.segment_id, m.text) for m in profile.memberships] == [(7, "ford"), (8, None)]
    await add(store, uid, T0 + 60, Add(7, T0 + HOUR, 5))  # no text: the kept one stays
    assert (await only_of(store, uid, 7, T0 + 60)).text == "ford"
    await add(store, uid, T0 + 120, Add(7, T0 + HOUR, None, "bmw"))  # a new one replaces it
    assert (await only_of(store, uid, 7, T0 + 120)).text == "bmw"
    await add(store, uid, T0 + 180, removes=(7,))
    await add(store, uid, T0 + 240, Add(7, T0 + HOUR))  # added afresh: no text of the old one
    assert (await only_of(store, uid, 7, T0 + 240)).text is None
    await add(store, uid, T0 + 300, Add(9, T0 + 360, None, "audi"))
    await add(store, uid, T0 + 400, Add(9, T0 + HOUR))  # 9 had expired: starts afresh
    assert (await only_of(store, uid, 9, T0 + 400)).text is None


async def only_of(store: ProfileStore, uid: int, segment_id: int, now: float) -> Membership:
    found = [m for m in (await store.read(uid, now)).memberships if m.segment_id == segment_id]
    assert len(found) == 1, found
    return found[0]


async def test_add_and_remove_in_one_mutation_ends_removed(store: ProfileStore) -> None:
    uid = new_uid()
    await add(store, uid, T0, Add(7, T0 + HOUR), Add(8, T0 + HOUR))
    await add(store, uid, T0 + 1, Add(7, T0 + HOUR), Add(9, T0 + HOUR), removes=(7, 9))

    assert [m.segment_id for m in (await store.read(uid, T0 + 2)).memberships] == [8]


async def test_removing_an_absent_segment_is_harmless(store: ProfileStore) -> None:
    uid = new_uid()
    await store.apply([Mutation(new_uid(), T0, removes=(1, 2))])  # a user we never saw
    await add(store, uid, T0, Add(7, T0 + HOUR))
    await store.apply([Mutation(uid, T0 + 1, removes=(99,))])

    assert [m.segment_id for m in (await store.read(uid, T0 + 2)).memberships] == [7]


async def test_expired_memberships_are_never_returned(store: ProfileStore) -> None:
    uid = new_uid()
    await add(store, uid, T0, Add(7, T0 + MINUTE), Add(8, T0 + HOUR))

    assert len((await store.read(uid, T0 + MINUTE - 1)).memberships) == 2
    assert [m.segment_id for m in (await store.read(uid, T0 + MINUTE)).memberships] == [8]
    assert (await store.read(uid, T0 + HOUR)).memberships == ()


async def test_a_write_prunes_expired_memberships(store: ProfileStore) -> None:
    uid = new_uid()
    await add(store, uid, T0, Add(7, T0 + MINUTE))
    await add(store, uid, T0 + HOUR, Add(8, T0 + 2 * HOUR))

    # Read "in the past": the pruned membership is gone from storage, not just filtered out.
    assert [m.segment_id for m in (await store.read(uid, T0)).memberships] == [8]


async def test_delete_user(store: ProfileStore) -> None:
    uid, other = new_uid(), new_uid()
    for user in (uid, other):
        await add(
            store, user, T0, Add(7, T0 + HOUR), synced_partners=(3,), partner_uids=(("ttd", "x"),)
        )

    await store.delete_user(uid)
    await store.delete_user(new_uid())  # unknown: nothing to do

    assert await store.read(uid, T0) == Profile(uid)
    assert len((await store.read(other, T0)).memberships) == 1


async def test_partner_syncs_and_partner_ids(store: ProfileStore) -> None:
    uid = new_uid()
    await store.apply(
        [
            Mutation(uid, T0, synced_partners=(3, 4), partner_uids=(("ttd", "abc-1"),)),
            Mutation(uid, T0 + 10, partner_uids=(("adx", "ü/é 2"), ("ttd", "abc-2"))),
        ]
    )
    await store.apply([Mutation(uid, T0 + DAY, synced_partners=(4,))])

    profile = await store.read(uid, T0 + DAY)
    assert profile.memberships == ()
    assert profile.partner_syncs == {3: T0, 4: T0 + DAY}
    assert profile.partner_uids == {"ttd": "abc-2", "adx": "ü/é 2"}
    # A sync is remembered for 7 days (SPEC §4.3), a partner id for 180.
    assert (await store.read(uid, T0 + SYNC_KEPT)).partner_syncs == {4: T0 + DAY}
    assert (await store.read(uid, T0 + 10 + PARTNER_UID_KEPT)).partner_uids == {}


async def test_many_users_in_one_batch(store: ProfileStore) -> None:
    users = [new_uid(big=i % 2 == 1) for i in range(300)]
    batch = [
        Mutation(uid, T0, (Add(i % 7 + 1, T0 + HOUR, i + 1), Add(100, T0 + DAY)))
        for i, uid in enumerate(users)
    ]
    await store.apply(batch)

    for i, uid in enumerate(users):
        profile = await store.read(uid, T0 + 1)
        assert [(m.segment_id, m.value) for m in profile.memberships] == [
            (i % 7 + 1, i + 1),
            (100, None),
        ]


async def test_the_same_user_twice_in_one_batch_is_applied_in_order(store: ProfileStore) -> None:
    uid = new_uid()
    await store.apply(
        [
            Mutation(uid, T0, (Add(7, T0 + HOUR, 1), Add(8, T0 + HOUR))),
            Mutation(uid, T0 + 1, (Add(7, T0 + HOUR, 2),), removes=(8,)),
            Mutation(uid, T0 + 2, (Add(8, T0 + HOUR),)),
        ]
    )

    profile = await store.read(uid, T0 + 3)
    assert [(m.segment_id, m.value, m.count) for m in profile.memberships] == [
        (7, 2, 2),
        (8, None, 1),
    ]
    assert profile.memberships[1].first_added == T0 + 2


async def test_reclaim_never_touches_active_memberships(store: ProfileStore) -> None:
    uid = new_uid()
    await add(store, uid, T0, Add(7, T0 + HOUR))

    assert await store.reclaim(T0 + 1, 1_000) >= 0
    assert len((await store.read(uid, T0 + 1)).memberships) == 1


async def test_ping(store: ProfileStore) -> None:
    await store.ping()


# -- the property: every store equals the reference ----------------------------------------------

_add = st.builds(
    Add,
    segment_id=st.integers(1, 4),
    expires_at=st.sampled_from([MINUTE, HOUR, DAY, 170 * DAY]),  # an offset from `at`
    value=st.none() | st.integers(1, 2**31 - 1),
    text=st.none() | st.sampled_from(["ford", "bmw", "über", "x" * 60]),  # SPEC §5.1
)
_mutation = st.fixed_dictionaries(
    {
        "user": st.integers(0, 1),
        "adds": st.lists(_add, max_size=3),
        "removes": st.lists(st.integers(1, 4), max_size=2),
        "syncs": st.lists(st.integers(1, 3), max_size=2),
        "partner_uids": st.lists(
            st.tuples(st.sampled_from(["ttd", "adx", "ünï"]), st.text(min_size=1, max_size=12)),
            max_size=1,
        ),
    }
)
_steps = st.lists(
    st.tuples(
        # Gaps between batches; a negative one is another process's clock, a little behind.
        st.sampled_from([0, 1, 59, 61, HOUR, DAY, 8 * DAY, 70_000 * 60, -1, -61]),
        st.lists(_mutation, min_size=1, max_size=3),  # one batch; a user may appear twice
    ),
    min_size=1,
    max_size=10,
)


@settings(
    max_examples=50,
    deadline=None,
    # The store is shared by the examples; each example uses users of its own.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=_steps)
async def test_every_store_equals_the_reference(store: ProfileStore, steps: list) -> None:
    users = (new_uid(), new_uid(big=True))
    reference = Reference()
    at = latest = T0
    for gap, mutations in steps:
        at += gap
        latest = max(latest, at)
        batch = [
            Mutation(
                users[m["user"]],
                at,
                tuple(Add(a.segment_id, at + a.expires_at, a.value, a.text) for a in m["adds"]),
                tuple(m["removes"]),
                tuple(m["syncs"]),
                tuple(m["partner_uids"]),
            )
            for m in mutations
        ]
        await store.apply(batch)
        reference.apply(batch)
        for uid in users:
            # Reads look from the latest time on: a store may forget what expired by then.
            for now in (latest, latest + HOUR):
                assert await store.read(uid, now) == reference.read(uid, now)


# -- load counting: what the batches above count (SPEC §8), read back through the stats reader ----


def reader_for(store: ProfileStore) -> LoadStats:
    """The load counters' reader of the same backend, on the same file / key prefix."""
    if isinstance(store, SqliteProfileStore):
        return SqliteLoadStats(store.path)
    assert isinstance(store, RedisProfileStore)  # or RedisClusterProfileStore, a subclass
    return RedisLoadStats(store.url, prefix=store.prefix)


@pytest.fixture
async def stats(store: ProfileStore) -> AsyncIterator[LoadStats]:
    made = reader_for(store)
    await made.open()
    yield made
    await made.close()


def month_after(epoch: int) -> int:
    """00:00 UTC on the first day of the month after the one `epoch` falls in."""
    d = utc_day(epoch)
    return day_start(d.replace(year=d.year + d.month // 12, month=d.month % 12 + 1, day=1))


D0 = utc_day(T0)
_segments = itertools.count(100)  # counters are per segment: each hypothesis example its own


async def test_loads_are_counted_by_segment_day_and_source(
    store: ProfileStore, stats: LoadStats
) -> None:
    u1, u2, u3, u4 = (new_uid(big=i % 2 == 1) for i in range(4))
    await store.apply(
        [
            Mutation(u1, T0, (Add(7, T0 + HOUR), Add(8, T0 + HOUR))),  # source "pixel"
            Mutation(u2, T0 + 1, (Add(7, T0 + HOUR),), source="querystring"),
            Mutation(u1, T0 + 2, (Add(7, T0 + HOUR),), source="creative"),
            Mutation(u3, T0 + 3, (Add(7, T0 + HOUR),), source="mapuid"),
            Mutation(u2, T0 + 4, (Add(7, T0 + HOUR),), source="batch"),
            # expire_minutes 0: a load of this call only, never stored
            Mutation(u4, T0 + 5, source="querystring", call_only=(7,)),
        ]
    )

    facts = await stats.facts([7, 8, 9], D0, D0, daily_uniques=True, monthly_uniques=True)

    day, month = day_number(D0), month_number(D0)
    assert facts.loads == {
        (7, day, "pixel"): 1,
        (7, day, "querystring"): 2,
        (7, day, "creative"): 1,
        (7, day, "mapuid"): 1,
        (7, day, "batch"): 1,
        (8, day, "pixel"): 1,
    }
    assert facts.daily_uniques == {(7, day): 4, (8, day): 1}
    assert facts.monthly_uniques == {(7, month): 4, (8, month): 1}
    assert (await stats.facts([7], D0, D0)).daily_uniques == {}  # only when asked for


async def test_removes_and_writes_without_adds_are_not_loads(
    store: ProfileStore, stats: LoadStats
) -> None:
    uid = new_uid()
    await add(store, uid, T0, Add(7, T0 + HOUR))
    await store.apply(
        [
            Mutation(uid, T0 + 1, removes=(7,)),
            Mutation(uid, T0 + 2, synced_partners=(3,)),
            Mutation(uid, T0 + 3, partner_uids=(("ttd", "x"),)),
        ]
    )

    facts = await stats.facts([7], D0, D0, daily_uniques=True)

    assert facts.loads == {(7, day_number(D0), "pixel"): 1}
    assert facts.daily_uniques == {(7, day_number(D0)): 1}


async def test_days_and_months_are_utc(store: ProfileStore, stats: LoadStats) -> None:
    boundary = month_after(T0)  # 00:00:00 UTC on the 1st of a month
    u1, u2 = new_uid(), new_uid()
    await store.apply(
        [
            Mutation(u1, boundary - 1, (Add(7, boundary + DAY),)),  # 23:59:59, month's last day
            Mutation(u2, boundary - 1, (Add(7, boundary + DAY),)),
            Mutation(u1, boundary, (Add(7, boundary + DAY),)),  # 00:00:00, the next month
        ]
    )
    last, first = utc_day(boundary - 1), utc_day(boundary)

    facts = await stats.facts([7], last, first, daily_uniques=True, monthly_uniques=True)

    assert facts.loads == {(7, day_number(last), "pixel"): 2, (7, day_number(first), "pixel"): 1}
    assert facts.daily_uniques == {(7, day_number(last)): 2, (7, day_number(first)): 1}
    assert facts.monthly_uniques == {(7, month_number(last)): 2, (7, month_number(first)): 1}
    only_first = await stats.facts([7], first, first, monthly_uniques=True)
    assert only_first.loads == {(7, day_number(first), "pixel"): 1}
    assert only_first.monthly_uniques == {(7, month_number(first)): 1}


async def test_quick_stats_count_the_last_24_hours_by_the_hour(
    store: ProfileStore, stats: LoadStats
) -> None:
    now = day_start(utc_day(T0 + DAY)) + 10 * HOUR + 30 * MINUTE
    start = active_window_start(now)  # 10:00 yesterday
    assert start == now - 24 * HOUR - 30 * MINUTE
    before, at_start, today = new_uid(), new_uid(), new_uid()
    await store.apply(
        [
            Mutation(before, start - 1, (Add(7, now + DAY),)),  # 09:59:59 yesterday: too early
            Mutation(at_start, start, (Add(7, now + DAY),), source="batch"),
            Mutation(today, now, (Add(7, now + DAY),)),
            Mutation(today, now, call_only=(8,)),
        ]
    )

    quick = await stats.quick([7, 8, 9], now)

    assert (quick[7].active_users_24h, quick[7].loads_today, quick[7].loads_yesterday) == (2, 1, 2)
    assert (quick[8].active_users_24h, quick[8].loads_today, quick[8].loads_yesterday) == (1, 1, 0)
    assert (quick[9].active_users_24h, quick[9].loads_today, quick[9].loads_yesterday) == (0, 0, 0)


async def test_uniques_of_100k_users(store: ProfileStore, stats: LoadStats) -> None:
    """Exact on SQLite; HyperLogLog on Redis, within 2% (its standard error is 0.81%). The ids
    are fixed, and Redis's hash is too, so the estimate is the same on every run."""
    users = [0x9E3779B97F4A7C15 * (i + 1) % 2**64 or 1 for i in range(100_000)]
    # Batches of 1,000, the group commit's cap: a 10,000-user script call can outlast the store's
    # 0.25 s timeout on a busy machine.
    for start in range(0, len(users), 1_000):
        chunk = users[start : start + 1_000]
        await store.apply([Mutation(u, T0, (Add(7, T0 + HOUR),), source="batch") for u in chunk])
    for start in range(0, 10_000, 1_000):
        chunk = users[start : start + 1_000]
        await store.apply([Mutation(u, T0 + 60, (Add(7, T0 + HOUR),)) for u in chunk])

    facts = await stats.facts([7], D0, D0, daily_uniques=True, monthly_uniques=True)
    quick = (await stats.quick([7], T0 + 120))[7]

    day = day_number(D0)
    assert facts.loads == {(7, day, "batch"): 100_000, (7, day, "pixel"): 10_000}
    estimates = {
        "daily": facts.daily_uniques[(7, day)],
        "monthly": facts.monthly_uniques[(7, month_number(D0))],
        "active_users_24h": quick.active_users_24h,
    }
    print(f"\n{store.name}: 100,000 distinct users counted as {estimates}")
    for n in estimates.values():
        if store.name == "sqlite":
            assert n == 100_000
        else:
            assert abs(n - 100_000) <= 2_000


_load = st.fixed_dictionaries(
    {
        "user": st.integers(0, 3),
        "at": st.sampled_from([0, 1, HOUR, DAY - 1, DAY, 40 * DAY]),  # after a day / month start
        "adds": st.lists(st.integers(0, 2), max_size=3),
        "call_only": st.lists(st.integers(0, 2), max_size=1),
        "removes": st.lists(st.integers(0, 2), max_size=1),
        "source": st.sampled_from(SOURCES),
    }
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(batches=st.lists(st.lists(_load, min_size=1, max_size=6), min_size=1, max_size=4))
async def test_load_counts_equal_the_reference(
    store: ProfileStore, stats: LoadStats, batches: list
) -> None:
    """Small inputs: loads and uniques exact on both stores (HyperLogLog is exact this small)."""
    base = month_after(T0) - DAY  # the last day of a month: `at` crosses a day and a month
    segments = [next(_segments) for _ in range(3)]
    users = [new_uid(big=i % 2 == 0) for i in range(4)]
    loads: dict[tuple[int, int, str], int] = {}
    daily: dict[tuple[int, int], set[int]] = {}
    monthly: dict[tuple[int, int], set[int]] = {}
    for batch in batches:
        mutations = []
        for m in batch:
            at = base + m["at"]
            adds = tuple(Add(segments[i], at + DAY) for i in dict.fromkeys(m["adds"]))
            call_only = tuple(segments[i] for i in m["call_only"])
            removes = tuple(segments[i] for i in m["removes"])
            uid = users[m["user"]]
            mutations.append(
                Mutation(uid, at, adds, removes, source=m["source"], call_only=call_only)
            )
            day = day_number(utc_day(at))
            for sid in (*(a.segment_id for a in adds), *call_only):
                key = (sid, day, m["source"])
                loads[key] = loads.get(key, 0) + 1
                daily.setdefault((sid, day), set()).add(uid)
                monthly.setdefault((sid, day // 100), set()).add(uid)
        await store.apply(mutations)

    facts = await stats.facts(
        segments, utc_day(base), utc_day(base + 40 * DAY), daily_uniques=True, monthly_uniques=True
    )

    assert facts.loads == loads
    assert facts.daily_uniques == {k: len(v) for k, v in daily.items()}
    assert facts.monthly_uniques == {k: len(v) for k, v in monthly.items()}


async def test_folds_running_at_once_count_each_load_once(
    store: ProfileStore, stats: LoadStats
) -> None:
    """Loads are logged with the batch and folded later, by whoever reads or the store's own
    loop: several folding at once still count each load once."""
    users = [new_uid() for _ in range(400)]
    for start in range(0, len(users), 20):  # 20 batches, as the group commit makes them
        await store.apply(
            [Mutation(u, T0, (Add(7, T0 + HOUR),)) for u in users[start : start + 20]]
        )
    other = reader_for(store)
    await other.open()
    try:
        both = await asyncio.gather(
            stats.facts([7], D0, D0, daily_uniques=True),
            other.facts([7], D0, D0, daily_uniques=True),
        )
    finally:
        await other.close()

    for facts in both:
        assert facts.loads == {(7, day_number(D0), "pixel"): 400}  # counts are exact on both
        uniques = facts.daily_uniques[(7, day_number(D0))]
        assert uniques == 400 if store.name == "sqlite" else abs(uniques - 400) <= 8


async def test_a_replayed_batch_is_applied_and_counted_once(
    store: ProfileStore, stats: LoadStats
) -> None:
    """A batch replayed from the journal a second time (a reply lost in the network; a worker
    killed mid-replay) is applied no second time: its token makes every store skip it, profile
    and loads alike. A later batch of the same writer, and any batch of another writer, apply."""
    uid = new_uid()
    sid = next(_segments)
    batch = [Mutation(uid, T0, (Add(sid, T0 + HOUR),))]
    await store.apply(batch, BatchToken("replayer", 1))
    await store.apply(batch, BatchToken("replayer", 1))
    once = await store.read(uid, T0)
    await store.apply([Mutation(uid, T0 + 1, (Add(sid, T0 + HOUR),))], BatchToken("replayer", 2))
    await store.apply(batch, BatchToken("replayer", 2))  # replayed again: below the mark
    await store.apply(batch, BatchToken("another writer", 1))
    facts = await stats.facts([sid], D0, D0, daily_uniques=True)

    assert [m.count for m in once.memberships] == [1]
    assert [m.count for m in (await store.read(uid, T0 + 2)).memberships] == [3]
    assert facts.loads == {(sid, day_number(D0), "pixel"): 3}
    assert facts.daily_uniques == {(sid, day_number(D0)): 1}


async def test_sqlite_forgets_tokens_after_they_are_kept(sqlite_store: SqliteProfileStore) -> None:
    """A writer's mark lives TOKENS_KEPT_SECONDS after its last batch (as a Redis marker's TTL),
    then the upkeep sweep drops it; a live writer's mark stays."""
    await sqlite_store.apply([Mutation(new_uid(), T0, (Add(7, T0 + HOUR),))], BatchToken("old", 1))
    await sqlite_store.apply([Mutation(new_uid(), T0, (Add(7, T0 + HOUR),))], BatchToken("new", 1))
    with closing(sqlite3.connect(sqlite_store.path)) as conn, conn:
        conn.execute(
            "UPDATE applied_batches SET applied_at = applied_at - ? WHERE writer = 'old'",
            (TOKENS_KEPT_SECONDS + 1,),
        )
    await sqlite_store.reclaim(time.time(), 1000)
    with closing(sqlite3.connect(sqlite_store.path)) as conn:
        writers = [w for (w,) in conn.execute("SELECT writer FROM applied_batches")]
    assert writers == ["new"]


async def test_redis_folds_a_big_entry_in_slices(redis_client: redis.Redis) -> None:
    """One batch that loads many segments is one log entry; a fold call takes only its budget
    of it (Redis must not stall pixels for a long script) and pushes the rest back, and the
    slices add up to exact counts."""
    prefix = f"{RUN_PREFIX}{next(_prefixes)}:"
    store, stats = RedisProfileStore(REDIS_URL, prefix=prefix), RedisLoadStats(REDIS_URL, prefix)
    await store.open()
    await stats.open()
    segments = range(1000, 1300)  # 300 groups: more than one call's budget
    batch = [Mutation(new_uid(), T0, (Add(sid, T0 + HOUR),)) for sid in segments]
    fold = redis_client.register_script(FOLD_LUA)
    try:
        await store.apply(batch)
        left = fold(keys=[log_key(prefix)], args=[FOLD_LOADS, prefix])
        assert left == 1, "the rest of the entry goes back on the log"
        rest = redis_client.lindex(log_key(prefix), 0).decode()
        assert 0 < rest.count(";") + 1 < len(segments)
        facts = await stats.facts(list(segments), D0, D0)
    finally:
        await store.close()
        await stats.close()
        delete_prefix(redis_client, prefix)

    assert facts.loads == {(sid, day_number(D0), "pixel"): 1 for sid in segments}


# -- SQLite only: reclaim, several writers on one file, errors -----------------------------------


def rows(path: Path, table: str) -> int:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


async def test_sqlite_reclaim_deletes_expired_rows_up_to_the_limit(
    sqlite_store: SqliteProfileStore,
) -> None:
    expired = [new_uid() for _ in range(5)]
    kept = new_uid()
    await sqlite_store.apply(
        [Mutation(uid, T0, (Add(7, T0 + MINUTE),), synced_partners=(1,)) for uid in expired]
        + [Mutation(kept, T0, (Add(7, T0 + HOUR),))]
    )

    assert await sqlite_store.reclaim(T0 + 2 * MINUTE, 2) == 2
    assert await sqlite_store.reclaim(T0 + 2 * MINUTE, 100) == 3
    assert await sqlite_store.reclaim(T0 + 2 * MINUTE, 100) == 0
    assert rows(sqlite_store.path, "memberships") == 1
    assert rows(sqlite_store.path, "partner_syncs") == 5
    assert len((await sqlite_store.read(kept, T0 + 2 * MINUTE)).memberships) == 1

    await sqlite_store.reclaim(T0 + SYNC_KEPT, 100)  # a sync is forgotten after 7 days
    assert rows(sqlite_store.path, "partner_syncs") == 0


async def test_sqlite_sweep_walks_the_table_in_windows_and_wraps_around(
    sqlite_store: SqliteProfileStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Windows of 3 rows, at most 2 windows a call: a call sees 6 rows, so 20 users (big and
    # small ids: negative and positive keys in SQLite) take several calls, each going on from
    # where the last stopped; then the sweep starts over at the top of the table.
    monkeypatch.setattr(sqlite_backend, "SWEEP_WINDOW", 3)
    monkeypatch.setattr(sqlite_backend, "SWEEP_WINDOWS", 2)
    monkeypatch.setattr(sqlite_backend, "SWEEP_PAUSE", 0)
    users = [new_uid(big=i % 2 == 0) for i in range(20)]
    expired = set(users[::3])
    await sqlite_store.apply(
        [Mutation(u, T0, (Add(7, T0 + (MINUTE if u in expired else HOUR)),)) for u in users]
    )
    now = T0 + 2 * MINUTE

    swept = [await sqlite_store.reclaim(now, 1_000) for _ in range(5)]

    assert sum(swept) == len(expired)
    assert max(swept) < len(expired)  # no call walked the whole table
    assert rows(sqlite_store.path, "memberships") == len(users) - len(expired)
    for u in users:
        assert len((await sqlite_store.read(u, now)).memberships) == (u not in expired)
    later = [new_uid() for _ in range(2)]  # expire after the sweep passed: found next round
    await sqlite_store.apply([Mutation(u, T0, (Add(8, T0 + MINUTE),)) for u in later])
    assert sum([await sqlite_store.reclaim(now, 1_000) for _ in range(5)]) == 2


async def test_sqlite_sweep_window_follows_how_long_it_held_the_write_lock() -> None:
    window, hold = sqlite_backend.SWEEP_WINDOW, sqlite_backend.SWEEP_HOLD_S
    assert sqlite_backend._next_window(window, hold * 14) == window // 2  # a wave of expiries
    assert sqlite_backend._next_window(window // 2, hold * 0.4) == window  # quick again
    assert sqlite_backend._next_window(window, hold * 0.1) == window  # never past the cap
    assert sqlite_backend._next_window(window // 4, hold * 0.8) == window // 4  # about right
    shrunk = window
    for _ in range(20):
        shrunk = sqlite_backend._next_window(shrunk, hold * 100)
    assert shrunk == sqlite_backend.SWEEP_MIN_WINDOW  # it still moves on, a little at a time


SCHEMA_2_MEMBERSHIPS = """
CREATE TABLE memberships (
    uid INTEGER NOT NULL, segment_id INTEGER NOT NULL, expires_at INTEGER NOT NULL,
    value INTEGER, first_added INTEGER NOT NULL, last_added INTEGER NOT NULL,
    count INTEGER NOT NULL, recent TEXT, PRIMARY KEY (uid, segment_id)
) WITHOUT ROWID;
"""


async def test_sqlite_upgrade_from_schema_2_drops_the_expiry_index(tmp_path: Path) -> None:
    path = tmp_path / "profiles.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript(SCHEMA_2_MEMBERSHIPS)  # before version 4's text column
        conn.execute("CREATE INDEX memberships_expires_at ON memberships (expires_at)")
        conn.execute(
            "INSERT INTO memberships VALUES (5, 7, ?, NULL, ?, ?, 1, NULL)", (T0 + DAY, T0, T0)
        )
        conn.execute("PRAGMA user_version = 2")
        conn.commit()
    s = SqliteProfileStore(path)
    await s.open()
    try:
        assert [m.segment_id for m in (await s.read(5, T0)).memberships] == [7]
        await add(s, 5, T0, Add(7, T0 + DAY, None, "ford"))  # version 4: the text column
        assert (await only(s, 5, T0)).text == "ford"
    finally:
        await s.close()
    with closing(sqlite3.connect(path)) as conn:
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_schema WHERE type='index'")}
        assert "memberships_expires_at" not in indexes
        assert conn.execute("PRAGMA user_version").fetchone()[0] == sqlite_backend.SCHEMA_VERSION


async def test_sqlite_writer_trims_the_folded_load_log_a_slice_per_batch(
    sqlite_store: SqliteProfileStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_log, "TRIM_CHUNK", 2)
    for _ in range(5):
        await add(sqlite_store, new_uid(), T0, Add(7, T0 + HOUR))
    assert rows(sqlite_store.path, "load_log") == 5
    sqlite_store._checkpoint()  # what the upkeep thread does every second: fold, note the mark

    left = []
    for _ in range(3):  # each batch logs its row and deletes 2 folded ones, never the last
        await add(sqlite_store, new_uid(), T0, Add(8, T0 + HOUR))
        left.append(rows(sqlite_store.path, "load_log"))

    assert left == [4, 3, 4]  # 5+1-2, 4+1-2, then only the last folded row + 3 new ones
    sqlite_store._checkpoint()
    with closing(sqlite3.connect(sqlite_log.counters_path(sqlite_store.path))) as conn:
        assert conn.execute("SELECT sum(loads) FROM load_counts").fetchone()[0] == 8  # none lost


async def test_two_sqlite_stores_on_one_file_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    stores = [SqliteProfileStore(path), SqliteProfileStore(path)]
    for s in stores:
        await s.open()
    users = [new_uid() for _ in range(100)]
    rounds = 40

    async def write(s: SqliteProfileStore, segment: int) -> None:
        for r in range(rounds):
            at = T0 + r
            # Both add segment 1 to every user (counts must add up) and one segment of their own.
            await s.apply(
                [Mutation(u, at, (Add(1, T0 + DAY), Add(segment, T0 + DAY))) for u in users]
            )

    await asyncio.gather(write(stores[0], 2), write(stores[1], 3))

    for uid in users:
        counts = {
            m.segment_id: m.count for m in (await stores[0].read(uid, T0 + rounds)).memberships
        }
        assert counts == {1: 2 * rounds, 2: rounds, 3: rounds}
    for s in stores:
        await s.close()


async def test_sqlite_lock_timeout_is_store_unavailable(sqlite_store: SqliteProfileStore) -> None:
    other = sqlite3.connect(sqlite_store.path, isolation_level=None)
    other.execute("PRAGMA busy_timeout = 0")
    await sqlite_store.close()
    sqlite_store.busy_timeout_ms = 50
    await sqlite_store.open()
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        with pytest.raises(StoreUnavailable, match="locked"):
            await add(sqlite_store, new_uid(), T0, Add(7, T0 + HOUR))
    finally:
        other.execute("ROLLBACK")
        other.close()
    await add(sqlite_store, uid := new_uid(), T0, Add(7, T0 + HOUR))  # usable again
    assert len((await sqlite_store.read(uid, T0)).memberships) == 1


async def test_sqlite_refuses_a_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "profiles.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.execute(f"PRAGMA user_version = {sqlite_backend.SCHEMA_VERSION + 1}")
    s = SqliteProfileStore(path)
    with pytest.raises(StoreUnavailable, match="newer"):
        await s.open()
    await s.close()


# -- Redis only: memory, a restart's empty script cache, a server that is down -------------------


@pytest.mark.parametrize("value", [None, 123_456], ids=["no-value", "with-value"])
async def test_redis_memory_per_user(redis_client: redis.Redis, value: int | None) -> None:
    # A short prefix: keys of 13–28 bytes cost the same, so this measures what "sp:" costs.
    prefix = f"t{secrets.token_hex(2)}:"
    s = RedisProfileStore(REDIS_URL, prefix=prefix)
    await s.open()
    rng = secrets.SystemRandom()
    users = [rng.getrandbits(64) for _ in range(1_000)]
    try:
        await s.apply(
            [
                Mutation(u, T0, tuple(Add(sid, T0 + 30 * DAY, value) for sid in segments))
                for u in users
                for segments in [rng.sample(range(1, 50_000), 5)]
            ]
        )
        sizes = [redis_client.memory_usage(s.key(u), samples=0) for u in users]
    finally:
        await s.close()
        delete_prefix(redis_client, prefix)
    per_user = sum(sizes) / len(sizes)
    print(f"\nRedis MEMORY USAGE, 5 segments (value {value}): {per_user:.1f} bytes per user")
    assert per_user <= 200


async def test_redis_user_hash_stays_a_compact_listpack(redis_client: redis.Redis) -> None:
    # Redis turns a hash into a 3–4 times larger hash table, for good, once one value exceeds
    # hash-max-listpack-value (64 bytes): the fullest membership record must stay under it.
    prefix = f"{RUN_PREFIX}{next(_prefixes)}:"
    s = RedisProfileStore(REDIS_URL, prefix=prefix)
    await s.open()
    uid = new_uid()
    try:
        for i in range(30):
            at = T0 + i * 61
            await add(s, uid, at, Add(7, T0 + DAY, 5), *(Add(sid, T0 + DAY) for sid in (1, 2, 3)))
        records = redis_client.hgetall(s.key(uid))
        encoding = redis_client.object("encoding", s.key(uid))
    finally:
        await s.close()
        delete_prefix(redis_client, prefix)
    assert len(records) == 4
    assert max(len(v) for v in records.values()) == 20 + 2 * RECENT_ADDS_KEPT
    assert encoding == b"listpack"


async def test_redis_text_values_keep_the_hash_a_compact_listpack(
    redis_client: redis.Redis,
) -> None:
    # a text value is a field of its own (`t<segment>`), at most 60 bytes: still a listpack
    prefix = f"{RUN_PREFIX}{next(_prefixes)}:"
    s = RedisProfileStore(REDIS_URL, prefix=prefix)
    await s.open()
    uid = new_uid()
    try:
        for i in range(20):
            await add(s, uid, T0 + i * 61, Add(7, T0 + DAY, None, "x" * 60), Add(8, T0 + DAY, 3))
        records = redis_client.hgetall(s.key(uid))
        encoding = redis_client.object("encoding", s.key(uid))
    finally:
        await s.close()
        delete_prefix(redis_client, prefix)
    assert records[b"t7"] == b"x" * 60 and b"t8" not in records
    assert encoding == b"listpack"


async def test_redis_reloads_a_script_the_server_forgot(redis_client: redis.Redis) -> None:
    prefix = f"{RUN_PREFIX}{next(_prefixes)}:"
    s = RedisProfileStore(REDIS_URL, prefix=prefix)
    await s.open()
    # What a restart looks like from here: the SHA we hold is unknown to the server. (SCRIPT
    # FLUSH would do the same, but to every other user of this shared server too.)
    s._sha = "0" * 40
    uid = new_uid()
    try:
        await add(s, uid, T0, Add(7, T0 + HOUR))
        assert len((await s.read(uid, T0)).memberships) == 1
    finally:
        await s.close()
        delete_prefix(redis_client, prefix)


async def test_redis_down_is_store_unavailable_not_a_hang() -> None:
    s = RedisProfileStore("redis://127.0.0.1:1/0", timeout=0.25)
    async with asyncio.timeout(5):  # the store must give up well before this
        with pytest.raises(StoreUnavailable, match=r"127\.0\.0\.1:1"):
            await s.open()
        with pytest.raises(StoreUnavailable):
            await add(s, new_uid(), T0, Add(7, T0 + HOUR))
        with pytest.raises(StoreUnavailable):
            await s.read(new_uid(), T0)
        with pytest.raises(StoreUnavailable):
            await s.ping()
    await s.close()


# -- the factory ---------------------------------------------------------------------------------


async def test_factory_makes_each_store(tmp_path: Path) -> None:
    made = make_profile_store(f"sqlite:///{tmp_path / 'p.db'}", sqlite_synchronous="FULL")
    assert isinstance(made, SqliteProfileStore)
    assert (made.path, made.synchronous) == (tmp_path / "p.db", "FULL")
    made = make_profile_store("redis://127.0.0.1:6379/0", redis_prefix="x:", timeout=0.5)
    assert isinstance(made, RedisProfileStore) and (made.prefix, made.timeout) == ("x:", 0.5)


@pytest.mark.parametrize("url", ["postgresql://u:secret@h/db", "sqlite://", "memory", ""])
async def test_factory_names_the_setting_for_other_urls(url: str) -> None:
    with pytest.raises(ValueError, match="SEGPIXEL_PROFILE_URL") as info:
        make_profile_store(url)
    assert "secret" not in str(info.value)
