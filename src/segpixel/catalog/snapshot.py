"""Build the hot path's CatalogView from the database, and keep it fresh (SPEC §2: ≤ 5 s).

The watcher looks at the one-row catalog version when woken — on a PostgreSQL catalog, by a
LISTEN/NOTIFY listener (`catalog.notify`) the moment a change commits — and at the latest every
`interval` seconds (polling, the safety net). When the version moved, the whole view is rebuilt in
a worker thread and swapped in with one assignment. Requests keep reading the previous view
meanwhile, and never query the database themselves.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

from sqlalchemy import select

from segpixel.catalog.ads_snapshot import load_ads
from segpixel.catalog.db import Catalog
from segpixel.catalog.notify import CatalogListener, is_postgres
from segpixel.catalog.snapshot_file import load_saved, save_view
from segpixel.catalog.tables import CatalogVersion, Member, Segment, UsersyncPixel
from segpixel.closing import cancel_within
from segpixel.domain.catalog_view import CatalogView, MemberView, SegmentView, UsersyncView
from segpixel.domain.members import usable_redirect_domains
from segpixel.domain.segments import Piggyback, effective_expire_minutes, keeps_text
from segpixel.metrics import Registry
from segpixel.public_suffix import is_public_suffix

log = logging.getLogger("segpixel.snapshot")


def load_view(catalog: Catalog) -> CatalogView:
    with catalog.engine.connect() as conn:
        # Read the version first: a write racing with this load moves it again, so the next poll
        # rebuilds; we can never settle on a view older than the version we report.
        version = conn.execute(select(CatalogVersion.version)).scalar_one()
        segments = {
            row.id: SegmentView(
                id=row.id,
                member_id=row.member_id,
                advertiser_id=row.advertiser_id,
                code=row.code,
                active=row.state == "active",
                expire_minutes=effective_expire_minutes(row.expire_minutes),
                max_usersync_pixels=row.max_usersync_pixels or 0,
                piggybacks=tuple(
                    Piggyback(p["url"], p["pixel_type"]) for p in row.piggyback_pixels or ()
                ),
                text_values=keeps_text(row.querystring_mapping),
            )
            for row in conn.execute(select(Segment.__table__))
        }
        members = {
            row.id: MemberView(
                id=row.id,
                name=row.name,
                active=row.state == "active",
                redirect_domains=usable_redirect_domains(
                    tuple(row.redirect_domains or ()), is_public_suffix
                ),
                dongle=row.dongle,
            )
            for row in conn.execute(select(Member.__table__))
        }
        partners: dict[int, list[UsersyncView]] = {}
        stmt = (
            select(UsersyncPixel.__table__)
            .where(UsersyncPixel.state == "active")
            .order_by(UsersyncPixel.priority.desc(), UsersyncPixel.id)
        )
        for row in conn.execute(stmt):
            partners.setdefault(row.member_id, []).append(
                UsersyncView(row.id, row.member_id, row.url, row.pixel_type, row.priority)
            )
        ads = load_ads(conn)
    return CatalogView(
        version=version,
        segments=segments,
        segments_by_code={(s.member_id, s.code): s for s in segments.values() if s.code},
        members=members,
        usersyncs={m: tuple(p) for m, p in partners.items()},
        ads=ads,
    )


class SnapshotHolder:
    """The current view, swapped atomically; `current` is all the hot path touches."""

    def __init__(
        self,
        catalog: Catalog,
        interval: float = 1.0,
        registry: Registry | None = None,
        listen: bool = True,
        keep: Path | None = None,
    ):
        self.catalog = catalog
        self.interval = interval
        self.current = CatalogView()
        self.healthy = False
        self.last_error: str | None = None
        # False until a view was read (from the catalog, or the saved one): the empty view
        # before that knows no segment, and the pixel must not say "unknown" for one that exists.
        self.loaded = False
        self.saved_at: float | None = None  # serving the view saved then (catalog unreadable)
        self.keep = keep  # where each new view is saved (catalog/snapshot_file.py)
        self.listener = (
            CatalogListener(catalog.url, self.wake) if listen and is_postgres(catalog.url) else None
        )
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        registry = registry or Registry()
        self._reloads = registry.counter(
            "segpixel_catalog_reloads_total",
            "Catalog snapshot rebuilds, by what noticed the change (notify or poll)",
        )
        registry.gauge(
            "segpixel_catalog_listener_up",
            "1 while the catalog change listener (PostgreSQL LISTEN) is connected",
            lambda: int(self.listener is not None and self.listener.state == "listening"),
        )

    @property
    def listener_state(self) -> str:
        return self.listener.state if self.listener is not None else "off"

    def wake(self) -> None:
        """Look at the catalog version now (a change was announced)."""
        self._wake.set()

    async def start(self) -> None:
        if not await self.refresh() and not self.loaded and self.keep is not None:
            saved = await asyncio.to_thread(load_saved, self.keep, self.catalog.url)
            if saved is not None and not self.loaded:
                self.current, self.loaded, self.saved_at = saved.view, True, saved.saved_at
                log.warning(
                    "catalog unreadable at start: serving its snapshot of version %s saved %s",
                    saved.view.version,
                    time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(saved.saved_at)),
                )
        self._tasks.append(asyncio.create_task(self._watch(), name="catalog-snapshot"))
        if self.listener is not None:
            self._tasks.append(asyncio.create_task(self.listener.run(), name="catalog-listener"))

    async def stop(self) -> None:
        await cancel_within("catalog watcher", self._tasks)
        self._tasks = []

    async def refresh(self) -> bool:
        """Reload when the version moved; True when a new view was swapped in."""
        try:
            version = await asyncio.to_thread(self.catalog.version)
            reloaded = False
            if version != self.current.version or not self.healthy:
                self.current = await asyncio.to_thread(load_view, self.catalog)
                reloaded = True
                await self._save(self.current)
            self.healthy, self.last_error = True, None
            self.loaded, self.saved_at = True, None
            return reloaded
        except Exception as exc:  # the catalog DB is down: keep serving the last good view
            if self.healthy:
                log.warning(
                    "catalog unreachable, serving version %s: %s", self.current.version, exc
                )
            self.healthy, self.last_error = False, str(exc)[:200]
            return False

    async def _save(self, view: CatalogView) -> None:
        if self.keep is None:
            return
        try:
            await asyncio.to_thread(save_view, self.keep, view, self.catalog.url)
        except OSError as exc:  # a full disk: the previous saved view stays
            log.warning("could not save the catalog snapshot to %s: %s", self.keep, exc)

    async def _watch(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), self.interval)
                trigger = "notify"
            except TimeoutError:
                trigger = "poll"
            self._wake.clear()
            if await self.refresh():
                self._reloads.inc(trigger=trigger)
