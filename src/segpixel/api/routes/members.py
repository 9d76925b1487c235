"""`/member`: tenants, their redirect allow-list and dongle (SPEC §1.1, §3.4, §3.6)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from segpixel.api.deps import CallerDep, IdParam, IdsParam, PagingDep, page_for
from segpixel.api.envelope import ok
from segpixel.api.listing import one, page_of
from segpixel.api.schemas import MemberBody
from segpixel.catalog.members import MemberRepo, member_out
from segpixel.domain.access import Principal
from segpixel.domain.errors import ValidationFailed, field_error
from segpixel.domain.paging import parse_id_list

router = APIRouter(tags=["member"])


def _out(principal: Principal):  # type: ignore[no-untyped-def]
    """The dongle is a secret: only those who manage the member see it."""
    return lambda row: member_out(row, with_secrets=principal.manages_member(row.id))


@router.get("/member", summary="Read members (yours, or all for an admin)")
def read_members(
    caller: CallerDep,
    paging: PagingDep,
    id: IdsParam = None,
    search: Annotated[str | None, Query(max_length=255)] = None,
) -> dict[str, Any]:
    page = page_for(paging, MemberRepo)
    out = _out(caller.principal)
    with caller.repo(MemberRepo) as repo:
        ids = parse_id_list("id", id) if id else None
        if ids and len(ids) == 1:
            return one("member", repo.get(ids[0]), out)
        return page_of(repo, repo.query(ids=ids, search=search), page, "members", out)


@router.post("/member", summary="Create a member (admin)")
def create_member(caller: CallerDep, body: MemberBody) -> dict[str, Any]:
    with caller.repo(MemberRepo) as repo:
        row = repo.create(body.member.model_dump(exclude_unset=True))
        return one("member", row, _out(caller.principal))


@router.put("/member", summary="Change a member: name, redirect_domains, dongle (state: admin)")
def update_member(caller: CallerDep, body: MemberBody, id: IdParam = None) -> dict[str, Any]:
    member_id = id or caller.principal.member_id
    if member_id is None:
        raise ValidationFailed([field_error("id", "is required")])
    with caller.repo(MemberRepo) as repo:
        row = repo.update(repo.get(member_id), body.member.model_dump(exclude_unset=True))
        return one("member", row, _out(caller.principal))


@router.delete("/member", summary="Delete an empty member (admin)")
def delete_member(
    caller: CallerDep, id: Annotated[int, Query(ge=1, le=2**31 - 1)]
) -> dict[str, Any]:
    with caller.repo(MemberRepo) as repo:
        repo.delete(repo.get(id))
        return ok({"id": id})
