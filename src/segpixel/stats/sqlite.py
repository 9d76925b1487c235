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
from pathlib import Path
from typing import Any, TypeVar

from segpixel.domain.loads import SOURCES, active_window_start, day_number, month_number, utc_day
from segpixel.errors import StoreUnavailable
from segpixel.stats.base import LoadFacts, QuickStats
from segpixel.stats.sqlite_log import attach, fold_all

_IDS = "SELECT value FROM json_each(?)"  # a list of any length in one parameter
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
    ) -> LoadFacts:
        return await self._on(
            self._facts, list(segment_ids), first, last, daily_uniques, monthly_uniques
        )

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
        self, ids: list[int], first: date, last: date, daily: bool, monthly: bool
    ) -> LoadFacts:
        conn, facts = self._current(), LoadFacts()
        span = (json.dumps(ids), day_number(first), day_number(last))
        conn.execute("BEGIN")  # one snapshot for every table
        try:
            rows = conn.execute(
                f"SELECT segment_id, day, source, loads FROM loads.load_counts "
                f"WHERE segment_id IN ({_IDS}) AND day BETWEEN ? AND ?",
                span,
            )
            facts.loads = {(s, d, SOURCES[src]): n for s, d, src, n in rows}
            if daily:
                rows = conn.execute(
                    f"SELECT segment_id, day, uniques FROM loads.day_uniques "
                    f"WHERE segment_id IN ({_IDS}) AND day BETWEEN ? AND ?",
                    span,
                )
                facts.daily_uniques = {(s, d): n for s, d, n in rows}
            if monthly:
                rows = conn.execute(
                    f"SELECT segment_id, month, uniques FROM loads.month_uniques "
                    f"WHERE segment_id IN ({_IDS}) AND month BETWEEN ? AND ?",
                    (span[0], month_number(first), month_number(last)),
                )
                facts.monthly_uniques = {(s, m): n for s, m, n in rows}
        finally:
            conn.execute("COMMIT")
        return facts

    def _quick(self, ids: list[int], now: float) -> dict[int, QuickStats]:
        conn = self._current()
        start = active_window_start(now)  # always in yesterday (UTC)
        today, yesterday = utc_day(now), utc_day(start)
        first, last = day_number(yesterday), day_number(today)
        first_hour = start % 86_400 // 3_600
        ids_json = json.dumps(ids)
        conn.execute("BEGIN")
        try:
            loads = conn.execute(
                f"SELECT segment_id, day, sum(loads) FROM loads.load_counts "
                f"WHERE segment_id IN ({_IDS}) AND day BETWEEN ? AND ? GROUP BY segment_id, day",
                (ids_json, first, last),
            ).fetchall()
            # The window's first day counts from its first hour; the later day(s) whole.
            active = conn.execute(
                f"SELECT segment_id, count(DISTINCT uid) FROM loads.load_day_users "
                f"WHERE day BETWEEN ? AND ? AND segment_id IN ({_IDS}) "
                f"AND (day > ? OR hours >> ? != 0) GROUP BY segment_id",
                (first, last, ids_json, first, first_hour),
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
