"""Advertisers in the catalog (SPEC §1.1)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, false, func, select

from segpixel.catalog.repo import Repo, fmt_time
from segpixel.catalog.tables import Advertiser, Creative, LineItem, Segment, User
from segpixel.domain.advertisers import AdvertiserDraft, advertiser_errors
from segpixel.domain.errors import raise_if_any
from segpixel.errors import Conflict, Forbidden


class AdvertiserRepo(Repo[Advertiser]):
    model = Advertiser
    noun = "advertiser"

    def scope(self, stmt: Select[Any]) -> Select[Any]:
        p = self.principal
        if p.is_admin:
            return stmt
        if p.member_id is None:
            return stmt.where(false())
        stmt = stmt.where(Advertiser.member_id == p.member_id)
        if p.role == "advertiser":
            stmt = stmt.where(Advertiser.id == p.advertiser_id)
        return stmt

    def query(
        self,
        *,
        ids: list[int] | None = None,
        code: str | None = None,
        member_id: int | None = None,
        search: str | None = None,
    ) -> Select[Any]:
        stmt = select(Advertiser)
        if ids:
            stmt = stmt.where(Advertiser.id.in_(ids))
        if code is not None:
            stmt = stmt.where(Advertiser.code == code)
        if member_id is not None:
            stmt = stmt.where(Advertiser.member_id == member_id)
        if search:
            # autoescape: '%' and '_' are searched for literally, not as SQL wildcards
            stmt = stmt.where(Advertiser.name.icontains(search, autoescape=True))
        return stmt

    def by_code(self, member_id: int, code: str) -> Advertiser:
        return self.one(self.query(member_id=member_id, code=code), f"code {code!r}")

    def create(self, member_id: int, fields: dict[str, Any]) -> Advertiser:
        self._require_manager(member_id)
        self.require_member(member_id)  # NOTFOUND for an unknown member (not an FK error: 500)
        draft = AdvertiserDraft(
            member_id=member_id,
            name=fields.get("name") or "",
            code=fields.get("code"),
            state=fields.get("state") or "active",
        )
        row = Advertiser(member_id=member_id)
        self._store(row, draft, row_id=None)
        self.session.add(row)
        self.session.flush()
        return row

    def update(self, row: Advertiser, fields: dict[str, Any]) -> Advertiser:
        self._require_manager(row.member_id)
        self.keep_owner(row, fields, "an advertiser")
        current = {"name": row.name, "code": row.code, "state": row.state}
        current.update({k: v for k, v in fields.items() if k in current})
        self._store(row, AdvertiserDraft(member_id=row.member_id, **current), row_id=row.id)
        self.session.flush()
        return row

    def delete(self, row: Advertiser) -> None:
        self._require_manager(row.member_id)
        movable = "delete them or move them to member level first"
        for table, what, advice in (
            (Segment, "segments", movable),
            (User, "users", movable),
            (Creative, "creatives", "delete them first"),  # a creative never changes owner
            (LineItem, "line items", "delete them first"),
        ):
            count = self.session.scalar(
                select(func.count()).select_from(table).where(table.advertiser_id == row.id)
            )
            if count:
                raise Conflict(f"advertiser {row.id} still has {count} {what}; {advice}")
        self.session.delete(row)
        self.session.flush()

    def _require_manager(self, member_id: int) -> None:
        if not self.principal.manages_advertiser(member_id):
            raise Forbidden(f"you may not create or change advertisers of member {member_id}")

    def _store(self, row: Advertiser, draft: AdvertiserDraft, row_id: int | None) -> None:
        raise_if_any(advertiser_errors(draft))
        self.check_unique_code(draft.member_id, draft.code, row_id)
        self.apply(
            row,
            {
                "name": draft.name,
                "code": draft.code,
                "code_key": draft.code.lower() if draft.code else None,
                "state": draft.state,
            },
        )


def advertiser_out(row: Advertiser) -> dict[str, Any]:
    return {
        "id": row.id,
        "member_id": row.member_id,
        "name": row.name,
        "code": row.code,
        "state": row.state,
        "last_modified": fmt_time(row.last_modified),
    }
