"""`/user`: API and console users (SPEC §2). Passwords are never returned."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from segpixel.api.deps import Caller, CallerDep, IdParam, IdsParam, PagingDep
from segpixel.api.params import FieldsParam
from segpixel.api.resources import Service, plain
from segpixel.api.schemas import UserBody
from segpixel.api.service_fields import USER as FIELDS
from segpixel.catalog.users import UserRepo, user_out

router = APIRouter(tags=["user"])
USER = Service(FIELDS, UserRepo, plain(user_out), params=frozenset())


@router.get("/user", summary="Read users (admin: all; member user: its member's)")
def read_users(
    caller: CallerDep,
    request: Request,
    paging: PagingDep,
    id: IdsParam = None,
    fields: FieldsParam = None,
) -> dict[str, Any]:
    return USER.read(caller, request, paging)


@router.post("/user", summary="Create users")
def create_user(caller: CallerDep, body: UserBody) -> dict[str, Any]:
    return USER.write(
        caller,
        body,
        lambda repo, item: repo.create(item.fields),
        creating=True,
        repo_options=hashing(caller),
    )


@router.put("/user", summary="Change users (a new password ends their open sessions)")
def update_user(caller: CallerDep, body: UserBody, id: IdParam = None) -> dict[str, Any]:
    return USER.write(
        caller,
        body,
        lambda repo, item: repo.update(USER.target(repo, item, id), item.fields),
        repo_options=hashing(caller),
    )


def hashing(caller: Caller) -> dict[str, Any]:
    """Passwords are hashed on the worker's bounded pool, never on the caller's thread alone."""
    return {"hasher": caller.state.passwords.hash}


@router.delete("/user", summary="Delete users: ?id=1,2,3 (all or nothing)")
def delete_user(caller: CallerDep, id: IdsParam = None) -> dict[str, Any]:
    return USER.delete(caller, id)
