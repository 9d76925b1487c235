"""Load counters on SQLite, read side: the counters' file that stats/sqlite_log.py folds into.

Its own connection on its own thread, like the profile store's reads; it folds what the log holds
before reading, so a report sees every load stored so far.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from itertools import repeat
from pathlib import Path
from typing import Any, TypeVar

import orjson

from segpixel.domain.loads import (
    ALL_SOURCES,
    SOURCES,
    active_window_start,
    day_number,
    utc_day,
)
from segpixel.errors import StoreUnavailable
from segpixel.stats.base import FINEST, Grain, LoadFacts, QuickStats
from segpixel.stats.sqlite_log import attach, fold_all

_ID_LIST = "SELECT value FROM json_each(:ids)"  # a list of any length in one parameter
_SOURCE_NAMES = dict(enumerate(SOURCES))
MMAP_BYTES = 1 << 30

T = TypeVar("T")


class SqliteLoadStats:
    """The read side: its own connection on its own thread, like the profile store's reads."""

    name = "sqlite"

    def __init__(self, path: Path, busy_timeout: float = 2.0):
        self.path = Path(path)  # the profile file; the counters' file is found beside it
        self.busy_timeout_ms = int(busy_timeout * 1000)
        self._conn: sqlite3.Connection | None = None
        self._thread: ThreadPoolExecutor | None = None

    async def open(self) -> None:
        """Raises StoreUnavailable when the file cannot be read yet; later calls try again."""
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="segpixel-stats-reader")
        await self._on(self._current)

    async def close(self) -> None:
        if self._thread is not None and self._conn is not None:
            await asyncio.get_running_loop().run_in_executor(self._thread, self._conn.close)
        if self._thread is not None:
            self._thread.shutdown(wait=False)
        self._conn, self._thread = None, None

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
        span = (first, last, uniques_last or last)
        uniques = (daily_uniques, monthly_uniques)
        return await self._on(self._facts, list(segment_ids), span, uniques, grain)

    async def precount(
        self, segment_ids: Sequence[int], now: float, *, once_per: float | None = None
    ) -> int:
        return 0  # exact counts, read by an index: nothing to count ahead

    async def quick(self, segment_ids: Sequence[int], now: float) -> dict[int, QuickStats]:
        return await self._on(self._quick, list(segment_ids), now)

    # -- on the reader thread ----------------------------------------------------------------

    def _current(self) -> sqlite3.Connection:
        """The reader's connection (made on first use: the profile store creates the file), with
        every load logged so far folded into the counters."""
        if self._conn is None:
            if not self.path.exists():  # never create an empty database by reading
                raise sqlite3.OperationalError(f"{self.path} does not exist")
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout = {self.busy_timeout_ms}")
            attach(conn, self.path)
            # Reports read whole years of counters: map the file rather than copy its pages.
            conn.execute(f"PRAGMA loads.mmap_size = {MMAP_BYTES}")
            self._conn = conn
        fold_all(self._conn)
        return self._conn

    def _facts(
        self,
        ids: list[int],
        span: tuple[date, date, date],
        uniques: tuple[bool, bool],
        grain: Grain,
    ) -> LoadFacts:
        """SQLite sums the loads to the grain (GROUP BY), so only the report's rows leave it,
        and hands each segment's columns over as JSON arrays, which orjson makes into lists:
        a Python tuple and int objects per row cost more than SQLite's whole query."""
        conn, month_of = self._current(), grain.month_of
        first, last, uniques_last = (day_number(d) for d in span)
        params = {
            "ids": json.dumps(ids),
            "first": first,
            "last": last,
            "ulast": uniques_last,
            "first_month": first // 100,
            "last_month": last // 100,
        }
        facts = LoadFacts(grain)
        conn.execute("BEGIN")  # one snapshot for every table
        try:
            loads = conn.execute(_loads_sql(grain), params).fetchall()
            daily = {}
            if uniques[0]:
                daily = {r[0]: r[1:] for r in conn.execute(_daily_sql(grain), params)}
                facts.day_users = []
            monthly = {}
            if uniques[1]:
                monthly = {r[0]: r[1:] for r in conn.execute(_MONTHLY_SQL, params)}
                facts.month_users = []
        finally:
            conn.execute("COMMIT")
        for sid, periods_json, *columns_json in loads:
            periods, *columns = map(orjson.loads, (periods_json, *columns_json))
            keys = periods if not grain.by_source else list(zip(periods, columns[0], strict=True))
            if keys != sorted(keys):  # (a GROUP BY's sort need not keep the order within it)
                order = sorted(range(len(keys)), key=keys.__getitem__)
                periods, *columns = ([c[i] for i in order] for c in (periods, *columns))
                periods_json = ""
            facts.segment_ids.extend(repeat(sid, len(periods)))
            facts.periods.extend(periods)
            if grain.by_source:
                facts.sources.extend(map(_SOURCE_NAMES.__getitem__, columns[0]))
            else:
                facts.sources.extend(repeat(ALL_SOURCES, len(periods)))
            facts.totals.extend(columns[-1])
            if facts.day_users is not None:
                facts.day_users.extend(_aligned(periods, periods_json, daily.get(sid)))
            if facts.month_users is not None:
                by_month = monthly.get(sid)
                facts.month_users.extend(_aligned(list(map(month_of, periods)), "", by_month))
        return facts

    def _quick(self, ids: list[int], now: float) -> dict[int, QuickStats]:
        conn = self._current()
        start = active_window_start(now)  # always in yesterday (UTC)
        today, yesterday = utc_day(now), utc_day(start)
        first, last = day_number(yesterday), day_number(today)
        first_hour = start % 86_400 // 3_600
        params = {"ids": json.dumps(ids), "first": first, "last": last, "hour": first_hour}
        conn.execute("BEGIN")
        try:
            loads = conn.execute(
                f"SELECT segment_id, day, sum(loads) FROM loads.load_counts "
                f"WHERE segment_id IN ({_ID_LIST}) AND day BETWEEN :first AND :last "
                "GROUP BY segment_id, day",
                params,
            ).fetchall()
            # The window's first day counts from its first hour; the later day(s) whole.
            active = conn.execute(
                f"SELECT segment_id, count(DISTINCT uid) FROM loads.load_day_users "
                f"WHERE day BETWEEN :first AND :last AND segment_id IN ({_ID_LIST}) "
                "AND (day > :first OR hours >> :hour != 0) GROUP BY segment_id",
                params,
            ).fetchall()
        finally:
            conn.execute("COMMIT")
        by_day: dict[tuple[int, int], int] = {(s, d): n for s, d, n in loads}
        users = dict(active)
        return {
            sid: QuickStats(
                users.get(sid, 0), by_day.get((sid, last), 0), by_day.get((sid, first), 0)
            )
            for sid in ids
        }

    # -- plumbing ----------------------------------------------------------------------------

    async def _on(self, fn: Callable[..., T], *args: Any) -> T:
        if self._thread is None:
            raise RuntimeError("SqliteLoadStats used before open() or after close()")
        try:
            return await asyncio.get_running_loop().run_in_executor(self._thread, fn, *args)
        except sqlite3.ProgrammingError:
            raise
        except (sqlite3.Error, OSError) as exc:
            raise StoreUnavailable(f"load stats {self.path}: {exc}") from exc


