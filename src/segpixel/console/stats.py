"""Reporting figures for the console (SPEC §8), through one small seam.

- Quick stats are the segment API's own fields (`api.quick_stats`): `active_users_24h` and
  `daily_loads` `{"today", "yesterday"}`, added to each segment as GET /segment adds them, so the
  console and the API never disagree.
- The daily history behind a segment's chart comes from the worker's load counters
  (`runtime.stats`, the reader `/report` uses).

When there are no figures — no pixel runtime in this process, counters unreachable, a slow
answer — the fields are null and the screens show a dash or a note: figures help on these
screens, they are never a reason for one not to open.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from anyio import from_thread

from segpixel.api.deps import ApiState, Caller
from segpixel.api.quick_stats import with_quick_stats as api_quick_stats
from segpixel.console.deps import ConsoleUser
from segpixel.domain.loads import day_number, utc_day
from segpixel.errors import StoreUnavailable

log = logging.getLogger("segpixel.console")
TIMEOUT_SECONDS = 2.0  # a page waits this long at most for its chart


@dataclass(frozen=True, slots=True)
class DayLoads:
    day: date
    loads: int
    uniques: int


def with_quick_stats(user: ConsoleUser, segments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The segments (`segment_out`) with the API's quick-stats fields, null when unknown.

    Called from a sync route (a worker thread); one stats query for the whole page.
    """
    caller = Caller(user.principal, user.state)
    api_quick_stats(caller, {"response": {"segments": segments}})
    return segments


def daily_history(state: ApiState, segment_id: int, days: int = 30) -> list[DayLoads] | None:
    """Loads and uniques per day, oldest first, the last `days` days; None: no reporting here."""
    runtime = state.runtime
    stats = getattr(runtime, "stats", None)
    if stats is None:
        return None
    last = utc_day(runtime.clock())
    first = last - timedelta(days=days - 1)
    facts = _run(lambda: stats.facts([segment_id], first, last, daily_uniques=True))
    if facts is None:
        return None
    loads: dict[int, int] = {}
    for (_segment, day, _source), count in facts.loads.items():
        loads[day] = loads.get(day, 0) + count
    out = []
    for n in range(days):
        number = day_number(first + timedelta(days=n))
        out.append(
            DayLoads(
                first + timedelta(days=n),
                loads.get(number, 0),
                facts.daily_uniques.get((segment_id, number), 0),
            )
        )
    return out


def _run(read: Callable[[], Awaitable[Any]]) -> Any:
    """`read()` on the event loop (the counters live there), bounded in time."""

    async def bounded() -> Any:
        return await asyncio.wait_for(read(), TIMEOUT_SECONDS)

    try:
        return from_thread.run(bounded)
    except (StoreUnavailable, TimeoutError, RuntimeError) as exc:
        log.warning("console: load counters unavailable (%s)", exc or type(exc).__name__)
        return None
