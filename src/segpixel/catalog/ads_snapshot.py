"""Build the ad side of the hot path's view (`AdsView`) from the catalog, off the hot path.

Read with Core selects on the snapshot's connection (no ORM objects), like the rest of the
snapshot. Only what may serve is indexed for selection: active line items of active advertisers
and members; creatives are all kept, so an ad served before a change still counts its impression
and still reaches its landing page.
"""

from __future__ import annotations

import logging

from sqlalchemy import Connection, select

from segpixel.catalog.segments import draft_of
from segpixel.catalog.tables import (
    Advertiser,
    Creative,
    CreativeSegment,
    LineItem,
    LineItemCreative,
    Member,
    Placement,
    Publisher,
    Segment,
    Site,
)
from segpixel.domain.ads_view import AdsView, CreativeView, LineItemView, PlacementView
from segpixel.domain.errors import ValidationFailed
from segpixel.domain.querystring import KvMappingView, QsMappingView
from segpixel.domain.targeting_rules import parse_targeting

log = logging.getLogger("segpixel.snapshot")


def load_ads(conn: Connection) -> AdsView:
    active_members = set(conn.scalars(select(Member.id).where(Member.state == "active")))
    qs_params, kv_keys = _mappings(conn)
    return AdsView(
        placements=_placements(conn),
        creatives=_creatives(conn),
        line_items=_line_items(conn, active_members),
        qs_params=qs_params,
        kv_keys=kv_keys,
    )


def _placements(conn: Connection) -> dict[int, PlacementView]:
    publishers = {pid: state for pid, state in conn.execute(select(Publisher.id, Publisher.state))}
    sites = {
        row.id: (
            row.publisher_id,
            row.state == "active" and publishers[row.publisher_id] == "active",
        )
        for row in conn.execute(select(Site.id, Site.publisher_id, Site.state))
    }
    placements = {}
    for row in conn.execute(select(Placement.__table__)):
        publisher_id, site_active = sites[row.site_id]
        placements[row.id] = PlacementView(
            row.id, row.member_id, row.site_id, publisher_id, site_active and row.state == "active"
        )
    return placements


def _creatives(conn: Connection) -> dict[int, CreativeView]:
    actions: dict[int, dict[str, list[int]]] = {}
    for link in conn.execute(
        select(CreativeSegment.__table__).order_by(CreativeSegment.segment_id)
    ):
        actions.setdefault(link.creative_id, {}).setdefault(link.action, []).append(link.segment_id)
    creatives = {}
    for row in conn.execute(select(Creative.__table__)):
        own = actions.get(row.id, {})
        creatives[row.id] = CreativeView(
            id=row.id,
            member_id=row.member_id,
            advertiser_id=row.advertiser_id,
            width=row.width,
            height=row.height,
            content=row.content,
            media_url=row.media_url,
            click_url=row.click_url,
            on_view=tuple(own.get("add_on_view", ())),
            on_click=tuple(own.get("add_on_click", ())),
            active=row.state == "active",
        )
    return creatives


def _line_items(conn: Connection, active_members: set[int]) -> dict[int, tuple[LineItemView, ...]]:
    active_advertisers = set(
        conn.scalars(select(Advertiser.id).where(Advertiser.state == "active"))
    )
    creatives: dict[int, list[int]] = {}
    links = select(LineItemCreative.__table__).order_by(LineItemCreative.creative_id)
    for link in conn.execute(links):
        creatives.setdefault(link.line_item_id, []).append(link.creative_id)
    by_member: dict[int, list[LineItemView]] = {}
    for row in conn.execute(select(LineItem.__table__).where(LineItem.state == "active")):
        if row.member_id not in active_members or row.advertiser_id not in active_advertisers:
            continue
        try:
            targeting = parse_targeting(row.profile)
        except ValidationFailed as exc:  # written before a rule tightened: never serve blindly
            log.warning("line item %s skipped: its profile is invalid: %s", row.id, exc)
            continue
        by_member.setdefault(row.member_id, []).append(
            LineItemView(
                id=row.id,
                member_id=row.member_id,
                advertiser_id=row.advertiser_id,
                priority=row.priority,
                weight=row.weight or 1,
                creatives=tuple(creatives.get(row.id, ())),
                targeting=targeting,
            )
        )
    return {
        member: tuple(sorted(items, key=lambda li: (-li.priority, li.id)))
        for member, items in by_member.items()
    }


def _mappings(
    conn: Connection,
) -> tuple[dict[tuple[int, str], QsMappingView], dict[tuple[int, str], tuple[KvMappingView, ...]]]:
    """Every segment's query-string mapping, by (member, lower-cased param or key).

    Inactive segments are indexed too: the ad call rejects their adds with a reason, as /seg does.
    """
    qs_params: dict[tuple[int, str], QsMappingView] = {}
    kv_keys: dict[tuple[int, str], list[KvMappingView]] = {}
    for row in conn.execute(select(Segment.__table__)):
        draft = draft_of(row)  # type: ignore[arg-type]  # a Core row has the same attributes
        if draft.querystring_mapping is not None:
            mapping = QsMappingView.of(row.id, row.member_id, draft.querystring_mapping)
            qs_params[(row.member_id, mapping.param)] = mapping
        if draft.querystring_mapping_key_value is not None:
            view = KvMappingView.of(row.id, row.member_id, draft.querystring_mapping_key_value)
            kv_keys.setdefault((row.member_id, view.key), []).append(view)
    return qs_params, {key: tuple(views) for key, views in kv_keys.items()}
