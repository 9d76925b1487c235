"""`/creative` (SPEC §1.5, §6): an advertiser's ads, with the segments they add on view or click."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from segpixel.api.deps import CallerDep, IdParam, IdsParam, PagingDep
from segpixel.api.resources import Resource
from segpixel.api.routes.inventory_params import AppendParam, RequiredId, SearchParam
from segpixel.api.schemas import CreativeBody
from segpixel.catalog.creatives import CreativeRepo, creative_out

router = APIRouter(tags=["creative"])
CREATIVE = Resource("creative", "creatives", CreativeRepo, creative_out, "advertiser_id")


@router.get("/creative", summary="Read creatives")
def read_creatives(
    caller: CallerDep,
    paging: PagingDep,
    id: IdsParam = None,
    member_id: IdParam = None,
    advertiser_id: IdParam = None,
    search: SearchParam = None,
) -> dict[str, Any]:
    return CREATIVE.read(
        caller, paging, id, search, member_id=member_id, advertiser_id=advertiser_id
    )


@router.post("/creative", summary="Create a creative of an advertiser")
def create_creative(
    caller: CallerDep, body: CreativeBody, advertiser_id: IdParam = None, member_id: IdParam = None
) -> dict[str, Any]:
    return CREATIVE.create(caller, body.creative, advertiser_id, member_id)


@router.put(
    "/creative", summary="Change a creative: fields not sent stay; append=true adds segments"
)
def update_creative(
    caller: CallerDep, body: CreativeBody, id: RequiredId, append: AppendParam = False
) -> dict[str, Any]:
    return CREATIVE.update(caller, body.creative, id, append=append)


@router.delete("/creative", summary="Delete a creative no line item uses")
def delete_creative(caller: CallerDep, id: RequiredId) -> dict[str, Any]:
    return CREATIVE.delete(caller, id)
