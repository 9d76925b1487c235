"""`/SERVICE/meta` for every service (SPEC §2.1): its fields, their type, and whether lists
filter and sort on them — read from the service's table (api/service_fields.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from segpixel.api.deps import CallerDep
from segpixel.api.envelope import ok
from segpixel.api.service_fields import MEMBER_SETTINGS, SERVICES, ServiceFields

router = APIRouter(tags=["meta"])


def meta_of(service: ServiceFields) -> dict[str, Any]:
    fields = service.meta()
    return ok({"fields": fields, "not_implemented": list(service.unimplemented)}, count=len(fields))


def _route(service: ServiceFields) -> None:
    def read_meta(caller: CallerDep) -> dict[str, Any]:
        return meta_of(service)

    read_meta.__name__ = f"read_{service.key.replace('-', '_')}_meta"
    router.add_api_route(
        f"/{service.key}/meta",
        read_meta,
        methods=["GET"],
        summary=f"The {service.key} service's fields: type, filter_by, sort_by, read_only; "
        "and the reference's fields it does not implement",
        tags=[service.key],
    )


for _service in (*SERVICES.values(), *MEMBER_SETTINGS.values()):
    _route(_service)
