"""The catalog reads behind the console's screens, each scoped to the logged-in user.

Writes go through the catalog repositories (the same rules as the API); this module only decides
what a screen lists, and refuses (403) an advertiser the user may not see, whether it exists or
not, so a URL never tells a user which other advertisers there are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from segpixel.catalog.advertisers import AdvertiserRepo
from segpixel.catalog.segments import SegmentRepo
from segpixel.catalog.tables import Advertiser, Member, Segment
from segpixel.domain.access import Principal
from segpixel.domain.paging import Page
from segpixel.errors import Forbidden, NotFound

PAGE_SIZE = 25
MAX_ID = 2**31 - 1  # a larger number in a URL names nothing (and PostgreSQL would refuse it)


@dataclass(frozen=True)
class Owner:
    """The advertiser a screen is about, and its member."""

    advertiser: Advertiser
    member: Member

    @property
    def id(self) -> int:
        return self.advertiser.id


def page_at(start: int, size: int = PAGE_SIZE, sort: str = "id", descending: bool = False) -> Page:
    return Page(max(start, 0), size, sort, descending)


def advertisers(
    session: Session, principal: Principal, search: str, start: int
) -> tuple[int, list[Advertiser], dict[int, Member], dict[int, int]]:
    """A page of the advertisers the user sees, their members, and each one's segment count."""
    repo = AdvertiserRepo(session, principal)
    total, rows = repo.list(repo.query(search=search or None), page_at(start))
    member_ids = {row.member_id for row in rows}
    members = {m.id: m for m in session.scalars(select(Member).where(Member.id.in_(member_ids)))}
    counts = dict(
        session.execute(  # type: ignore[arg-type]
            select(Segment.advertiser_id, func.count())
            .where(Segment.advertiser_id.in_([row.id for row in rows]))
            .group_by(Segment.advertiser_id)
        ).all()
    )
    return total, rows, members, counts


def owner(session: Session, principal: Principal, advertiser_id: int) -> Owner:
    row = session.get(Advertiser, advertiser_id) if advertiser_id <= MAX_ID else None
    if row is None or not principal.sees_advertiser(row.member_id, row.id):
        if principal.is_admin:
            raise NotFound(f"There is no advertiser {advertiser_id}.")
        raise Forbidden(f"You may not see advertiser {advertiser_id}.")
    member = session.get(Member, row.member_id)
    assert member is not None  # a foreign key
    return Owner(row, member)


def _visible(stmt: Select[Any], owner: Owner) -> Select[Any]:
    """The advertiser's own segments and its member's member-level ones (SPEC §1.1)."""
    return stmt.where(
        Segment.member_id == owner.member.id,
        or_(Segment.advertiser_id == owner.id, Segment.advertiser_id.is_(None)),
    )


def segments(
    session: Session, principal: Principal, owner: Owner, search: str, state: str, start: int
) -> tuple[int, list[Segment]]:
    repo = SegmentRepo(session, principal)
    stmt = _visible(repo.query(search=search or None), owner)
    if state in ("active", "inactive"):
        stmt = stmt.where(Segment.state == state)
    return repo.list(stmt, page_at(start, sort="id", descending=True))


def all_segments(session: Session, principal: Principal, owner: Owner) -> list[Segment]:
    """Every segment of the screen (for the pixel tester's chooser), newest first."""
    repo = SegmentRepo(session, principal)
    stmt = repo.scope(_visible(select(Segment), owner)).order_by(Segment.id.desc()).limit(1000)
    return list(session.scalars(stmt))


def segment(session: Session, principal: Principal, owner: Owner, segment_id: int) -> Segment:
    """One segment of this screen; another advertiser's (or member's) is not found here."""
    repo = SegmentRepo(session, principal)
    if segment_id > MAX_ID:
        raise NotFound(f"segment {segment_id} not found")
    return repo.one(_visible(select(Segment).where(Segment.id == segment_id), owner), "that id")


def segments_by_id(
    session: Session, principal: Principal, owner: Owner, ids: list[int]
) -> list[Segment]:
    """The listed segments of this screen, in the order given; NOTFOUND names any missing."""
    repo = SegmentRepo(session, principal)
    found = {
        s.id: s
        for s in session.scalars(
            repo.scope(_visible(select(Segment), owner)).where(Segment.id.in_(ids))
        )
    }
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound(f"segment {', '.join(map(str, missing))} is not on this screen")
    return [found[i] for i in dict.fromkeys(ids)]
