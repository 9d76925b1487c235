"""Usersync (ID-sync partner) pixels in the catalog (SPEC §1.4)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, false, select

from segpixel.catalog.repo import Repo, fmt_time
from segpixel.catalog.tables import UsersyncPixel
from segpixel.domain.errors import raise_if_any
from segpixel.domain.usersync import UsersyncDraft, usersync_errors
from segpixel.errors import Forbidden

FIELDS = ("name", "url", "pixel_type", "state", "priority")


class UsersyncRepo(Repo[UsersyncPixel]):
    model = UsersyncPixel
    noun = "usersync-pixel"

    def scope(self, stmt: Select[Any]) -> Select[Any]:
        p = self.principal
        if p.is_admin:
            return stmt
        if p.role != "member" or p.member_id is None:
            return stmt.where(false())
        return stmt.where(UsersyncPixel.member_id == p.member_id)

    def query(self, *, ids: list[int] | None = None, member_id: int | None = None) -> Select[Any]:
        stmt = select(UsersyncPixel)
        if ids:
            stmt = stmt.where(UsersyncPixel.id.in_(ids))
        if member_id is not None:
            stmt = stmt.where(UsersyncPixel.member_id == member_id)
        return stmt

    def create(self, member_id: int, fields: dict[str, Any]) -> UsersyncPixel:
        self._require_admin()
        self.require_member(member_id)
        row = UsersyncPixel(member_id=member_id)
        self._store(row, member_id, {k: v for k, v in fields.items() if v is not None})
        self.session.add(row)
        self.session.flush()
        return row

    def update(self, row: UsersyncPixel, fields: dict[str, Any]) -> UsersyncPixel:
        self._require_admin()
        self.keep_owner(row, fields, "a usersync pixel")
        current = {name: getattr(row, name) for name in FIELDS}
        current.update({k: v for k, v in fields.items() if k in FIELDS and v is not None})
        self._store(row, row.member_id, current)
        self.session.flush()
        return row

    def delete(self, row: UsersyncPixel) -> None:
        self._require_admin()
        self.session.delete(row)
        self.session.flush()

    def _require_admin(self) -> None:
        if not self.principal.is_admin:
            raise Forbidden("only an admin may manage usersync pixels")

    def _store(self, row: UsersyncPixel, member_id: int, values: dict[str, Any]) -> None:
        values = {"name": "", "url": "", **{k: v for k, v in values.items() if k in FIELDS}}
        draft = UsersyncDraft(member_id=member_id, **values)
        raise_if_any(usersync_errors(draft))
        self.apply(row, {name: getattr(draft, name) for name in FIELDS})


def usersync_out(row: UsersyncPixel) -> dict[str, Any]:
    return {
        "id": row.id,
        "member_id": row.member_id,
        "name": row.name,
        "url": row.url,
        "pixel_type": row.pixel_type,
        "state": row.state,
        "priority": row.priority,
        "last_modified": fmt_time(row.last_modified),
    }
