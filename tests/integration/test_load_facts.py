"""Load facts at a report's grain, on every store (SPEC §8): what a store sums for a report equals
the counters as kept, summed by the reference (`LoadFacts.summed`), row for row and in order; and
Redis's kept daily counts of past months are used, and forgotten when a fold changes their day.

The stores and their readers are test_profile_stores.py's fixtures (SQLite, Redis, Redis Cluster).
"""

from __future__ import annotations

import itertools
import time
from datetime import date, timedelta

import pytest
import redis

from segpixel.domain.loads import (
    PERIODS,
    SOURCES,
    Grain,
    day_number,
    day_start,
    month_number,
    utc_day,
)
from segpixel.domain.profile import Add, Mutation
from segpixel.profiles.base import ProfileStore
from segpixel.stats.base import LoadStats
from segpixel.stats.redis import segment_key
from segpixel.stats.redis_log import DAILY_KEPT
from tests.integration import test_profile_stores as stores
from tests.integration.test_profile_stores import DAY, HOUR, T0, month_after, new_uid

# the stores and their readers: test_profile_stores.py's fixtures
store, stats, redis_client = stores.store, stores.stats, stores.redis_client

pytestmark = pytest.mark.asyncio(loop_scope="session")

_segments = itertools.count(5_000)  # counters are per segment: each test its own
GRAINS = [Grain(period, by_source) for period in PERIODS for by_source in (False, True)]


async def test_facts_at_every_grain_equal_the_counters_summed(
    store: ProfileStore, stats: LoadStats
) -> None:
    """Two months and a bit of loads from several sources and users, for three segments (one
    loading every third day only); read over a range that cuts a month at each end."""
    start = month_after(T0) - 4 * DAY + 9 * HOUR  # four days before a month's end
    segments = [next(_segments) for _ in range(3)]
    users = [new_uid(big=n % 2 == 0) for n in range(5)]
    for n in range(40):
        at, batch = start + n * DAY, []
        for k, sid in enumerate(segments):
            if k == 2 and n % 3:
                continue
            for u in users[: 1 + (n + k) % len(users)]:
                source = SOURCES[(n + k + u) % len(SOURCES)]
                batch.append(Mutation(u, at + k, (Add(sid, at + DAY),), source=source))
        await store.apply(batch)
    first, last = utc_day(start + 2 * DAY), utc_day(start + 36 * DAY)
    kept = await stats.facts(segments, first, last, daily_uniques=True, monthly_uniques=True)
    assert len(kept) > 80 and len(kept.monthly_uniques) == 9  # (the data is what we meant)

    for grain in GRAINS:
        for daily, monthly in ((False, False), (True, False), (True, True), (False, True)):
            if monthly and grain.period == "range":
                continue
            for uniques_last in (None, utc_day(start + 20 * DAY), utc_day(start)):
                got = await stats.facts(
                    segments,
                    first,
                    last,
                    daily_uniques=daily,
                    monthly_uniques=monthly,
                    grain=grain,
                    uniques_last=uniques_last,
                )
                want = kept.summed(grain, day_number(uniques_last or last))
                case = f"{grain} daily={daily} monthly={monthly} uniques to {uniques_last}"
                assert got.grain == grain, case
                assert (got.segment_ids, got.periods, got.sources, got.totals) == (
                    want.segment_ids,
                    want.periods,
                    want.sources,
                    want.totals,
                ), case  # the same rows, in (segment, period, source) order
                assert got.day_users == (want.day_users if daily else None), case
                assert got.month_users == (want.month_users if monthly else None), case


