"""Build the hot path's CatalogView from the database, and keep it fresh (SPEC §2: ≤ 5 s).

The watcher polls the one-row catalog version every `interval` seconds; when it moves, the whole
view is rebuilt in a worker thread and swapped in with one assignment. Requests keep reading the
previous view meanwhile, and never query the database themselves.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import select

from segpixel.catalog.ads_snapshot import load_ads
from segpixel.catalog.db import Catalog
from segpixel.catalog.tables import CatalogVersion, Member, Segment, UsersyncPixel
from segpixel.domain.catalog_view import CatalogView, MemberView, SegmentView, UsersyncView
from segpixel.domain.segments import Piggyback, effective_expire_minutes

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
            )
            for row in conn.execute(select(Segment.__table__))
        }
        members = {
            row.id: MemberView(
                id=row.id,
                name=row.name,
                active=row.state == "active",
                redirect_domains=tuple(row.redirect_domains or ()),
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

    def __init__(self, catalog: Catalog, interval: float = 1.0):
        self.catalog = catalog
        self.interval = interval
        self.current = CatalogView()
        self.healthy = False
        self.last_error: str | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.refresh()
        self._task = asyncio.create_task(self._watch(), name="catalog-snapshot")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def refresh(self) -> None:
        try:
            version = await asyncio.to_thread(self.catalog.version)
            if version != self.current.version or not self.healthy:
                self.current = await asyncio.to_thread(load_view, self.catalog)
            self.healthy, self.last_error = True, None
        except Exception as exc:  # the catalog DB is down: keep serving the last good view
            if self.healthy:
                log.warning(
                    "catalog unreachable, serving version %s: %s", self.current.version, exc
                )
            self.healthy, self.last_error = False, str(exc)[:200]

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self.refresh()
