"""`/line-item` (SPEC §1.5, §7): what an advertiser buys — priority, weight, creatives, profile."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from segpixel.api.deps import CallerDep, IdParam, IdsParam, PagingDep
from segpixel.api.params import AppendParam, FieldsParam, SearchParam
from segpixel.api.resources import Owned, plain
from segpixel.api.schemas import LineItemBody
from segpixel.api.service_fields import LINE_ITEM as FIELDS
from segpixel.catalog.line_items import LineItemRepo, line_item_out

router = APIRouter(tags=["line-item"])
LINE_ITEM = Owned(FIELDS, LineItemRepo, plain(line_item_out), owner="advertiser_id")


@router.get("/line-item", summary="Read line items, with the reference's filters")
def read_line_items(
    caller: CallerDep,
    request: Request,
    paging: PagingDep,
    id: IdsParam = None,
    search: SearchParam = None,
    fields: FieldsParam = None,
) -> dict[str, Any]:
    return LINE_ITEM.read(caller, request, paging)


@router.post("/line-item", summary="Create line items of an advertiser")
def create_line_item(
    caller: CallerDep, body: LineItemBody, advertiser_id: IdParam = None, member_id: IdParam = None
) -> dict[str, Any]:
    return LINE_ITEM.create(caller, body, advertiser_id, member_id)


@router.put(
    "/line-item", summary="Change line items: fields not sent stay; append=true adds creatives"
)
def update_line_item(
    caller: CallerDep, body: LineItemBody, id: IdParam = None, append: AppendParam = False
) -> dict[str, Any]:
    return LINE_ITEM.update(caller, body, id, append=append)


@router.delete("/line-item", summary="Delete line items: ?id=1,2,3 (all or nothing)")
def delete_line_item(caller: CallerDep, id: IdsParam = None) -> dict[str, Any]:
    return LINE_ITEM.delete(caller, id)
