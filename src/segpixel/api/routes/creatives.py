"""`/creative` (SPEC §1.5, §2): an advertiser's ads, with the segments they add on view or click."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from segpixel.api.deps import CallerDep, IdParam, IdsParam, PagingDep
from segpixel.api.params import AppendParam, FieldsParam, SearchParam
from segpixel.api.resources import Owned, plain
from segpixel.api.schemas import CreativeBody
from segpixel.api.service_fields import CREATIVE as FIELDS
from segpixel.catalog.creatives import CreativeRepo, creative_out

router = APIRouter(tags=["creative"])
CREATIVE = Owned(FIELDS, CreativeRepo, plain(creative_out), owner="advertiser_id")


@router.get("/creative", summary="Read creatives, with the reference's filters")
def read_creatives(
    caller: CallerDep,
    request: Request,
    paging: PagingDep,
    id: IdsParam = None,
    search: SearchParam = None,
    fields: FieldsParam = None,
) -> dict[str, Any]:
    return CREATIVE.read(caller, request, paging)


@router.post("/creative", summary="Create creatives of an advertiser")
def create_creative(
    caller: CallerDep, body: CreativeBody, advertiser_id: IdParam = None, member_id: IdParam = None
) -> dict[str, Any]:
    return CREATIVE.create(caller, body, advertiser_id, member_id)


@router.put(
    "/creative", summary="Change creatives: fields not sent stay; append=true adds segments"
)
def update_creative(
    caller: CallerDep, body: CreativeBody, id: IdParam = None, append: AppendParam = False
) -> dict[str, Any]:
    return CREATIVE.update(caller, body, id, append=append)


@router.delete(
    "/creative", summary="Delete creatives no line item uses: ?id=1,2,3 (all or nothing)"
)
def delete_creative(caller: CallerDep, id: IdsParam = None) -> dict[str, Any]:
    return CREATIVE.delete(caller, id)
