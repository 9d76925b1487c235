"""Members (tenants) in the catalog (SPEC §1.1)."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import Select, false, func, select

from segpixel.catalog.repo import Repo, fmt_time
from segpixel.catalog.tables import Advertiser, Member, Publisher, Segment, User, UsersyncPixel
from segpixel.domain.errors import raise_if_any
from segpixel.domain.members import MemberDraft, member_errors, normalize_redirect_domains
from segpixel.errors import Conflict, Forbidden
from segpixel.public_suffix import is_public_suffix


class MemberRepo(Repo[Member]):
    model = Member
    noun = "member"

    def scope(self, stmt: Select[Any]) -> Select[Any]:
        p = self.principal
        if p.is_admin:
            return stmt
        return stmt.where(Member.id == p.member_id) if p.member_id else stmt.where(false())

    def query(self, *, ids: list[int] | None = None, search: str | None = None) -> Select[Any]:
        stmt = select(Member)
        if ids:
            stmt = stmt.where(Member.id.in_(ids))
        if search:
            # autoescape: '%' and '_' are searched for literally, not as SQL wildcards
            stmt = stmt.where(Member.name.icontains(search, autoescape=True))
        return stmt

    def create(self, fields: dict[str, Any]) -> Member:
        if not self.principal.is_admin:
            raise Forbidden("only an admin may create members")
        row = Member()
        self._store(row, _draft({}, fields))
        self.session.add(row)
        self.session.flush()
        return row

    def update(self, row: Member, fields: dict[str, Any]) -> Member:
        if not self.principal.manages_member(row.id):
            raise Forbidden(f"you may not change member {row.id}")
        if "state" in fields and fields["state"] != row.state and not self.principal.is_admin:
            raise Forbidden("only an admin may change a member's state")
        current = {
            "name": row.name,
            "state": row.state,
            "redirect_domains": row.redirect_domains,
            "dongle": row.dongle,
        }
        self._store(row, _draft(current, fields))
        self.session.flush()
        return row

    def delete(self, row: Member) -> None:
        if not self.principal.is_admin:
            raise Forbidden("only an admin may delete members")
        for table, what in (
            (Advertiser, "advertisers"),
            (Publisher, "publishers"),
            (Segment, "segments"),
            (UsersyncPixel, "usersync pixels"),
            (User, "users"),
        ):
            count = self.session.scalar(
                select(func.count()).select_from(table).where(table.member_id == row.id)
            )
            if count:
                raise Conflict(f"member {row.id} still has {count} {what}; delete them first")
        self.session.delete(row)
        self.session.flush()

    def _store(self, row: Member, draft: MemberDraft) -> None:
        raise_if_any(member_errors(draft, is_public_suffix))
        self.apply(
            row,
            {
                "name": draft.name,
                "state": draft.state,
                "redirect_domains": list(normalize_redirect_domains(draft.redirect_domains)),
                "dongle": draft.dongle or secrets.token_urlsafe(18),
            },
        )


def _draft(current: dict[str, Any], fields: dict[str, Any]) -> MemberDraft:
    merged = {**current, **{k: v for k, v in fields.items() if k in MemberDraft.__slots__}}
    return MemberDraft(
        name=merged.get("name") or "",
        state=merged.get("state") or "active",
        redirect_domains=tuple(merged.get("redirect_domains") or ()),
        dongle=merged.get("dongle"),
    )


def member_out(row: Member, with_secrets: bool) -> dict[str, Any]:
    out = {
        "id": row.id,
        "name": row.name,
        "state": row.state,
        "redirect_domains": row.redirect_domains,
        "last_modified": fmt_time(row.last_modified),
    }
    if with_secrets:
        out["dongle"] = row.dongle
    return out
