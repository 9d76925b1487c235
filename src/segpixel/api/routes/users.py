"""`/user`: API and console users (SPEC §2). Passwords are never returned."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from segpixel.api.deps import CallerDep, IdParam, IdsParam, PagingDep, page_for
from segpixel.api.envelope import ok
from segpixel.api.listing import one, page_of
from segpixel.api.schemas import UserBody
from segpixel.catalog.users import UserRepo, user_out
from segpixel.domain.paging import parse_id_list

router = APIRouter(tags=["user"])
RequiredId = Annotated[int, Query(ge=1, le=2**31 - 1)]


@router.get("/user", summary="Read users (admin: all; member user: its member's)")
def read_users(
    caller: CallerDep, paging: PagingDep, id: IdsParam = None, member_id: IdParam = None
) -> dict[str, Any]:
    page = page_for(paging, UserRepo)
    with caller.repo(UserRepo) as repo:
        ids = parse_id_list("id", id) if id else None
        if ids and len(ids) == 1:
            return one("user", repo.get(ids[0]), user_out)
        return page_of(repo, repo.query(ids=ids, member_id=member_id), page, "users", user_out)


@router.post("/user", summary="Create a user")
def create_user(caller: CallerDep, body: UserBody) -> dict[str, Any]:
    with caller.repo(UserRepo, hasher=caller.state.passwords.hash) as repo:
        return one("user", repo.create(body.user.model_dump(exclude_unset=True)), user_out)


@router.put("/user", summary="Change a user (a new password ends its open sessions)")
def update_user(caller: CallerDep, body: UserBody, id: RequiredId) -> dict[str, Any]:
    with caller.repo(UserRepo, hasher=caller.state.passwords.hash) as repo:
        row = repo.update(repo.get(id), body.user.model_dump(exclude_unset=True))
        return one("user", row, user_out)


@router.delete("/user", summary="Delete a user")
def delete_user(caller: CallerDep, id: RequiredId) -> dict[str, Any]:
    with caller.repo(UserRepo) as repo:
        repo.delete(repo.get(id))
        return ok({"id": id})
