"""Load counters on Redis, read side: a hash of counts and HyperLogLogs per segment.

Keys (`{prefix}l{<segment id>}:…`): the `{<segment id>}` hash tag puts every key of a segment in
one Cluster slot, so a segment's report is read with per-segment commands that Cluster can route.

- `…:c:YYYYMM` hash, field `DD:<source>` → loads that UTC day from that source;
- `…:d:YYYYMMDD`, `…:m:YYYYMM`, `…:h:YYYYMMDDHH` HyperLogLogs of the users who loaded the segment
  that day / month / hour (the hours serve `active_users_24h`);
- `…:u:YYYYMM` the daily uniques of a past month as counted by a report, kept for the next
  (written here, deleted by the fold when one of its days changes: see _FACTS_LUA).

Each key expires some time after the last load that changed it (stats/redis_log.py, which writes
them): a year and a bit of daily uniques (12 KB a day for a busy segment, far less for a small
one), two years of counts and monthly uniques, two days of hours. The reader folds the load log
before it reads, so a report sees every stored load.

A report reads each segment in one script call that sums its counts to the report's grain.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import date, timedelta
from itertools import chain, compress, repeat
from operator import mul
from typing import Any

import orjson
import redis.asyncio as aioredis
from redis.exceptions import RedisClusterException, RedisError

from segpixel.closing import close_redis
from segpixel.domain.loads import (
    ALL_SOURCES,
    DAY_SECONDS,
    HOUR_SECONDS,
    SOURCES,
    active_window_start,
    day_number,
    day_start,
    month_number,
    months,
    utc_day,
)
from segpixel.errors import StoreUnavailable
from segpixel.stats.base import FINEST, Grain, LoadFacts, QuickStats
from segpixel.stats.redis_cluster import fold_cluster, is_cluster_url, make_cluster_client
from segpixel.stats.redis_log import DAILY_KEPT, FOLD_LUA, fold_all, log_key

# One segment's facts at a grain, in one call (KEYS[1]: one of the segment's keys, so that
# Cluster routes the call to its slot; every key of a segment shares it, the cache too). ARGV:
# 1 its keys' common start, 2 the period ("day", "month" or "range"), 3 "1" to split by source,
# 4 and 5 the first and last day, 6 the months they touch ("202511 202512 …"), 7 "1" for the
# daily uniques, 8 "1" for the monthly uniques, 9 the months whose daily uniques may be kept,
# each with its cache's expiry ("202510:1823212800 …").
#
# Redis sums the counts to the grain and answers densely, so that Python gets a few small ints a
# row instead of two strings a count (a year of a thousand segments: 400,000 of them): the loads
# of every period of the range (by day: days 1 to 31 of each month) and source code (0 to
# OTHER when by source, else just 0), 0 where none; then, for the daily uniques, each month's
# days' counts as text ("12,0,31,…", days 1 to 31); then each month's uniques.
#
# PFCOUNT costs Redis ~2–4 µs a day (a year of a thousand segments: 1 to 2 s), so the daily
# counts of a past month are kept, once counted, as that text in `…:u:YYYYMM`, and counted ahead
# of any report by PRECOUNT_LUA, which every server runs in the background (edge/runtime.py):
# a first report then finds every closed month kept. Why kept counts stay right:
# - only months before the current one are kept, whole (every day with a load counted);
# - the fold that changes a day's HyperLogLog deletes its month's kept counts in the same script
#   call (stats/redis_log.py), and this script counts and keeps in one call, so no change slips
#   between a count and its keeping; a late load for a past day (a journal replayed days later)
#   is folded like any other, and its month is counted again at the next report;
# - kept counts never outlive their HyperLogLogs: a month's expire when its first day's
#   HyperLogLog does (the earliest of its days; each expires DAILY_KEPT after its end), and months
#   less than a day from that are not kept at all.
# Only days with a load are counted (others are 0): a day's HyperLogLog is written with its
# counts, which are kept longer. Servers of an older version fold without deleting kept counts:
# upgrade every server of a deployment before reports run on this version.
_MONTH_UNIQUES_LUA = """
local DD = {}  -- (a number made text in Lua costs a sprintf: ~1 µs a day)
for dd = 1, 31 do DD[dd] = string.format('%02d', dd) end

