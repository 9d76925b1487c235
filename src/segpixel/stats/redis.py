"""Load counters on Redis, read side: a hash of counts and HyperLogLogs per segment.

Keys (`{prefix}l{<segment id>}:…`): the `{<segment id>}` hash tag puts every key of a segment in
one Cluster slot, so a segment's report is read with per-segment commands that Cluster can route.

- `…:c:YYYYMM` hash, field `DD:<source>` → loads that UTC day from that source;
- `…:d:YYYYMMDD`, `…:m:YYYYMM`, `…:h:YYYYMMDDHH` HyperLogLogs of the users who loaded the segment
  that day / month / hour (the hours serve `active_users_24h`).

Each key expires some time after the last load that changed it (stats/redis_log.py, which writes
them): a year and a bit of daily uniques (12 KB a day for a busy segment, far less for a small
one), two years of counts and monthly uniques, two days of hours. The reader folds the load log
before it reads, so a report sees every stored load.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisClusterException, RedisError

from segpixel.domain.loads import (
    DAY_SECONDS,
    HOUR_SECONDS,
    active_window_start,
    day_number,
    days,
    months,
    utc_day,
)
from segpixel.errors import StoreUnavailable
from segpixel.stats.base import LoadFacts, QuickStats
from segpixel.stats.redis_cluster import fold_cluster, is_cluster_url, make_cluster_client
from segpixel.stats.redis_log import FOLD_LUA, fold_all, log_key

# One segment's uniques: ARGV[1] its keys' common start, ARGV[2] the suffixes ("d:20261129 …").
# The key names are made here, not sent: 365 days × 1,000 segments is a lot of Python otherwise.
# KEYS[1] is one of the segment's keys, so that Cluster routes the call to its slot (all of a
# segment's keys share it).
_COUNT_LUA = """
local out, base = {}, ARGV[1]
for suffix in string.gmatch(ARGV[2], '%S+') do
  out[#out + 1] = redis.call('PFCOUNT', base .. suffix)
end
return out
"""


def segment_key(prefix: str, segment_id: int) -> str:
    return f"{prefix}l{{{segment_id}}}:"


class RedisLoadStats:
    """The read side: pipelined, one command (or one small script call) per segment."""

    name = "redis"

    def __init__(self, url: str, prefix: str = "sp:", timeout: float = 5.0):
        self.url = url
        self.prefix = prefix
        self.timeout = timeout
        self._client: aioredis.Redis | None = None
        self._count: Any = None
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
        self._count = self._client.register_script(_COUNT_LUA)
        self._fold = self._client.register_script(FOLD_LUA)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def facts(
        self,
        segment_ids: Sequence[int],
        first: date,
        last: date,
        *,
        daily_uniques: bool = False,
        monthly_uniques: bool = False,
    ) -> LoadFacts:
        await self._folded()
        facts = LoadFacts()
        # Counts and uniques in two pipelines at once: Redis counts while Python reads the loads.
        uniques = self._uniques(facts, segment_ids, first, last, daily_uniques, monthly_uniques)
        await asyncio.gather(self._loads(facts, segment_ids, first, last), uniques)
        return facts

    async def _loads(
        self, facts: LoadFacts, segment_ids: Sequence[int], first: date, last: date
    ) -> None:
        low, high = day_number(first), day_number(last)
        wanted = [(sid, month) for sid in segment_ids for month in months(first, last)]
        pipe = self._redis().pipeline(transaction=False)
        for sid, month in wanted:
            pipe.hgetall(f"{segment_key(self.prefix, sid)}c:{month}")
        fields: dict[bytes, tuple[int, str]] = {}  # b"07:pixel" → (7, "pixel"): a few hundred
        for (sid, month), counts in zip(wanted, await self._run(pipe), strict=True):
            for field, loads in counts.items():
                parsed = fields.get(field)
                if parsed is None:
                    dd, _, source = field.partition(b":")
                    parsed = fields[field] = (int(dd), source.decode())
                day = month * 100 + parsed[0]
                if low <= day <= high:
                    facts.loads[(sid, day, parsed[1])] = int(loads)

    async def _uniques(
        self,
        facts: LoadFacts,
        segment_ids: Sequence[int],
        first: date,
        last: date,
        daily: bool,
        monthly: bool,
    ) -> None:
        """PFCOUNT each day / month of the range, a segment in one script call; keep what is
        not 0 (a day without loads has no key)."""
        by_day = [day_number(d) for d in days(first, last)] if daily else []
        by_month = months(first, last) if monthly else []
        if not by_day and not by_month:
            return
        suffixes = " ".join([*(f"d:{d}" for d in by_day), *(f"m:{m}" for m in by_month)])
        pipe = self._redis().pipeline(transaction=False)
        for sid in segment_ids:
            base = segment_key(self.prefix, sid)
            if self._cluster:  # a cluster pipeline takes no Script objects; the text is short
                pipe.execute_command("EVAL", _COUNT_LUA, 1, f"{base}c:0", base, suffixes)
            else:
                await self._count(keys=[f"{base}c:0"], args=[base, suffixes], client=pipe)
        split = len(by_day)
        for sid, counts in zip(segment_ids, await self._run(pipe), strict=True):
            daily_counts = zip(by_day, counts[:split], strict=True)
            facts.daily_uniques.update(((sid, d), n) for d, n in daily_counts if n)
            monthly_counts = zip(by_month, counts[split:], strict=True)
            facts.monthly_uniques.update(((sid, m), n) for m, n in monthly_counts if n)

    async def quick(self, segment_ids: Sequence[int], now: float) -> dict[int, QuickStats]:
        await self._folded()
        today = utc_day(now)
        yesterday = today - timedelta(days=1)
        start = active_window_start(now)
        hours = [
            f"{day_number(utc_day(t))}{t % DAY_SECONDS // HOUR_SECONDS:02d}"
            for t in range(start, int(now) + 1, HOUR_SECONDS)
        ]
        pipe = self._redis().pipeline(transaction=False)
        for sid in segment_ids:
            base = segment_key(self.prefix, sid)
            for month in months(yesterday, today):
                pipe.hgetall(f"{base}c:{month}")
            # (PFCOUNT by name: a cluster pipeline blocks pfcount(), its keys share one slot)
            pipe.execute_command("PFCOUNT", *(f"{base}h:{hour}" for hour in hours))
        replies = iter(await self._run(pipe))
        out: dict[int, QuickStats] = {}
        for sid in segment_ids:
            loads = {day_number(today): 0, day_number(yesterday): 0}
            for month in months(yesterday, today):
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
