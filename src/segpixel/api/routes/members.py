"""`/member`: tenants, their redirect allow-list and dongle (SPEC §1.1, §3.4, §3.6)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from segpixel.api.deps import CallerDep, IdParam, IdsParam, PagingDep
from segpixel.api.params import FieldsParam, SearchParam
from segpixel.api.resources import Service
from segpixel.api.schemas import MemberBody
from segpixel.api.service_fields import MEMBER as FIELDS
from segpixel.api.writes import Item
from segpixel.catalog.members import MemberRepo, member_out
from segpixel.catalog.tables import Member
from segpixel.domain.access import Principal

router = APIRouter(tags=["member"])


def _out(row: Member, principal: Principal) -> dict[str, Any]:
    """The dongle is a secret: only those who manage the member see it."""
    return member_out(row, with_secrets=principal.manages_member(row.id))


MEMBER = Service(FIELDS, MemberRepo, _out)


@router.get("/member", summary="Read members (yours, or all for an admin)")
def read_members(
    caller: CallerDep,
    request: Request,
    paging: PagingDep,
    id: IdsParam = None,
    search: SearchParam = None,
    fields: FieldsParam = None,
) -> dict[str, Any]:
    return MEMBER.read(caller, request, paging)


@router.post("/member", summary="Create members (admin)")
def create_member(caller: CallerDep, body: MemberBody) -> dict[str, Any]:
    return MEMBER.write(caller, body, lambda repo, item: repo.create(item.fields), creating=True)


@router.put("/member", summary="Change a member: name, redirect_domains, dongle (state: admin)")
def update_member(caller: CallerDep, body: MemberBody, id: IdParam = None) -> dict[str, Any]:
    def update(repo: MemberRepo, item: Item) -> Member:
        # without an id, a member user changes its own member
        own = None if item.id is not None else caller.principal.member_id
        return repo.update(MEMBER.target(repo, item, id or own), item.fields)

    return MEMBER.write(caller, body, update)


@router.delete("/member", summary="Delete empty members (admin): ?id=1,2,3 (all or nothing)")
def delete_member(caller: CallerDep, id: IdsParam = None) -> dict[str, Any]:
    return MEMBER.delete(caller, id)
