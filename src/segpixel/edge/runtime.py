"""What the hot-path handlers share in one worker: catalog snapshot, profile store, writer, metrics
(and the load counters' reader, for the API).

Built once by `create_app`; started and stopped by the ASGI lifespan. Handlers receive it and read
its attributes; nothing here is created per request.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from segpixel.catalog.db import Catalog
from segpixel.catalog.snapshot import SnapshotHolder
from segpixel.catalog.snapshot_file import SNAPSHOT_FILE
from segpixel.closing import Deadline, cancel_within, close_within, in_daemon_thread
from segpixel.domain.catalog_view import CatalogView
from segpixel.domain.profile import Profile
from segpixel.edge.cookie import CookiePolicy, IdFactory, new_user_id
from segpixel.errors import StoreUnavailable
from segpixel.limits import ClientAddress, TokenBuckets
from segpixel.metrics import LATENCY_BUCKETS, Registry, merge
from segpixel.profiles.base import ProfileStore
from segpixel.profiles.durability import DurabilityWatch
from segpixel.profiles.factory import make_profile_store
from segpixel.profiles.writer import GroupCommitWriter
from segpixel.settings import Settings
from segpixel.stats.base import LoadStats
from segpixel.stats.factory import make_load_stats

log = logging.getLogger("segpixel.edge")

METRICS_PUBLISH_SECONDS = 1.0
GC_YOUNG_THRESHOLD = 10_000
RECLAIM_INTERVAL = 60.0
RECLAIM_BATCH = 10_000
PRECOUNT_INTERVAL = 600.0  # a closed month is counted ahead within ten minutes of its end
STEP_MIN = 0.2  # a close still gets this long when the budget is spent (its sockets drop after)
PRECOUNT_FIRST = 60.0  # after start, at a random moment up to this: workers spread out


@dataclass
class EdgeMetrics:
    registry: Registry = field(default_factory=Registry)

    def __post_init__(self) -> None:
        r = self.registry
        self.fires = r.counter(
            "segpixel_pixel_fires_total", "Segment pixel calls, by response type"
        )
        self.adds = r.counter("segpixel_segment_adds_total", "Accepted segment adds, by source")
        self.removes = r.counter("segpixel_segment_removes_total", "Accepted segment removes")
        self.rejects = r.counter("segpixel_item_rejects_total", "Rejected segment items, by reason")
        self.redirects = r.counter("segpixel_redirects_total", "302 answers, by chained kind")
        self.chained = r.counter("segpixel_chained_pixels_total", "Chained pixels fired, by kind")
        self.privacy = r.counter(
            "segpixel_privacy_skips_total", "Calls that stored nothing, by why"
        )
        self.lost = r.counter("segpixel_writes_lost_total", "Writes neither stored nor journaled")
        self.rate_limited = r.counter(
            "segpixel_pixel_rate_limited_total",
            "Pixel calls over SEGPIXEL_PIXEL_RATE_LIMIT: answered, nothing stored",
        ).labelled()
        self.latency = r.histogram(
            "segpixel_pixel_seconds", "Time to answer a segment pixel", LATENCY_BUCKETS
        )
        # the labels every pixel call uses, bound once
        self.fires_img = self.fires.labelled(type="img")
        self.fires_js = self.fires.labelled(type="js")
        self.pixel_adds = self.adds.labelled(source="pixel")


def tune_garbage_collector() -> None:
    """Keep the cycle collector off the latency tail.

    Everything loaded at start-up (the API, the ORM, the catalog view) is frozen out of
    collection, and a young generation sized for thousands of requests instead of a handful:
    a pixel call's objects are freed by reference counting; cycles are rare.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, 20, 20)


