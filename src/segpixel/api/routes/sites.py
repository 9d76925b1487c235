"""`/site` (SPEC §1.5, §2): a publisher's sites, which own placements."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from segpixel.api.deps import CallerDep, IdParam, IdsParam, PagingDep
from segpixel.api.resources import Resource
from segpixel.api.routes.inventory_params import RequiredId, SearchParam
from segpixel.api.schemas import SiteBody
from segpixel.catalog.inventory import SiteRepo, site_out

router = APIRouter(tags=["site"])
SITE = Resource("site", "sites", SiteRepo, site_out, "publisher_id")


@router.get("/site", summary="Read sites")
def read_sites(
    caller: CallerDep,
    paging: PagingDep,
    id: IdsParam = None,
    member_id: IdParam = None,
    publisher_id: IdParam = None,
    search: SearchParam = None,
) -> dict[str, Any]:
    return SITE.read(caller, paging, id, search, member_id=member_id, publisher_id=publisher_id)


@router.post("/site", summary="Create a site of a publisher")
def create_site(
    caller: CallerDep, body: SiteBody, publisher_id: IdParam = None, member_id: IdParam = None
) -> dict[str, Any]:
    return SITE.create(caller, body.site, publisher_id, member_id)


@router.put("/site", summary="Change a site: fields not sent stay")
def update_site(caller: CallerDep, body: SiteBody, id: RequiredId) -> dict[str, Any]:
    return SITE.update(caller, body.site, id)


@router.delete("/site", summary="Delete a site that has no placements")
def delete_site(caller: CallerDep, id: RequiredId) -> dict[str, Any]:
    return SITE.delete(caller, id)