-- A month's daily uniques as text, days 1 to 31 ("12,0,31,…"): the PFCOUNT of each day with a
-- load (`loaded[YYYYMM * 100 + DD]`), 0 for the others; kept in `…:u:YYYYMM` until `keeps`
-- (a Unix time) when given.
local function month_uniques(base, name, loaded, keeps)
  local counts, days, at = {}, base .. 'd:' .. name, tonumber(name) * 100
  for dd = 1, 31 do
    counts[dd] = loaded[at + dd] and redis.call('PFCOUNT', days .. DD[dd]) or 0
  end
  local text = table.concat(counts, ',')
  if keeps then redis.call('SET', base .. 'u:' .. name, text, 'EXAT', keeps) end
  return text
end
"""

_FACTS_LUA = (
    "local CODES, OTHER = {"
    + ", ".join(f"{name} = {code}" for code, name in enumerate(SOURCES))
    + f"}}, {len(SOURCES)}\n"
    + _MONTH_UNIQUES_LUA
    + """
local base, period_of, by_source = ARGV[1], ARGV[2], ARGV[3] == '1'
local first, last = tonumber(ARGV[4]), tonumber(ARGV[5])
local daily, monthly = ARGV[7] == '1', ARGV[8] == '1'
local by_day, by_month = period_of == 'day', period_of == 'month'
local months, names = {}, {}  -- (names: the months as text, for key names)
for month in string.gmatch(ARGV[6], '%d+') do
  months[#months + 1] = tonumber(month)
  names[#names + 1] = month
end
-- (Lua here is slow enough that every call and string counts: a field's day and source code
-- are parsed once per distinct field, and the answer is appended at a counter)
local dds, codes = {}, {}

-- the loads, summed by (period, source code) as one number: period * 8 + code
local sums, loaded = {}, {}
for n, month in ipairs(months) do
  local flat = redis.call('HGETALL', base .. 'c:' .. names[n])
  local at = by_month and month * 8 or 0
  for i = 1, #flat, 2 do
    local field = flat[i]
    local dd = dds[field]
    if dd == nil then
      dd = tonumber(string.sub(field, 1, 2))
      dds[field] = dd
      codes[field] = by_source and (CODES[string.sub(field, 4)] or OTHER) or 0
    end
    local day = month * 100 + dd
    loaded[day] = true
    if day >= first and day <= last then
      local key = (by_day and day * 8 or at) + codes[field]
      sums[key] = (sums[key] or 0) + tonumber(flat[i + 1])
    end
  end
end

local out, k, top = {}, 0, by_source and OTHER or 0
local periods = {0}
if by_day then
  periods = {}
  for _, month in ipairs(months) do
    for dd = 1, 31 do periods[#periods + 1] = month * 100 + dd end
  end
elseif by_month then
  periods = months
end
for _, at in ipairs(periods) do
  for code = 0, top do
    k = k + 1
    out[k] = sums[at * 8 + code] or 0
  end
end

if daily then
  local expiry = {}
  for month, at in string.gmatch(ARGV[9], '(%d+):(%d+)') do expiry[tonumber(month)] = at end
  for n, month in ipairs(months) do
    local keeps = expiry[month]
    local text = keeps and redis.call('GET', base .. 'u:' .. names[n])
    k = k + 1
    out[k] = text or month_uniques(base, names[n], loaded, keeps)
  end
end

if monthly then
  for _, month in ipairs(names) do
    k = k + 1
    out[k] = redis.call('PFCOUNT', base .. 'm:' .. month)
  end
end
return out
"""
)

# Counting ahead (`RedisLoadStats.precount`): one segment's months that may be kept and are not,
# counted and kept as a report would (KEYS[1]: a key of the segment; ARGV[1]: its keys' common
# start; ARGV[2]: the facts script's ARGV[9]). Only months with a load are counted (a month
# without one costs a report nothing). Returns how many months it counted.
PRECOUNT_LUA = (
    _MONTH_UNIQUES_LUA
    + """
local base, counted = ARGV[1], 0
for name, keeps in string.gmatch(ARGV[2], '(%d+):(%d+)') do
  if redis.call('EXISTS', base .. 'u:' .. name) == 0 then
    local fields = redis.call('HKEYS', base .. 'c:' .. name)
    if #fields > 0 then
      local loaded, at = {}, tonumber(name) * 100
      for _, field in ipairs(fields) do loaded[at + tonumber(string.sub(field, 1, 2))] = true end
      month_uniques(base, name, loaded, keeps)
      counted = counted + 1
    end
  end
end
return counted
"""
)
# Redis runs the calls of a pipeline back to back (what it read at once), and every other
# client waits meanwhile: a pipeline of every segment of a year's report stalled the pixel's
# writes 100–220 ms. So the reads (report scripts, quick stats) go a slice of segments per round
# trip: a year of days costs ~0.6 ms a segment (~1.1 ms when its months are to count: 11 × 31
# PFCOUNTs), a slice a few ms. A round of counting ahead also pauses after each slice that
# counted.
SLICE = 5
PRECOUNT_PAUSE = 0.005


_SOURCE_NAMES = dict(enumerate(SOURCES))  # an unknown source (code len(SOURCES)) shows as "?"


def segment_key(prefix: str, segment_id: int) -> str:
    return f"{prefix}l{{{segment_id}}}:"


def precount_lock_key(prefix: str) -> str:
    """Taken (SET NX EX) by the process that runs a round of `precount(once_per=…)`."""
    return f"{prefix}l:precount"


class RedisLoadStats:
    """The read side: pipelined, one script call per segment (quick stats: a few commands)."""

    name = "redis"

    def __init__(self, url: str, prefix: str = "sp:", timeout: float = 5.0):
        self.url = url
        self.prefix = prefix
        self.timeout = timeout
        self._client: aioredis.Redis | None = None
        self._facts: Any = None
        self._precount: Any = None
        self._fold: Any = None
        self._cluster = False

    async def open(self) -> None:
        self._cluster = is_cluster_url(self.url)
        if self._cluster:  # Redis Cluster (stats/redis_cluster.py): the same reads, per node
            self._client = make_cluster_client(self.url, self.timeout)  # type: ignore[assignment]
            return
        self._client = aioredis.Redis.from_url(
            self.url, socket_timeout=self.timeout, socket_connect_timeout=self.timeout
        )
        self._facts = self._client.register_script(_FACTS_LUA)
        self._precount = self._client.register_script(PRECOUNT_LUA)
        self._fold = self._client.register_script(FOLD_LUA)

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            where = self.url.rpartition("@")[2]
            await close_redis(f"load stats {where}", client)

    async def facts(
        self,
        segment_ids: Sequence[int],
        first: date,
        last: date,
        *,
        daily_uniques: bool = False,
        monthly_uniques: bool = False,
        grain: Grain = FINEST,
        uniques_last: date | None = None,
    ) -> LoadFacts:
        if monthly_uniques and grain.period == "range":
            raise ValueError("monthly uniques need a grain by day or by month")
        await self._folded()
        ids = sorted(set(segment_ids))
        args = [
            grain.period,
            "1" if grain.by_source else "0",
            str(day_number(first)),
            str(day_number(last)),
            " ".join(map(str, months(first, last))),
            "1" if daily_uniques else "0",
            "1" if monthly_uniques else "0",
            _kept(time.time()),
        ]
        facts = LoadFacts(grain)
        layout = _Layout(grain, first, last, uniques_last or last)
        if daily_uniques:
            facts.day_users = []
        if monthly_uniques:
            facts.month_users = []
        queue = self._script(self._facts, _FACTS_LUA, args)
        async for part, answers in self._in_slices(ids, queue):
            for sid, dense in zip(part, answers, strict=True):
                layout.add(facts, sid, dense)  # C-level: no Python code per row
        return facts

    async def precount(
        self, segment_ids: Sequence[int], now: float, *, once_per: float | None = None
    ) -> int:
        """Count and keep the daily uniques of the segments' past months that a report may
        keep and nobody has counted yet (PRECOUNT_LUA), a slice of segments at a time; the
        number of months counted. With `once_per`, only if no process sharing this Redis has
        started a round in the last `once_per` seconds (else 0)."""
        kept = _kept(now)
        if not kept or not segment_ids:
            return 0
        client = self._redis()
        try:
            if once_per is not None and not await client.set(
                precount_lock_key(self.prefix), os.getpid(), nx=True, ex=max(1, int(once_per))
            ):
                return 0
        except (RedisError, RedisClusterException, OSError) as exc:
            raise StoreUnavailable(f"load stats {self._where()}: {exc}") from exc
        await self._folded()  # (what is still in the log would make the counts stale at once)
        counted = 0
        queue = self._script(self._precount, PRECOUNT_LUA, [kept])
        async for _, answers in self._in_slices(segment_ids, queue):
            months = sum(map(int, answers))
            if months:
                counted += months
                await asyncio.sleep(PRECOUNT_PAUSE)
        return counted

    async def quick(self, segment_ids: Sequence[int], now: float) -> dict[int, QuickStats]:
        await self._folded()
        today = utc_day(now)
        yesterday = today - timedelta(days=1)
        start = active_window_start(now)
        hours = [
            f"{day_number(utc_day(t))}{t % DAY_SECONDS // HOUR_SECONDS:02d}"
            for t in range(start, int(now) + 1, HOUR_SECONDS)
        ]
        spanned = months(yesterday, today)

        async def queue(pipe: Any, sid: int) -> None:
            base = segment_key(self.prefix, sid)
            for month in spanned:
                pipe.hgetall(f"{base}c:{month}")
            # (PFCOUNT by name: a cluster pipeline blocks pfcount(), its keys share one slot)
            pipe.execute_command("PFCOUNT", *(f"{base}h:{hour}" for hour in hours))

        out: dict[int, QuickStats] = {}
        async for part, answers in self._in_slices(segment_ids, queue):
            replies = iter(answers)
            for sid in part:
                loads = {day_number(today): 0, day_number(yesterday): 0}
                for month in spanned:
                    for field, n in next(replies).items():
                        day = month * 100 + int(field.partition(b":")[0])
                        if day in loads:
                            loads[day] += int(n)
                out[sid] = QuickStats(
                    next(replies), loads[day_number(today)], loads[day_number(yesterday)]
                )
        return out

    # -- plumbing ----------------------------------------------------------------------------

    async def _folded(self) -> None:
        """Fold the load log into the counters first: a report sees every stored load."""
        if self._cluster:
            try:
                await fold_cluster(self._redis(), self.prefix)  # type: ignore[arg-type]
            except (RedisError, RedisClusterException, OSError) as exc:
                raise StoreUnavailable(f"load stats {self._where()}: {exc}") from exc
            return
        log = log_key(self.prefix)

        async def run(entries: int) -> Any:
            return await self._fold(keys=[log], args=[entries, self.prefix])

        try:
            await fold_all(run)
        except (RedisError, OSError) as exc:
            raise StoreUnavailable(f"load stats {self._where()}: {exc}") from exc

    async def _in_slices(
        self, segment_ids: Sequence[int], queue: Callable[[Any, int], Awaitable[None]]
    ) -> AsyncIterator[tuple[Sequence[int], list[Any]]]:
        """The segments' commands (`queue(pipe, segment)` queues one segment's), a SLICE of
        segments a round trip, yielded slice by slice with their answers in order."""
        for at in range(0, len(segment_ids), SLICE):
            part = segment_ids[at : at + SLICE]
            pipe = self._redis().pipeline(transaction=False)
            for sid in part:
                await queue(pipe, sid)
            yield part, await self._run(pipe)

    def _script(
        self, script: Any, text: str, args: list[str]
    ) -> Callable[[Any, int], Awaitable[None]]:
        """Queues a per-segment script's call (KEYS[1]: a key of the segment, for its slot;
        ARGV[1]: its keys' common start, then `args`)."""

        async def queue(pipe: Any, sid: int) -> None:
            base = segment_key(self.prefix, sid)
            if self._cluster:  # a cluster pipeline takes no Script objects
                pipe.execute_command("EVAL", text, 1, f"{base}c:0", base, *args)
            else:
                await script(keys=[f"{base}c:0"], args=[base, *args], client=pipe)

        return queue

    def _where(self) -> str:
        return self.url.rpartition("@")[2]  # never echo a password from the URL

    def _redis(self) -> aioredis.Redis:
        if self._client is None:
            raise RuntimeError("RedisLoadStats used before open() or after close()")
        return self._client

    async def _run(self, pipe: Any) -> list[Any]:
        try:
            return await pipe.execute()
        except (RedisError, RedisClusterException, OSError) as exc:
            raise StoreUnavailable(f"load stats {self._where()}: {exc}") from exc


class _Layout:
    """Where the facts script's dense answer puts each value (see _FACTS_LUA), and how it makes
    the segment's rows, by C-level maps (no Python code per row)."""

    def __init__(self, grain: Grain, first: date, last: date, uniques_last: date):
        self.grain, self.months = grain, months(first, last)
        days = [m * 100 + dd for m in self.months for dd in range(1, 32)]
        periods = days if grain.period == "day" else [0]
        if grain.period == "month":
            periods = self.months
        self.codes = len(SOURCES) + 1 if grain.by_source else 1
        self.slots = len(periods) * self.codes
        # each loads slot's period, source code and month (as its place in self.months)
        self.periods = [p for p in periods for _ in range(self.codes)]
        self.source_codes = list(range(self.codes)) * len(periods)
        place = {m: n for n, m in enumerate(self.months)}
        months_of = [place[grain.month_of(p)] if grain.period != "range" else 0 for p in periods]
        self.month_places = [n for n in months_of for _ in range(self.codes)]
        # the days whose daily uniques count: 1 from first to uniques_last, else 0
        low, high = day_number(first), day_number(uniques_last)
        self.counted = [int(low <= day <= high) for day in days]

    def add(self, facts: LoadFacts, sid: int, dense: list[Any]) -> None:
        """One segment's answer, its rows appended to the facts' columns."""
        loads = dense[: self.slots]
        rows = self.slots - loads.count(0)
        facts.segment_ids.extend(repeat(sid, rows))
        facts.periods.extend(compress(self.periods, loads))
        if self.grain.by_source:
            codes = compress(self.source_codes, loads)
            facts.sources.extend(map(_SOURCE_NAMES.get, codes, repeat("?")))
        else:
            facts.sources.extend(repeat(ALL_SOURCES, rows))
        facts.totals.extend(compress(loads, loads))
        at = self.slots
        if facts.day_users is not None:
            texts = dense[at : at + len(self.months)]
            at += len(self.months)
            by_day = orjson.loads(b"[" + b",".join(texts) + b"]")
            users = list(map(mul, by_day, self.counted))
            if self.grain.period == "month":
                users = [sum(users[n : n + 31]) for n in range(0, len(users), 31)]
            elif self.grain.period == "range":
                users = [sum(users)]
            if self.codes > 1:  # each period's, for each of its source slots
                users = list(chain.from_iterable(zip(*[users] * self.codes, strict=True)))
            facts.day_users.extend(compress(users, loads))
        if facts.month_users is not None:
            by_month = dense[at:]
            facts.month_users.extend(map(by_month.__getitem__, compress(self.month_places, loads)))


def _kept(now: float) -> str:
    """The facts script's ARGV[9] at `now`: the months whose daily counts may be kept — from
    the last month before the current one back to the oldest with more than a day to go before
    its first day's HyperLogLog expires (DAILY_KEPT after that day) — with that expiry."""
    month = (utc_day(now).replace(day=1) - timedelta(days=1)).replace(day=1)
    spec = []
    while (expiry := day_start(month) + DAY_SECONDS + DAILY_KEPT) > now + DAY_SECONDS:
        spec.append(f"{month_number(month)}:{expiry}")
        month = (month - timedelta(days=1)).replace(day=1)
    return " ".join(spec)
