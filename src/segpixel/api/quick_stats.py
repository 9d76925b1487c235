"""Quick stats beside each segment that GET /segment returns (what the console's list shows).

- `active_users_24h`: distinct users with at least one load of the segment since the top of the
  UTC hour 24 hours ago (a window of 24 to 25 hours: counters are kept by the hour). Exact on the
  SQLite store, a HyperLogLog estimate (about 1% off) on Redis.
- `daily_loads`: `{"today": N, "yesterday": N}`, loads of every source on those UTC days.

One stats query for the whole page, whatever its size. When the counters cannot answer in time
the fields are null: a segment list never fails, nor waits long, because of them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from anyio import from_thread

from segpixel.api.deps import Caller
from segpixel.errors import StoreUnavailable
from segpixel.stats.base import QuickStats

TIMEOUT = 1.0
log = logging.getLogger("segpixel.api")


def with_quick_stats(caller: Caller, answer: dict[str, Any]) -> dict[str, Any]:
    """The answer of GET /segment with each segment's quick stats added (null when unknown)."""
    payload = answer["response"]
    segments = [payload["segment"]] if "segment" in payload else payload.get("segments") or []
    if not segments:
        return answer
    stats = _quick(caller, [s["id"] for s in segments])
    for segment in segments:
        quick = stats.get(segment["id"])
        segment["active_users_24h"] = quick.active_users_24h if quick else None
        segment["daily_loads"] = (
            {"today": quick.loads_today, "yesterday": quick.loads_yesterday} if quick else None
        )
    return answer


def _quick(caller: Caller, ids: Sequence[int]) -> dict[int, QuickStats]:
    """Asked from the route's worker thread, answered on the event loop that owns the stores."""
    runtime = caller.state.runtime
    if runtime is None:
        return {}
    now = caller.state.clock()

    async def ask() -> dict[int, QuickStats]:
        return await asyncio.wait_for(runtime.stats.quick(ids, now), TIMEOUT)

    try:
        return from_thread.run(ask)
    except (StoreUnavailable, TimeoutError, RuntimeError) as exc:
        log.warning("segment quick stats unavailable: %s", exc or type(exc).__name__)
        return {}
