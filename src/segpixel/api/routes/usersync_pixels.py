"""`/usersync-pixel`: ID-sync partners of a member (SPEC §1.4)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from segpixel.api.deps import CallerDep, IdParam, IdsParam, PagingDep
from segpixel.api.owners import one_of, resolve_member
from segpixel.api.params import FieldsParam
from segpixel.api.resources import Service, plain
from segpixel.api.schemas import UsersyncBody
from segpixel.api.service_fields import USERSYNC_PIXEL as FIELDS
from segpixel.api.writes import Item
from segpixel.catalog.tables import UsersyncPixel
from segpixel.catalog.usersync import UsersyncRepo, usersync_out
from segpixel.domain.errors import ValidationFailed, field_error

router = APIRouter(tags=["usersync-pixel"])
USERSYNC = Service(FIELDS, UsersyncRepo, plain(usersync_out), params=frozenset())


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
    def create(repo: UsersyncRepo, item: Item) -> UsersyncPixel:
        fields = dict(item.fields)
        member = one_of("member_id", member_id, fields.pop("member_id", None))
        return repo.create(resolve_member(caller.principal, member), fields)

    return USERSYNC.write(caller, body, create, creating=True)


@router.put("/usersync-pixel", summary="Change usersync pixels (admin)")
def update_usersync_pixel(
    caller: CallerDep, body: UsersyncBody, id: IdParam = None
) -> dict[str, Any]:
    def update(repo: UsersyncRepo, item: Item) -> UsersyncPixel:
        row = USERSYNC.target(repo, item, id)
        fields = dict(item.fields)
        if fields.pop("member_id", row.member_id) != row.member_id:
            raise ValidationFailed([field_error("member_id", "cannot be changed")])
        return repo.update(row, fields)

    return USERSYNC.write(caller, body, update)


@router.delete("/usersync-pixel", summary="Delete usersync pixels (admin): ?id=1,2,3")
def delete_usersync_pixel(caller: CallerDep, id: IdsParam = None) -> dict[str, Any]:
    return USERSYNC.delete(caller, id)
