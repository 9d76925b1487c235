"""Repositories of objects that belong to a member (inventory) or to an advertiser (creatives,
line items): who sees them, who changes them, and the list filters they share (SPEC §1.1, §2)."""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import Select, String, cast, false, func, or_, select

from segpixel.catalog.advertisers import AdvertiserRepo
from segpixel.catalog.repo import Repo, Row
from segpixel.catalog.tables import Base
from segpixel.errors import Conflict, Forbidden


class OwnedRepo(Repo[Row]):
    """Filters shared by every list: ids, equality on owner columns, and search by id or name."""

    # (table, foreign key column, what) whose rows keep one of ours from being deleted
    dependents: ClassVar[tuple[tuple[type[Base], str, str], ...]] = ()

    def query(
        self, *, ids: list[int] | None = None, search: str | None = None, **owners: int | None
    ) -> Select[Any]:
        model: Any = self.model
        stmt = select(model)
        if ids:
            stmt = stmt.where(model.id.in_(ids))
        for column, value in owners.items():
            if value is not None:
                stmt = stmt.where(getattr(model, column) == value)
        if search:
            # autoescape: '%' and '_' are searched for literally, not as SQL wildcards
            stmt = stmt.where(
                or_(cast(model.id, String) == search, model.name.icontains(search, autoescape=True))
            )
        return stmt

    def check_unused(self, row: Row) -> None:
        """INTEGRITY while another object still points at `row`."""
        for table, column, what in self.dependents:
            count = self.session.scalar(
                select(func.count()).select_from(table).where(getattr(table, column) == row.id)  # type: ignore[attr-defined]
            )
            if count:
                raise Conflict(
                    f"{self.noun} {row.id} is still used by {count} {what}; delete or change "  # type: ignore[attr-defined]
                    "them first"
                )


class MemberOwnedRepo(OwnedRepo[Row]):
    """Seen by every user of the member; changed by admins and the member's own users."""

    def scope(self, stmt: Select[Any]) -> Select[Any]:
        p = self.principal
        if p.is_admin:
            return stmt
        if p.member_id is None:
            return stmt.where(false())
        return stmt.where(self.model.member_id == p.member_id)  # type: ignore[attr-defined]

    def require_manager(self, member_id: int) -> None:
        if not self.principal.manages_member(member_id):
            raise Forbidden(f"you may not create or change {self.noun}s of member {member_id}")


class AdvertiserOwnedRepo(OwnedRepo[Row]):
    """Seen and changed by admins, the member's users, and the advertiser's own users."""

    def scope(self, stmt: Select[Any]) -> Select[Any]:
        p = self.principal
        model: Any = self.model
        if p.is_admin:
            return stmt
        if p.member_id is None:
            return stmt.where(false())
        stmt = stmt.where(model.member_id == p.member_id)
        if p.role == "advertiser":
            stmt = stmt.where(model.advertiser_id == p.advertiser_id)
        return stmt

    def owner(self, advertiser_id: int) -> tuple[int, int]:
        """(member id, advertiser id) of a new object; NOTFOUND when the caller cannot see it."""
        advertiser = AdvertiserRepo(self.session, self.principal).get(advertiser_id)
        self.require_changer(advertiser.member_id, advertiser.id)
        return advertiser.member_id, advertiser.id

    def require_changer(self, member_id: int, advertiser_id: int) -> None:
        if not self.principal.sees_advertiser(member_id, advertiser_id):
            raise Forbidden(
                f"you may not create or change {self.noun}s of advertiser {advertiser_id}"
            )