def _loads_sql(grain: Grain) -> str:
    """Each segment's loads summed to the grain: (segment, JSON arrays of the periods, the
    source codes when by source, the loads), in (period, source) order."""
    period = {"day": "day", "month": "day / 100", "range": "0"}[grain.period]
    keys = ["segment_id", *([period] if grain.period != "range" else []), "source"]
    if not grain.by_source:
        keys.pop()
    sources = "json_group_array(source), " if grain.by_source else ""
    return (
        f"SELECT segment_id, json_group_array(period), {sources}json_group_array(loads) "
        f"FROM (SELECT segment_id, {period} AS period, source, sum(loads) AS loads "
        f"FROM loads.load_counts WHERE segment_id IN ({_ID_LIST}) AND day BETWEEN :first AND :last "
        f"GROUP BY {', '.join(keys)} ORDER BY {', '.join(keys)}) GROUP BY segment_id"
    )


def _daily_sql(grain: Grain) -> str:
    """Each segment's daily uniques summed by the grain's periods, days :first..:ulast: (segment,
    JSON arrays of the periods and the sums). By day, straight from the table, in its order."""
    where = f"segment_id IN ({_ID_LIST}) AND day BETWEEN :first AND :ulast"
    if grain.period == "day":
        return (
            "SELECT segment_id, json_group_array(day), json_group_array(uniques) "
            f"FROM loads.day_uniques WHERE {where} GROUP BY segment_id"
        )
    period = "day / 100" if grain.period == "month" else "0"
    by = "segment_id, day / 100" if grain.period == "month" else "segment_id"
    return (
        "SELECT segment_id, json_group_array(period), json_group_array(uniques) "
        f"FROM (SELECT segment_id, {period} AS period, sum(uniques) AS uniques "
        f"FROM loads.day_uniques WHERE {where} GROUP BY {by}) GROUP BY segment_id"
    )


_MONTHLY_SQL = (
    "SELECT segment_id, json_group_array(month), json_group_array(uniques) "
    f"FROM loads.month_uniques WHERE segment_id IN ({_ID_LIST}) "
    "AND month BETWEEN :first_month AND :last_month GROUP BY segment_id"
)


def _aligned(periods: list[int], periods_json: str, found: tuple[str, str] | None) -> list[int]:
    """A segment's uniques (`found`: JSON arrays of their periods and values) for each of its
    `periods`, 0 where none. Most often the arrays are the loads' own: taken as they are."""
    if found is None:
        return [0] * len(periods)
    if found[0] == periods_json:
        return orjson.loads(found[1])
    values = dict(zip(orjson.loads(found[0]), orjson.loads(found[1]), strict=True))
    return list(map(values.get, periods, repeat(0)))
