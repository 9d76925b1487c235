"""`/placement` (SPEC §1.5, §2): a site's placements, what an ad call names."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from segpixel.api.deps import CallerDep, IdParam, IdsParam, PagingDep
from segpixel.api.params import FieldsParam, SearchParam
from segpixel.api.resources import Owned, plain
from segpixel.api.schemas import PlacementBody
from segpixel.api.service_fields import PLACEMENT as FIELDS
from segpixel.catalog.inventory import PlacementRepo, placement_out

router = APIRouter(tags=["placement"])
PLACEMENT = Owned(FIELDS, PlacementRepo, plain(placement_out), owner="site_id")


@router.get("/placement", summary="Read placements, with the reference's filters")
def read_placements(
    caller: CallerDep,
    request: Request,
    paging: PagingDep,
    id: IdsParam = None,
    search: SearchParam = None,
    fields: FieldsParam = None,
) -> dict[str, Any]:
    return PLACEMENT.read(caller, request, paging)


@router.post("/placement", summary="Create placements of a site")
def create_placement(
    caller: CallerDep, body: PlacementBody, site_id: IdParam = None, member_id: IdParam = None
) -> dict[str, Any]:
    return PLACEMENT.create(caller, body, site_id, member_id)


@router.put("/placement", summary="Change placements: fields not sent stay")
def update_placement(caller: CallerDep, body: PlacementBody, id: IdParam = None) -> dict[str, Any]:
    return PLACEMENT.update(caller, body, id)


@router.delete("/placement", summary="Delete placements: ?id=1,2,3 (all or nothing)")
def delete_placement(caller: CallerDep, id: IdsParam = None) -> dict[str, Any]:
    return PLACEMENT.delete(caller, id)
