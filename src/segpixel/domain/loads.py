"""Segment loads (SPEC §8): what counts as one, and the UTC calendar the counters are kept in.

A load is one accepted add of a segment to a user — stored, or used by that call only
(`expire_minutes` 0) — whatever brought it: a pixel, a query string, a creative, /mapuid or a
batch upload. Removes are not loads. Days and months are UTC; a day is written as the integer
YYYYMMDD and a month as YYYYMM, so that ranges compare as numbers and `day // 100` is its month.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

SOURCES = ("pixel", "querystring", "creative", "mapuid", "batch")
SOURCE_CODES = {name: code for code, name in enumerate(SOURCES)}
DAY_SECONDS = 86_400
HOUR_SECONDS = 3_600


@dataclass
class LoadFacts:
    """What the counters hold for some segments over some days (days as YYYYMMDD)."""

    loads: dict[tuple[int, int, str], int] = field(default_factory=dict)  # (seg, day, source)
    daily_uniques: dict[tuple[int, int], int] = field(default_factory=dict)  # (seg, day)
    monthly_uniques: dict[tuple[int, int], int] = field(default_factory=dict)  # (seg, YYYYMM)


def day_number(d: date) -> int:
    """2026-11-29 → 20261129."""
    return d.year * 10_000 + d.month * 100 + d.day


def month_number(d: date) -> int:
    """2026-11-29 → 202611."""
    return d.year * 100 + d.month


def day_of(number: int) -> date:
    return date(number // 10_000, number // 100 % 100, number % 100)


def month_start(number: int) -> date:
    return date(number // 100, number % 100, 1)


def utc_day(epoch: float) -> date:
    return datetime.fromtimestamp(epoch, UTC).date()


def day_start(d: date) -> int:
    """Epoch seconds of 00:00 UTC that day."""
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp())


def days(first: date, last: date) -> Iterator[date]:
    """Every day from `first` to `last`, both included."""
    for n in range((last - first).days + 1):
        yield first + timedelta(days=n)


def months(first: date, last: date) -> list[int]:
    """The months (YYYYMM) that the days `first`..`last` touch, in order."""
    out: list[int] = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        out.append(year * 100 + month)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def month_days(number: int) -> int:
    """How many days the month YYYYMM has."""
    first = month_start(number)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return (following - first).days


class DayClock:
    """Epoch seconds → (YYYYMMDD, hour of the day), cached per day: a batch's adds share a few."""

    __slots__ = ("_cache",)

    def __init__(self) -> None:
        self._cache: dict[int, int] = {}

    def __call__(self, epoch: int) -> tuple[int, int]:
        n, seconds = divmod(epoch, DAY_SECONDS)
        number = self._cache.get(n)
        if number is None:
            if len(self._cache) > 64:  # a long-lived writer moves on from day to day
                self._cache.clear()
            number = self._cache[n] = day_number(utc_day(n * DAY_SECONDS))
        return number, seconds // HOUR_SECONDS


def active_window_start(now: float) -> int:
    """Where `active_users_24h` starts: the top of the UTC hour 24 hours before now.

    Counting is kept by the hour, so the window is whole hours from there to now: between 24 and
    25 hours long, never shorter than a day.
    """
    return int(now) // HOUR_SECONDS * HOUR_SECONDS - 24 * HOUR_SECONDS
