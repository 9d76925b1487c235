"""The one contract of the load counters (SPEC §8), read side; backends beside it.

Counting itself rides the profile store's write: the SQLite store logs a batch's loads in the
same transaction (and folds the log into counters off the event loop), the Redis store counts
them in the same script call (see each backend's module). What is kept, per segment:

- loads by UTC day and source;
- distinct users by UTC day and by calendar month (exact on SQLite, HyperLogLog on Redis);
- distinct users by UTC hour of the last day or so, for `active_users_24h`.

Reports and the segment API read them through `LoadStats`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from segpixel.domain.loads import FINEST, Grain, LoadFacts

__all__ = ["FINEST", "Grain", "LoadFacts", "LoadStats", "QuickStats"]


@dataclass(frozen=True, slots=True)
class QuickStats:
    """What the segment API shows beside each segment."""

    active_users_24h: int = 0  # distinct users with a load since domain.loads.active_window_start
    loads_today: int = 0
    loads_yesterday: int = 0


class LoadStats(Protocol):
    name: str  # "sqlite" | "redis"

    async def open(self) -> None: ...

    async def close(self) -> None: ...

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
        """Loads of the days `first`..`last` (both included), summed to `grain`; the uniques
        only when asked for (they cost more to read): daily uniques of the days `first`..
        `uniques_last` (`last` unless given) summed to the grain's periods, monthly uniques of
        every month those days touch, whole. The answer equals `facts(...).summed(grain,
        uniques_last)` read at FINEST. Raises StoreUnavailable when the store cannot answer."""

    async def quick(self, segment_ids: Sequence[int], now: float) -> dict[int, QuickStats]:
        """Quick stats of each segment at `now`: one query for the lot on SQLite, a round trip
        per few segments on Redis (stats/redis.py SLICE)."""

    async def precount(
        self, segment_ids: Sequence[int], now: float, *, once_per: float | None = None
    ) -> int:
        """Work ahead of the reports on these segments, in the background: Redis counts the
        daily uniques of past months and keeps them (stats/redis.py); SQLite has nothing to do.
        With `once_per`, at most one round per that many seconds among the processes sharing
        the store. Returns how many segment-months it counted."""