async def test_many_segments_read_together_as_each_alone(
    store: ProfileStore, stats: LoadStats
) -> None:
    """Redis reads segments a few per round trip (stats/redis.py SLICE): twelve segments, each
    with its own number of users, read together answer as each read alone."""
    segments = [next(_segments) for _ in range(12)]
    now = int(time.time())
    at, expires = now - 60, now + DAY
    await store.apply(
        [Mutation(new_uid(), at, (Add(sid, expires),)) for n, sid in enumerate(segments)
         for _ in range(n + 1)]
    )  # fmt: skip
    today = utc_day(now)

    together = await stats.facts(segments, today, today, daily_uniques=True)
    quick = await stats.quick(segments, now)
    assert await stats.precount(segments, now) == 0  # (no past month: nothing to count)

    assert together.daily_uniques == {(s, day_number(today)): n + 1 for n, s in enumerate(segments)}
    for sid in segments:
        alone = await stats.facts([sid], today, today, daily_uniques=True)
        assert alone.daily_uniques == {(sid, day_number(today)): segments.index(sid) + 1}
        assert quick[sid] == (await stats.quick([sid], now))[sid]
        assert quick[sid].loads_today == segments.index(sid) + 1


async def test_a_grain_without_months_has_no_monthly_uniques(stats: LoadStats) -> None:
    with pytest.raises(ValueError, match="monthly uniques"):
        await stats.facts([1], date(2026, 1, 1), date(2026, 1, 2), monthly_uniques=True,
                          grain=Grain("range", False))  # fmt: skip


async def test_a_late_load_for_a_past_day_shows_in_the_next_report(
    store: ProfileStore, stats: LoadStats
) -> None:
    """A past month's daily uniques, read (and, on Redis, kept), then a load for one of its days
    arrives late — a journal replayed days after: the next read counts it."""
    sid = next(_segments)
    past = _past_month_day(10)  # noon on the 10th of last month
    expires = int(time.time()) + DAY  # memberships live in the real future (Redis expires keys)
    early, late = new_uid(), new_uid()
    await store.apply([Mutation(early, past, (Add(sid, expires),))])
    day, month = utc_day(past), month_number(utc_day(past))
    first, today = day.replace(day=1), utc_day(time.time())

    before = await stats.facts([sid], first, today, daily_uniques=True, monthly_uniques=True)
    again = await stats.facts([sid], first, today, daily_uniques=True, monthly_uniques=True)
    await store.apply([Mutation(late, past + HOUR, (Add(sid, expires),), source="batch")])
    after = await stats.facts([sid], first, today, daily_uniques=True, monthly_uniques=True)

    assert before.loads == again.loads == {(sid, day_number(day), "pixel"): 1}
    assert before.daily_uniques == again.daily_uniques == {(sid, day_number(day)): 1}
    assert after.loads == {(sid, day_number(day), "pixel"): 1, (sid, day_number(day), "batch"): 1}
    assert after.daily_uniques == {(sid, day_number(day)): 2}
    assert after.monthly_uniques == {(sid, month): 2}
    by_month = await stats.facts([sid], first, today, daily_uniques=True,
                                 grain=Grain("month", False))  # fmt: skip
    assert by_month.daily_uniques == {(sid, month): 2}


@pytest.mark.parametrize("store", ["redis"], indirect=True)
async def test_redis_keeps_a_past_months_daily_counts_until_a_fold_changes_them(
    store: ProfileStore,
    stats: LoadStats,
    redis_client: redis.Redis,
) -> None:
    sid = next(_segments)
    past = _past_month_day(3)
    expires = int(time.time()) + DAY
    await store.apply([Mutation(new_uid(), past, (Add(sid, expires),)) for _ in range(2)])
    await store.apply([Mutation(new_uid(), int(time.time()), (Add(sid, expires),))])  # today
    day = utc_day(past)
    first, today = day.replace(day=1), utc_day(time.time())
    kept_key = f"{segment_key(store.prefix, sid)}u:{month_number(day)}"  # type: ignore[attr-defined]
    this_month = f"{segment_key(store.prefix, sid)}u:{month_number(today)}"  # type: ignore[attr-defined]

    await stats.facts([sid], first, today, daily_uniques=True)

    counts = redis_client.get(kept_key)
    assert counts is not None and counts.split(b",")[day.day - 1] == b"2"
    assert len(counts.split(b",")) == 31 and not redis_client.exists(this_month)
    # it expires with the month's first day's HyperLogLog, the earliest of its days
    expiry = day_start(first) + DAY + DAILY_KEPT
    assert abs(redis_client.ttl(kept_key) - (expiry - time.time())) < 60
    # a report reads what is kept (here, made up) rather than counting again …
    redis_client.set(kept_key, b",".join(b"7" if n == day.day else b"0" for n in range(1, 32)))
    read = await stats.facts([sid], first, today, daily_uniques=True)
    assert read.daily_uniques[(sid, day_number(day))] == 7
    # … until a fold changes one of the month's days: then it counts them again
    await store.apply([Mutation(new_uid(), past + 60, (Add(sid, expires),))])
    read = await stats.facts([sid], first, today, daily_uniques=True)
    assert read.daily_uniques[(sid, day_number(day))] == 3
    assert redis_client.get(kept_key).split(b",")[day.day - 1] == b"3"


