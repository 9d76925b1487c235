"""`/usersync-pixel`: ID-sync partners of a member (SPEC §1.4)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from segpixel.api.deps import CallerDep, IdParam, IdsParam, PagingDep
from segpixel.api.params import FieldsParam
from segpixel.api.resources import Owned, plain
from segpixel.api.schemas import UsersyncBody
from segpixel.api.service_fields import USERSYNC_PIXEL as FIELDS
from segpixel.catalog.usersync import UsersyncRepo, usersync_out

router = APIRouter(tags=["usersync-pixel"])
USERSYNC = Owned(FIELDS, UsersyncRepo, plain(usersync_out), params=frozenset(), owner="member_id")


@router.get("/usersync-pixel", summary="Read usersync pixels, with the reference's filters")
def read_usersync_pixels(
    caller: CallerDep,
    request: Request,
    paging: PagingDep,
    id: IdsParam = None,
    fields: FieldsParam = None,
) -> dict[str, Any]:
    return USERSYNC.read(caller, request, paging)


@router.post("/usersync-pixel", summary="Create usersync pixels (admin)")
def create_usersync_pixel(
    caller: CallerDep, body: UsersyncBody, member_id: IdParam = None
) -> dict[str, Any]:
    return USERSYNC.create(caller, body, None, member_id)


@router.put("/usersync-pixel", summary="Change usersync pixels (admin)")
def update_usersync_pixel(
    caller: CallerDep, body: UsersyncBody, id: IdParam = None
) -> dict[str, Any]:
    return USERSYNC.update(caller, body, id)


@router.delete("/usersync-pixel", summary="Delete usersync pixels (admin): ?id=1,2,3")
def delete_usersync_pixel(caller: CallerDep, id: IdsParam = None) -> dict[str, Any]:
    return USERSYNC.delete(caller, id)
