"""`/placement` (SPEC §1.5, §2): a site's placements, what an ad call names."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from segpixel.api.deps import CallerDep, IdParam, IdsParam, PagingDep
from segpixel.api.resources import Resource
from segpixel.api.routes.inventory_params import RequiredId, SearchParam
from segpixel.api.schemas import PlacementBody
from segpixel.catalog.inventory import PlacementRepo, placement_out

router = APIRouter(tags=["placement"])
PLACEMENT = Resource("placement", "placements", PlacementRepo, placement_out, "site_id")


@router.get("/placement", summary="Read placements")
def read_placements(
    caller: CallerDep,
    paging: PagingDep,
    id: IdsParam = None,
    member_id: IdParam = None,
    site_id: IdParam = None,
    search: SearchParam = None,
) -> dict[str, Any]:
    return PLACEMENT.read(caller, paging, id, search, member_id=member_id, site_id=site_id)


@router.post("/placement", summary="Create a placement of a site")
def create_placement(
    caller: CallerDep, body: PlacementBody, site_id: IdParam = None, member_id: IdParam = None
) -> dict[str, Any]:
    return PLACEMENT.create(caller, body.placement, site_id, member_id)


@router.put("/placement", summary="Change a placement: fields not sent stay")
def update_placement(caller: CallerDep, body: PlacementBody, id: RequiredId) -> dict[str, Any]:
    return PLACEMENT.update(caller, body.placement, id)


@router.delete("/placement", summary="Delete a placement")
def delete_placement(caller: CallerDep, id: RequiredId) -> dict[str, Any]:
    return PLACEMENT.delete(caller, id)
