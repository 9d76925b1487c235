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


ALL_SOURCES = ""  # the source of loads summed over every source (a grain without by_source)
PERIODS = ("day", "month", "range")


@dataclass(frozen=True, slots=True)
class Grain:
    """How finely the counters are summed for a reader, always by segment: by UTC day, by
    calendar month or over the whole range of days (`period`), and by source or not.

    A report asks for its own grain, so the store sums what it would otherwise hand over row by
    row (a year of a thousand segments by day and source is 400,000 rows; by month, 12,000).
    """

    period: str = "day"
    by_source: bool = True

    def period_of(self, day: int) -> int:
        """The period a day (YYYYMMDD) falls in: the day itself, its month YYYYMM, or 0."""
        if self.period == "day":
            return day
        return day // 100 if self.period == "month" else 0

    def month_of(self, period: int) -> int:
        """The month (YYYYMM) of one of the grain's periods (a day or a month)."""
        if self.period == "range":
            raise ValueError("a grain over the whole range has no months")
        return period // 100 if self.period == "day" else period


FINEST = Grain()  # by day and source: every counter as it is kept


@dataclass
class LoadFacts:
    """What the counters hold for some segments over some days, summed to a grain: a row per
    segment, period and source with at least one load, in (segment, period, source code) order,
    held column by column — a year of a thousand segments by day is 365,000 rows, and columns
    are made and read by C-level maps where a dict entry per fact costs several times as much.

    - `segment_ids`, `periods` (the grain's: a day YYYYMMDD, a month YYYYMM, or 0 for the whole
      range), `sources` (a name, or ALL_SOURCES when the grain does not split by source) and
      `totals`, the loads;
    - `day_users` (when asked for): the row's segment's daily uniques summed over the days of
      the row's period up to the reader's `uniques_last` (whatever the source);
    - `month_users` (when asked for): the row's segment's uniques in the row's month.

    `loads`, `daily_uniques` and `monthly_uniques` show the same as dicts, without zeros.
    """

    grain: Grain = FINEST
    segment_ids: list[int] = field(default_factory=list)
    periods: list[int] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    totals: list[int] = field(default_factory=list)
    day_users: list[int] | None = None
    month_users: list[int] | None = None

    def __len__(self) -> int:
        return len(self.totals)

    @property
    def loads(self) -> dict[tuple[int, int, str], int]:
        """(segment, period, source) → loads."""
        keys = zip(self.segment_ids, self.periods, self.sources, strict=True)
        return dict(zip(keys, self.totals, strict=True))

    @property
    def daily_uniques(self) -> dict[tuple[int, int], int]:
        """(segment, period) → the daily uniques summed over the period's days."""
        if self.day_users is None:
            return {}
        keys = zip(self.segment_ids, self.periods, strict=True)
        return {key: n for key, n in zip(keys, self.day_users, strict=True) if n}

    @property
    def monthly_uniques(self) -> dict[tuple[int, int], int]:
        """(segment, YYYYMM) → the month's uniques."""
        if self.month_users is None:
            return {}
        months = map(self.grain.month_of, self.periods)
        keys = zip(self.segment_ids, months, strict=True)
        return {key: n for key, n in zip(keys, self.month_users, strict=True) if n}

    @classmethod
    def of(
        cls,
        loads: dict[tuple[int, int, str], int],
        daily_uniques: dict[tuple[int, int], int] | None = None,
        monthly_uniques: dict[tuple[int, int], int] | None = None,
        grain: Grain = FINEST,
    ) -> LoadFacts:
        """Facts from dicts keyed as the views above (those of every row's segment and period;
        any others are left out, as a store leaves them)."""
        keys = sorted(loads, key=lambda k: (k[0], k[1], SOURCE_CODES.get(k[2], len(SOURCES))))
        facts = cls(
            grain,
            [k[0] for k in keys],
            [k[1] for k in keys],
            [k[2] for k in keys],
            [loads[k] for k in keys],
        )
        if daily_uniques is not None:
            facts.day_users = [daily_uniques.get((k[0], k[1]), 0) for k in keys]
        if monthly_uniques is not None:
            months = (grain.month_of(k[1]) for k in keys)
            facts.month_users = [
                monthly_uniques.get((k[0], m), 0) for k, m in zip(keys, months, strict=True)
            ]
        return facts

    def summed(self, grain: Grain, uniques_last: int | None = None) -> LoadFacts:
        """These facts (at FINEST, every day's uniques asked for) summed to `grain`, with the
        daily uniques of the days up to `uniques_last` (YYYYMMDD) only, and monthly uniques
        unless the grain has no months: what a store answers when asked for that grain — the
        reference its tests compare with."""
        loads: dict[tuple[int, int, str], int] = {}
        for (sid, day, source), n in self.loads.items():
            key = (sid, grain.period_of(day), source if grain.by_source else ALL_SOURCES)
            loads[key] = loads.get(key, 0) + n
        daily: dict[tuple[int, int], int] | None = None
        if self.day_users is not None:
            daily = {}
            for (sid, day), n in self.daily_uniques.items():
                if uniques_last is None or day <= uniques_last:
                    at = (sid, grain.period_of(day))
                    daily[at] = daily.get(at, 0) + n
        by_months = self.month_users is not None and grain.period != "range"
        return LoadFacts.of(loads, daily, self.monthly_uniques if by_months else None, grain)


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