class EdgeRuntime:
    def __init__(
        self,
        settings: Settings,
        catalog: Catalog,
        clock: Callable[[], float] = time.time,
        id_factory: IdFactory = new_user_id,
        store: ProfileStore | None = None,
        upkeep: bool = True,
    ):
        """`upkeep`: False, the stores' background rounds (the sweep of expired memberships,
        SQLite's checkpoints and fold, the reports' counting ahead) are left to the pixel
        workers: the admin process' runtime, which serves reads."""
        self.settings = settings
        self.upkeep = upkeep
        self.catalog = catalog
        self.clock = clock
        self.new_user_id = id_factory
        self.metrics = EdgeMetrics()
        self.snapshot = SnapshotHolder(
            catalog,
            settings.catalog_poll_seconds,
            self.metrics.registry,
            keep=settings.data_dir / SNAPSHOT_FILE,
        )
        self.store = store or make_profile_store(
            settings.profile_url or "",
            redis_prefix=settings.redis_prefix,
            timeout=settings.store_timeout_ms / 1000,
            sqlite_synchronous=settings.sqlite_synchronous,
            redis_min_replicas=settings.redis_min_replicas,
            sqlite_fold_takeover=settings.loads_fold_takeover_s,
            sqlite_upkeep=upkeep,
        )
        self.writer = GroupCommitWriter(
            self.store,
            settings.journal_dir or settings.data_dir / "journal",
            self.metrics.registry,
            max_batch=settings.write_max_batch,
            window=settings.write_window_ms / 1000,
            store_timeout=settings.store_timeout_ms / 1000,
            journal_max_bytes=settings.journal_max_bytes,
        )
        self.store.register_metrics(self.metrics.registry)
        self.durability = DurabilityWatch(
            self.store, self.metrics.registry, self.writer.back, timeout=2.0
        )
        self.stats: LoadStats = make_load_stats(
            settings.profile_url or "", redis_prefix=settings.redis_prefix
        )
        # Work of this worker to stop before the stores close (the API's background jobs).
        self.stoppers: list[Callable[[], Awaitable[None]]] = []
        self.cookies = CookiePolicy(
            settings.cookie_name, settings.cookie_secure, settings.cookie_domain
        )
        self.cookie_name = settings.cookie_name.encode()
        self.read_timeout = settings.store_timeout_ms / 1000
        # SEGPIXEL_PIXEL_RATE_LIMIT: None (the default) costs the pixel one attribute test.
        self.pixel_limit = (
            TokenBuckets(settings.pixel_rate_limit, clock) if settings.pixel_rate_limit else None
        )
        self.client_address = ClientAddress(settings.trusted_proxies)
        self._tasks: list[asyncio.Task[None]] = []
        self._metrics_dir = settings.data_dir / "metrics"
        self._metrics_file = self._metrics_dir / f"{os.getpid()}.json"
        self.started = False

    async def start(self) -> None:
        try:
            await self.store.open()
        except StoreUnavailable as exc:  # serve anyway: writes go to the journal until it is back
            self.writer.mark_down(exc)
        try:
            await self.stats.open()
        except StoreUnavailable as exc:  # reports and quick stats fail until it answers
            log.error("load stats unavailable at start: %s", exc)
        await self.snapshot.start()
        await self.writer.start()
        if self.writer.store_up:
            await self.durability.check()
        self._tasks.append(asyncio.create_task(self.durability.run(), name="durability"))
        self._tasks.append(asyncio.create_task(self._publish_metrics(), name="metrics"))
        if self.upkeep:
            self._tasks.append(asyncio.create_task(self._reclaim(), name="reclaim"))
            self._tasks.append(asyncio.create_task(self._precount(), name="precount"))
        tune_garbage_collector()
        self.started = True

    async def stop(self) -> None:
        """Stop within SEGPIXEL_STOP_TIMEOUT_S whatever the stores do (a stalled Redis socket,
        an unreachable PostgreSQL): each step gets what is left of the budget, a step that
        overruns is abandoned and logged, and the next one still runs (briefly, past the budget).
        """
        deadline = Deadline(self.settings.stop_timeout_s)
        for stopper in self.stoppers:
            await close_within("background jobs", stopper, deadline.left())
        await cancel_within("worker tasks", self._tasks, deadline.left())
        await close_within("write queue", self.writer.stop, deadline.left())
        await close_within("catalog watcher", self.snapshot.stop, deadline.left())
        await close_within("profile store", self.store.close, max(deadline.left(), STEP_MIN))
        await close_within("load stats", self.stats.close, max(deadline.left(), STEP_MIN))
        await in_daemon_thread("catalog", self.catalog.dispose, max(deadline.left(), STEP_MIN))

    async def fresh_view(self) -> CatalogView:
        """The catalog as of now, for admin calls: the snapshot polls, so the admin process'
        one may be a poll behind the pixel worker that just served a segment created a moment
        ago (an erasure or the console tester must not miss it)."""
        await self.snapshot.refresh()
        return self.snapshot.current

    async def read_profile(self, user_id: int) -> Profile | None:
        """The user's profile, or None when the store cannot answer in time."""
        try:
            return await asyncio.wait_for(self.store.read(user_id, self.clock()), self.read_timeout)
        except (StoreUnavailable, TimeoutError):
            return None

    def metrics_snapshot(self) -> dict[str, Any]:
        """This worker's live metrics summed with the other workers' last published ones."""
        own = self.metrics.registry.snapshot()
        others = []
        for path in self._metrics_dir.glob("*.json"):
            if path != self._metrics_file:
                try:
                    others.append(orjson.loads(path.read_bytes()))
                except (OSError, orjson.JSONDecodeError):
                    continue  # a worker is rewriting it right now
        return merge([own, *others])

    async def _publish_metrics(self) -> None:
        tmp = self._metrics_file.with_suffix(".tmp")
        failing = False
        while True:
            try:
                self._metrics_dir.mkdir(parents=True, exist_ok=True)
                tmp.write_bytes(orjson.dumps(self.metrics.registry.snapshot()))
                tmp.replace(self._metrics_file)  # atomic: readers never see half a file
                failing = False
            except OSError as exc:  # a full disk: /metrics shows this worker's last file
                if not failing:
                    log.warning("cannot publish this worker's metrics: %s", exc)
                failing = True
            await asyncio.sleep(METRICS_PUBLISH_SECONDS)

    async def _reclaim(self) -> None:
        """Expired memberships are never returned; this frees their space, a slice at a time."""
        while True:
            await asyncio.sleep(RECLAIM_INTERVAL)
            if not self.writer.store_up:
                continue
            try:
                await self.store.reclaim(self.clock(), RECLAIM_BATCH)
            except StoreUnavailable:
                continue

    async def _precount(self) -> None:
        """Reports' work done ahead (stats `precount`: on Redis, past months' daily uniques),
        one round per PRECOUNT_INTERVAL among every worker sharing the store."""
        await asyncio.sleep(random.uniform(0, PRECOUNT_FIRST))
        while True:
            segments = sorted(self.snapshot.current.segments)
            try:
                counted = await self.stats.precount(
                    segments, self.clock(), once_per=PRECOUNT_INTERVAL
                )
            except StoreUnavailable as exc:  # the next round counts what this one could not
                log.warning("counting ahead of reports failed: %s", exc)
            except Exception:  # a round's bug must not end the rounds (reports count it then)
                log.exception("counting ahead of reports failed")
            else:
                if counted:
                    log.info("counted %d segment-months ahead of the reports", counted)
            await asyncio.sleep(PRECOUNT_INTERVAL)
