"""`/site` (SPEC §1.5, §2): a publisher's sites, which own placements."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from segpixel.api.deps import CallerDep, IdParam, IdsParam, PagingDep
from segpixel.api.params import FieldsParam, SearchParam
from segpixel.api.resources import Owned, plain
from segpixel.api.schemas import SiteBody
from segpixel.api.service_fields import SITE as FIELDS
from segpixel.catalog.inventory import SiteRepo, site_out

router = APIRouter(tags=["site"])
SITE = Owned(FIELDS, SiteRepo, plain(site_out), owner="publisher_id")


@router.get("/site", summary="Read sites, with the reference's filters")
def read_sites(
    caller: CallerDep,
    request: Request,
    paging: PagingDep,
    id: IdsParam = None,
    search: SearchParam = None,
    fields: FieldsParam = None,
) -> dict[str, Any]:
    return SITE.read(caller, request, paging)


@router.post("/site", summary="Create sites of a publisher")
def create_site(
    caller: CallerDep, body: SiteBody, publisher_id: IdParam = None, member_id: IdParam = None
) -> dict[str, Any]:
    return SITE.create(caller, body, publisher_id, member_id)


@router.put("/site", summary="Change sites: fields not sent stay")
def update_site(caller: CallerDep, body: SiteBody, id: IdParam = None) -> dict[str, Any]:
    return SITE.update(caller, body, id)


@router.delete("/site", summary="Delete sites that have no placements: ?id=1,2,3 (all or nothing)")
def delete_site(caller: CallerDep, id: IdsParam = None) -> dict[str, Any]:
    return SITE.delete(caller, id)
