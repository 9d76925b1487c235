"""`/line-item` (SPEC §1.5, §7): what an advertiser buys — priority, weight, creatives, profile."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from segpixel.api.deps import CallerDep, IdParam, IdsParam, PagingDep
from segpixel.api.resources import Resource
from segpixel.api.routes.inventory_params import AppendParam, RequiredId, SearchParam
from segpixel.api.schemas import LineItemBody
from segpixel.catalog.line_items import LineItemRepo, line_item_out

router = APIRouter(tags=["line-item"])
LINE_ITEM = Resource("line-item", "line-items", LineItemRepo, line_item_out, "advertiser_id")


@router.get("/line-item", summary="Read line items")
def read_line_items(
    caller: CallerDep,
    paging: PagingDep,
    id: IdsParam = None,
    member_id: IdParam = None,
    advertiser_id: IdParam = None,
    search: SearchParam = None,
) -> dict[str, Any]:
    return LINE_ITEM.read(
        caller, paging, id, search, member_id=member_id, advertiser_id=advertiser_id
    )


@router.post("/line-item", summary="Create a line item of an advertiser")
def create_line_item(
    caller: CallerDep, body: LineItemBody, advertiser_id: IdParam = None, member_id: IdParam = None
) -> dict[str, Any]:
    return LINE_ITEM.create(caller, body.line_item, advertiser_id, member_id)


@router.put(
    "/line-item", summary="Change a line item: fields not sent stay; append=true adds creatives"
)
def update_line_item(
    caller: CallerDep, body: LineItemBody, id: RequiredId, append: AppendParam = False
) -> dict[str, Any]:
    return LINE_ITEM.update(caller, body.line_item, id, append=append)


@router.delete("/line-item", summary="Delete a line item")
def delete_line_item(caller: CallerDep, id: RequiredId) -> dict[str, Any]:
    return LINE_ITEM.delete(caller, id)