@pytest.mark.parametrize("store", ["redis", "cluster"], indirect=True)
async def test_redis_counts_past_months_ahead_once_and_again_after_a_late_load(
    store: ProfileStore, stats: LoadStats
) -> None:
    """`precount` (every server's background round, edge/runtime.py) counts and keeps each past
    month with loads that is not kept yet — never the current month, never a month without
    loads — and with `once_per` runs one round per period among the processes."""
    busy, quiet, idle = (next(_segments) for _ in range(3))
    past, now = _past_month_day(3), time.time()
    expires = int(now) + DAY
    await store.apply([Mutation(new_uid(), past, (Add(busy, expires),)) for _ in range(2)])
    await store.apply([Mutation(new_uid(), past, (Add(quiet, expires),))])
    await store.apply([Mutation(new_uid(), int(now), (Add(busy, expires),))])  # this month

    # (precount folds the log first: the loads above are in the counters it reads)
    assert await stats.precount([busy, quiet, idle], now) == 2  # last month of busy and quiet
    assert await stats.precount([busy, quiet, idle], now) == 0  # kept: nothing to count
    day, today = utc_day(past), utc_day(now)
    read = await stats.facts([busy, quiet], day.replace(day=1), today, daily_uniques=True)
    assert read.daily_uniques == {
        (busy, day_number(day)): 2,
        (quiet, day_number(day)): 1,
        (busy, day_number(today)): 1,
    }
    late = Mutation(new_uid(), past + HOUR, (Add(quiet, expires),), source="batch")
    await store.apply([late])  # its fold forgets quiet's kept month
    assert await stats.precount([busy, quiet, idle], now, once_per=60) == 1
    await store.apply([Mutation(new_uid(), past + HOUR, (Add(busy, expires),))])
    assert await stats.precount([busy, quiet], now, once_per=60) == 0  # a round ran just now
    assert await stats.precount([busy, quiet], now) == 1  # (without once_per: always)
    read = await stats.facts([busy, quiet], day, day, daily_uniques=True)
    assert read.daily_uniques == {(busy, day_number(day)): 3, (quiet, day_number(day)): 2}


async def test_a_report_after_counting_ahead_reads_the_same(
    store: ProfileStore, stats: LoadStats
) -> None:
    """On every store (SQLite has nothing to count ahead), a report over a month counted ahead
    reads what the counters hold."""
    sid = next(_segments)
    past, now = _past_month_day(20), time.time()
    expires = int(now) + DAY
    await store.apply([Mutation(new_uid(), past + n, (Add(sid, expires),)) for n in range(3)])
    first, today = utc_day(past).replace(day=1), utc_day(now)

    assert await stats.precount([sid], now) == (0 if stats.name == "sqlite" else 1)
    read = await stats.facts([sid], first, today, daily_uniques=True, monthly_uniques=True)
    assert read.daily_uniques == {(sid, day_number(utc_day(past))): 3}
    assert read.monthly_uniques == {(sid, month_number(utc_day(past))): 3}


def _past_month_day(dd: int) -> int:
    """Noon UTC on day `dd` of the month before the current one (by the real clock)."""
    last_month = utc_day(time.time()).replace(day=1) - timedelta(days=1)
    return day_start(last_month.replace(day=dd)) + 12 * HOUR
