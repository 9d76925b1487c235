"""The ad side of the catalog as the hot path sees it: placements, creatives, line items and the
query-string mappings, as small immutable values in dicts (part of `CatalogView`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from segpixel.domain.querystring import KvMappingView, QsMappingView
from segpixel.domain.targeting import Targeting


@dataclass(frozen=True, slots=True)
class PlacementView:
    id: int
    member_id: int
    site_id: int
    publisher_id: int
    active: bool  # the placement, its site and its publisher are all active

    @property
    def place(self) -> tuple[int, int, int]:
        return (self.id, self.site_id, self.publisher_id)


@dataclass(frozen=True, slots=True)
class CreativeView:
    id: int
    member_id: int
    advertiser_id: int
    width: int
    height: int
    content: str | None  # HTML
    media_url: str | None
    click_url: str | None  # the landing page: /ck redirects only here
    on_view: tuple[int, ...] = ()  # segment ids added by /it
    on_click: tuple[int, ...] = ()  # segment ids added by /ck
    active: bool = True

    def fits(self, size: tuple[int, int] | None) -> bool:
        return size is None or size == (self.width, self.height)


@dataclass(frozen=True, slots=True)
class LineItemView:
    id: int
    member_id: int
    advertiser_id: int
    priority: int  # 1..20, higher wins
    weight: int  # share among equal priorities (null in the catalog: 1)
    creatives: tuple[int, ...]
    targeting: Targeting


@dataclass(frozen=True, slots=True)
class AdsView:
    placements: dict[int, PlacementView] = field(default_factory=dict)
    creatives: dict[int, CreativeView] = field(default_factory=dict)
    # line items that may serve (active, with an active advertiser and member), per member,
    # highest priority first
    line_items: dict[int, tuple[LineItemView, ...]] = field(default_factory=dict)
    qs_params: dict[tuple[int, str], QsMappingView] = field(default_factory=dict)
    kv_keys: dict[tuple[int, str], tuple[KvMappingView, ...]] = field(default_factory=dict)
