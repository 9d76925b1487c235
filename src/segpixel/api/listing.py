"""Shaping repository results into envelopes: one object, or a page of a list."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Select

from segpixel.api.envelope import ok
from segpixel.catalog.repo import Repo
from segpixel.domain.paging import Page


def one(key: str, row: Any, out: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    return ok({"id": row.id, key: out(row)})


def page_of(
    repo: Repo,  # type: ignore[type-arg]
    stmt: Select[Any],
    page: Page,
    plural: str,
    out: Callable[[Any], dict[str, Any]],
) -> dict[str, Any]:
    total, rows = repo.list(stmt, page)
    return ok({plural: [out(r) for r in rows]}, count=total, page=page)
