"""`/publisher` (SPEC §1.5, §2): a member's publishers, which own sites."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from segpixel.api.deps import CallerDep, IdParam, IdsParam, PagingDep
from segpixel.api.resources import Resource
from segpixel.api.routes.inventory_params import RequiredId, SearchParam
from segpixel.api.schemas import PublisherBody
from segpixel.catalog.inventory import PublisherRepo, publisher_out

router = APIRouter(tags=["publisher"])
PUBLISHER = Resource("publisher", "publishers", PublisherRepo, publisher_out, "member_id")


@router.get("/publisher", summary="Read publishers")
def read_publishers(
    caller: CallerDep,
    paging: PagingDep,
    id: IdsParam = None,
    member_id: IdParam = None,
    search: SearchParam = None,
) -> dict[str, Any]:
    return PUBLISHER.read(caller, paging, id, search, member_id=member_id)


@router.post("/publisher", summary="Create a publisher")
def create_publisher(
    caller: CallerDep, body: PublisherBody, member_id: IdParam = None
) -> dict[str, Any]:
    return PUBLISHER.create(caller, body.publisher, None, member_id)


@router.put("/publisher", summary="Change a publisher: fields not sent stay")
def update_publisher(caller: CallerDep, body: PublisherBody, id: RequiredId) -> dict[str, Any]:
    return PUBLISHER.update(caller, body.publisher, id)


@router.delete("/publisher", summary="Delete a publisher that has no sites")
def delete_publisher(caller: CallerDep, id: RequiredId) -> dict[str, Any]:
    return PUBLISHER.delete(caller, id)
