"""`/publisher` (SPEC §1.5, §2): a member's publishers, which own sites."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from segpixel.api.deps import CallerDep, IdParam, IdsParam, PagingDep
from segpixel.api.params import FieldsParam, SearchParam
from segpixel.api.resources import Owned, plain
from segpixel.api.schemas import PublisherBody
from segpixel.api.service_fields import PUBLISHER as FIELDS
from segpixel.catalog.inventory import PublisherRepo, publisher_out

router = APIRouter(tags=["publisher"])
PUBLISHER = Owned(FIELDS, PublisherRepo, plain(publisher_out), owner="member_id")


@router.get("/publisher", summary="Read publishers, with the reference's filters")
def read_publishers(
    caller: CallerDep,
    request: Request,
    paging: PagingDep,
    id: IdsParam = None,
    search: SearchParam = None,
    fields: FieldsParam = None,
) -> dict[str, Any]:
    return PUBLISHER.read(caller, request, paging)


@router.post("/publisher", summary="Create publishers")
def create_publisher(
    caller: CallerDep, body: PublisherBody, member_id: IdParam = None
) -> dict[str, Any]:
    return PUBLISHER.create(caller, body, None, member_id)


@router.put("/publisher", summary="Change publishers: fields not sent stay")
def update_publisher(caller: CallerDep, body: PublisherBody, id: IdParam = None) -> dict[str, Any]:
    return PUBLISHER.update(caller, body, id)


@router.delete(
    "/publisher", summary="Delete publishers that have no sites: ?id=1,2,3 (all or nothing)"
)
def delete_publisher(caller: CallerDep, id: IdsParam = None) -> dict[str, Any]:
    return PUBLISHER.delete(caller, id)
