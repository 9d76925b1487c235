"""What a job runner's jobs work with: the catalog, the stores, a catalog view, the upload folder.

One per runner process, opened before the first claim and closed after the last job stopped.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

from segpixel.catalog.db import Catalog
from segpixel.catalog.snapshot import SnapshotHolder
from segpixel.jobs.spool import Spool
from segpixel.profiles.base import ProfileStore
from segpixel.profiles.factory import make_profile_store
from segpixel.settings import Settings
from segpixel.stats.base import LoadStats
from segpixel.stats.factory import make_load_stats

STORE_TIMEOUT = 5.0  # seconds a runner's store call may take (no pixel waits on it)


def store_key(settings: Settings) -> str:
    """Names the profile store (and load counters) of these settings: a job is run only by a
    runner on the same store as the server that took it."""
    where = f"{settings.profile_url}|{settings.redis_prefix}"
    return hashlib.sha256(where.encode()).hexdigest()[:16]


class JobContext:
    def __init__(
        self, settings: Settings, catalog: Catalog, clock: Callable[[], float] = time.time
    ):
        self.settings = settings
        self.catalog = catalog
        self.clock = clock
        self.spool = Spool(settings.upload_dir or settings.data_dir / "uploads")
        self.store_key = store_key(settings)
        self.snapshot = SnapshotHolder(catalog, settings.catalog_poll_seconds)
        self.store: ProfileStore = make_profile_store(
            settings.profile_url or "",
            redis_prefix=settings.redis_prefix,
            timeout=STORE_TIMEOUT,
            sqlite_synchronous=settings.sqlite_synchronous,
            redis_min_replicas=settings.redis_min_replicas,
        )
        self.stats: LoadStats = make_load_stats(
            settings.profile_url or "", redis_prefix=settings.redis_prefix
        )

    async def open(self) -> None:
        """Raises StoreUnavailable while a store cannot be reached (the runner tries again)."""
        await self.store.open()
        try:
            await self.stats.open()
        except BaseException:
            await self.store.close()
            raise
        await self.snapshot.start()

    async def close(self) -> None:
        await self.snapshot.stop()
        await self.stats.close()
        await self.store.close()
