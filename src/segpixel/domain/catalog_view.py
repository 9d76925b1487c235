"""The catalog as the hot path sees it: small immutable values, looked up in dicts.

Built from the database off the hot path (`segpixel.catalog.snapshot`) and swapped whole when the
catalog version moves, so a request never sees half a change.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from segpixel.domain.ads_view import AdsView
from segpixel.domain.segments import Piggyback


@dataclass(frozen=True, slots=True)
class SegmentView:
    id: int
    member_id: int
    advertiser_id: int | None
    code: str | None
    active: bool
    expire_minutes: int  # null already resolved to the 180-day maximum
    max_usersync_pixels: int
    piggybacks: tuple[Piggyback, ...] = ()
    text_values: bool = False  # a text query-string segment: keeps the ad call's text (§5.1)


@dataclass(frozen=True, slots=True)
class MemberView:
    id: int
    name: str
    active: bool
    redirect_domains: tuple[str, ...]
    dongle: str


@dataclass(frozen=True, slots=True)
class UsersyncView:
    id: int
    member_id: int
    url: str
    pixel_type: str
    priority: int


@dataclass(frozen=True, slots=True)
class CatalogView:
    version: int = 0
    segments: dict[int, SegmentView] = field(default_factory=dict)
    segments_by_code: dict[tuple[int, str], SegmentView] = field(default_factory=dict)
    members: dict[int, MemberView] = field(default_factory=dict)
    # active partners of each member, highest priority first
    usersyncs: dict[int, tuple[UsersyncView, ...]] = field(default_factory=dict)
    ads: AdsView = field(default_factory=AdsView)  # placements, creatives, line items, QS mappings
    active_members: frozenset[int] = field(init=False)

    def __post_init__(self) -> None:
        active = frozenset(m.id for m in self.members.values() if m.active)
        object.__setattr__(self, "active_members", active)

    def segment(self, segment_id: int) -> SegmentView | None:
        return self.segments.get(segment_id)

    def segment_by_code(self, member_id: int, code: str) -> SegmentView | None:
        return self.segments_by_code.get((member_id, code))
