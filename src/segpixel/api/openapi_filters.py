"""The OpenAPI document's listing filters (SPEC §2.1), written from each service's table.

A GET's filters are read from its query string by `Service.read`, not declared one by one in the
route; this adds them to the document so `/docs` lists them: `name` (equality; numbers and
enumerations take a comma-separated list), `not_name`, `min_`/`max_` (numbers, dates), `like_`
(text). api/openapi.py calls it when it writes the document.
"""

from __future__ import annotations

from typing import Any

from segpixel.api.service_fields import SERVICES, ServiceFields
from segpixel.domain.filters import DATE, ENUM, INT, STRING, FieldInfo

TIME_EXAMPLE = "2026-11-01 00:00:00"


def _param(name: str, description: str) -> dict[str, Any]:
    # no `example`: /docs would fill it in and send it with every "Try it out"
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": {"type": "string"},
        "description": description,
    }


def filter_parameters(info: FieldInfo) -> list[dict[str, Any]]:
    name, kind = info.name, info.type
    listed = kind in (INT, ENUM)
    equal = "equal to this value" + (" (or any of a comma-separated list)" if listed else "")
    if info.nullable and kind != STRING:
        equal += "; null: without one"
    params = [
        _param(name, f"Only objects whose {name} is {equal}"),
        _param(f"not_{name}", f"Only objects whose {name} is not {equal.split(';')[0]}"),
    ]
    if kind in (INT, DATE):
        unit = f" (YYYY-MM-DD HH:MM:SS, UTC: {TIME_EXAMPLE})" if kind == DATE else ""
        params.append(_param(f"min_{name}", f"{name} at least this{unit}"))
        params.append(_param(f"max_{name}", f"{name} at most this{unit}"))
    if kind == STRING:
        params.append(_param(f"like_{name}", f"{name} contains this (ignoring case)"))
    return params


def add_filter_parameters(document: dict[str, Any]) -> None:
    """Each service's GET gets the filters of its filterable fields it does not declare."""
    for service in SERVICES.values():
        _add(document, service)


def _add(document: dict[str, Any], service: ServiceFields) -> None:
    operation = document.get("paths", {}).get(f"/{service.key}", {}).get("get")
    if operation is None:
        return
    params = operation.setdefault("parameters", [])
    declared = {p["name"] for p in params}
    for info in service.fields:
        if info.filter:
            params += [p for p in filter_parameters(info) if p["name"] not in declared]
