"""Synthetic load counters for bench/reporting.py: a year of daily data for many segments.

Written straight into each store's counters, in their real layout (stats/sqlite_log.py,
stats/redis.py), as if the pixel had counted them: the benchmark times the reports, not the
filling. Every segment loads every day from the pixel, and from a batch upload on Mondays; each
day's users are a fresh set, so daily uniques add up to the monthly ones.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

from segpixel.domain.loads import SOURCE_CODES, day_number, month_number
from segpixel.stats.redis import segment_key
from segpixel.stats.sqlite_log import counters_path

USERS_PER_DAY = (10, 60)  # distinct users a segment has a day (HyperLogLogs stay sparse)
POOL = [f"u{i}" for i in range(20_000)]  # user names; a day takes a slice of its own


def year(segments: list[int], days: int, today: date) -> Iterator[tuple[int, date, int, int]]:
    """(segment, day, pixel loads, distinct users) for every segment and day."""
    rnd = random.Random(7)
    for sid in segments:
        for n in range(days):
            day = today - timedelta(days=n)
            users = rnd.randint(*USERS_PER_DAY)
            yield sid, day, users * rnd.randint(1, 4), users


def fill_sqlite(profiles: Path, segments: list[int], days: int, today: date) -> None:
    conn = sqlite3.connect(counters_path(profiles), isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 10000")
    counts, daily, monthly = [], [], {}
    for sid, day, loads, users in year(segments, days, today):
        counts.append((sid, day_number(day), SOURCE_CODES["pixel"], loads))
        if day.weekday() == 0:
            counts.append((sid, day_number(day), SOURCE_CODES["batch"], users))
        daily.append((sid, day_number(day), users))
        key = (sid, month_number(day))
        monthly[key] = monthly.get(key, 0) + users
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany("INSERT OR REPLACE INTO load_counts VALUES (?, ?, ?, ?)", counts)
    conn.executemany("INSERT OR REPLACE INTO day_uniques VALUES (?, ?, ?)", daily)
    conn.executemany(
        "INSERT OR REPLACE INTO month_uniques VALUES (?, ?, ?)",
        [(sid, month, n) for (sid, month), n in monthly.items()],
    )
    conn.execute("COMMIT")
    conn.close()


def fill_redis(url: str, prefix: str, segments: list[int], days: int, today: date) -> None:
    import redis

    client = redis.Redis.from_url(url)
    pipe = client.pipeline(transaction=False)
    for n, (sid, day, loads, users) in enumerate(year(segments, days, today)):
        base = segment_key(prefix, sid)
        month, dd = month_number(day), day.day
        pipe.hset(f"{base}c:{month}", f"{dd:02d}:pixel", loads)
        if day.weekday() == 0:
            pipe.hset(f"{base}c:{month}", f"{dd:02d}:batch", users)
        start = day.toordinal() * USERS_PER_DAY[1] % (len(POOL) - USERS_PER_DAY[1])
        members = POOL[start : start + users]
        pipe.pfadd(f"{base}d:{day_number(day)}", *members)
        pipe.pfadd(f"{base}m:{month}", *members)
        if n % 2_000 == 1_999:
            pipe.execute()
    pipe.execute()
    client.close()
