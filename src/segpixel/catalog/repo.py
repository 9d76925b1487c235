"""What every catalog repository shares: scoping by caller, lookups, paging, timestamps."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from segpixel.catalog.tables import Base, Member
from segpixel.domain.access import Principal
from segpixel.domain.errors import ValidationFailed, field_error
from segpixel.domain.fields import code_collision_error
from segpixel.domain.filters import Filter
from segpixel.domain.paging import Page
from segpixel.errors import Conflict, Forbidden, NotFound

Row = TypeVar("Row", bound=Base)


def utcnow() -> datetime:
    """Naive UTC, second precision: what `last_modified` shows (`YYYY-MM-DD HH:MM:SS`)."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def fmt_time(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S")


class Repo(Generic[Row]):
    """A table seen through a caller's eyes: rows it may not see do not exist for it."""

    model: ClassVar[type[Base]]
    noun: ClassVar[str]  # "segment", as in error sentences
    sortable: ClassVar[tuple[str, ...]] = ("id",)  # the API's come from api/service_fields.py

    def __init__(self, session: Session, principal: Principal):
        self.session = session
        self.principal = principal

    def scope(self, stmt: Select[Any]) -> Select[Any]:
        """Restrict a query to the rows the caller may see."""
        raise NotImplementedError

    def get(self, row_id: int) -> Row:
        rows = self.get_many([row_id])
        return rows[0]

    def get_many(self, ids: Sequence[int]) -> list[Row]:
        stmt = self.scope(select(self.model).where(self.model.id.in_(ids)))  # type: ignore[attr-defined]
        rows = {r.id: r for r in self.session.scalars(stmt)}
        missing = [i for i in ids if i not in rows]
        if missing:
            raise NotFound(f"{self.noun} {', '.join(map(str, missing))} not found")
        return [rows[i] for i in ids]

    def one(self, stmt: Select[Any], what: str) -> Row:
        """The first visible row of `stmt`, or NOTFOUND naming `what` was looked for."""
        row = self.session.scalars(self.scope(stmt)).first()
        if row is None:
            raise NotFound(f"{self.noun} with {what} not found")
        return row

    def filtered(self, stmt: Select[Any], filters: Sequence[Filter]) -> Select[Any]:
        """`stmt` narrowed by listing filters (domain/filters.py) on the columns they name."""
        for flt in filters:
            stmt = stmt.where(_condition(getattr(self.model, flt.field), flt))
        return stmt

    def list(self, stmt: Select[Any], page: Page) -> tuple[int, list[Row]]:
        stmt = self.scope(stmt)
        total = self.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        column = getattr(self.model, page.sort_field)
        order = [column.desc() if page.descending else column.asc(), self.model.id.asc()]  # type: ignore[attr-defined]
        rows = self.session.scalars(
            stmt.order_by(*order).offset(page.start_element).limit(page.num_elements)
        )
        return total, list(rows)

    def require_member(self, member_id: int) -> None:
        if not self.principal.sees_member(member_id):
            raise Forbidden(f"you may not act for member {member_id}")
        if self.session.get(Member, member_id) is None:  # else the insert fails on the FK: 500
            raise NotFound(f"member {member_id} not found")

    def check_unique_code(self, member_id: int, code: str | None, row_id: int | None) -> None:
        """Codes are unique per member ignoring case (SPEC §1.1, §1.2): INTEGRITY on a clash."""
        if code is None:
            return
        stmt = select(self.model).where(
            self.model.member_id == member_id,  # type: ignore[attr-defined]
            self.model.code_key == code.lower(),  # type: ignore[attr-defined]
        )
        if row_id is not None:
            stmt = stmt.where(self.model.id != row_id)  # type: ignore[attr-defined]
        clash = self.session.scalars(stmt).first()
        if clash is not None:
            error = code_collision_error("code", code, clash.code, self.noun)  # type: ignore[attr-defined]
            raise Conflict(error.message, [error])

    def keep_owner(self, row: Row, fields: dict[str, Any], noun: str = "") -> None:
        """A PUT may send the owner back unchanged (a round trip), never another one."""
        if "member_id" in fields and fields["member_id"] != row.member_id:  # type: ignore[attr-defined]
            raise ValidationFailed(
                [
                    field_error(
                        "member_id", f"cannot be changed: {noun or 'it'} stays with its member"
                    )
                ]
            )

    def touch(self, row: Row) -> None:
        row.last_modified = utcnow()  # type: ignore[attr-defined]

    def apply(self, row: Row, fields: dict[str, Any]) -> None:
        for name, value in fields.items():
            setattr(row, name, value)
        self.touch(row)


def _condition(column: Any, flt: Filter) -> ColumnElement[bool]:
    op, values = flt.op, flt.values
    if op == "in":
        return column.in_(values) if len(values) > 1 else column == values[0]
    if op == "not_in":  # a NULL is not any of the values listed
        return column.not_in(values) | column.is_(None)
    if op == "eq":
        return column == values[0]
    if op == "ne":
        return (column != values[0]) | column.is_(None)
    if op == "min":
        return column >= values[0]
    if op == "max":
        return column <= values[0]
    if op == "like":  # autoescape: '%' and '_' are looked for literally
        return column.icontains(values[0], autoescape=True)
    if op == "null":
        return column.is_(None)
    if op == "not_null":
        return column.is_not(None)
    raise ValueError(f"unknown filter operator {op!r}")
