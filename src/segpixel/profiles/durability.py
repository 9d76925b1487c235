"""The profile store's durability warnings (`ProfileStore.durability_warnings`), kept fresh.

Read at start, every minute, and whenever the writer finds the store back after an outage (a
Redis that restarted empty says so then); shown in /health (`profile_store.warnings`) and as the
`segpixel_profile_store_warnings` gauge, and logged when they change.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from segpixel.errors import StoreUnavailable
from segpixel.metrics import Registry
from segpixel.profiles.base import ProfileStore

log = logging.getLogger("segpixel.profiles")

CHECK_SECONDS = 60.0


class DurabilityWatch:
    def __init__(
        self,
        store: ProfileStore,
        registry: Registry,
        back: asyncio.Event,
        timeout: float,
        interval: float = CHECK_SECONDS,
    ):
        self.store = store
        self.back = back  # set by the writer when the store answers again after an outage
        self.timeout = timeout
        self.interval = interval
        self.warnings: list[str] = []
        registry.gauge(
            "segpixel_profile_store_warnings",
            "Durability warnings about the profile store (see /health profile_store.warnings)",
            lambda: len(self.warnings),
            merge="max",  # every worker looks at the same store
        )

    async def check(self) -> None:
        """Ask the store once; while it cannot answer, the last warnings stand."""
        try:
            found = await asyncio.wait_for(self.store.durability_warnings(), self.timeout)
        except (StoreUnavailable, TimeoutError):
            return  # down: /health says so already
        except Exception:  # a check's bug must not end the checks
            log.exception("checking the profile store's durability failed")
            return
        for warning in found:
            if warning not in self.warnings:
                log.warning("profile store: %s", warning)
        if self.warnings and not found:
            log.info("profile store: no durability warning any more")
        self.warnings = found

    async def run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):  # a minute passed, or the store is back
                await asyncio.wait_for(self.back.wait(), self.interval)
            self.back.clear()
            await self.check()
