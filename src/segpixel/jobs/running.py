"""A job a runner holds: its claim, its lease, and writes made under it."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from segpixel.catalog import job_queue
from segpixel.catalog.db import Catalog
from segpixel.catalog.job_queue import Claimed

SAFE_SHARE = 0.8  # of the lease: past it without a renewal, the runner stops writing


class LeaseLost(Exception):
    """Another runner may hold this job now: stop, and write nothing more."""


class RunningJob:
    def __init__(self, claimed: Claimed, catalog: Catalog, owner: str, lease_seconds: float):
        self.claimed = claimed
        self.catalog = catalog
        self.owner = owner
        self.lease_seconds = lease_seconds
        # Counted from before the claim's round trip, on this process's own clock.
        self._valid_until = time.monotonic() + lease_seconds * SAFE_SHARE - 0.5
        self.lost = False

    @property
    def id(self) -> int:
        return self.claimed.id

    @property
    def params(self) -> dict[str, Any]:
        return self.claimed.params

    @property
    def progress(self) -> dict[str, Any]:
        return self.claimed.progress

    def guard(self) -> None:
        """Raise LeaseLost unless the lease surely still holds (asked before every write of
        the job's data: a runner that could not renew in time must not write beside another)."""
        if self.lost or time.monotonic() > self._valid_until:
            self.lost = True
            raise LeaseLost(f"job {self.id}: the lease lapsed")

    async def renew(self) -> bool:
        started = time.monotonic()
        held = await asyncio.to_thread(
            job_queue.renew, self.catalog, self.id, self.owner, self.lease_seconds
        )
        if held:
            self._valid_until = started + self.lease_seconds * SAFE_SHARE
        else:
            self.lost = True
        return held

    async def save(self, **fields: Any) -> None:
        """Write the job's row (progress, result, status…) under the lease."""
        self.guard()
        held = await asyncio.to_thread(job_queue.write, self.catalog, self.id, self.owner, **fields)
        if not held:
            self.lost = True
            raise LeaseLost(f"job {self.id}: another runner holds it now")
