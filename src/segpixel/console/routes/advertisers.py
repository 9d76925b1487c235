"""Advertisers: the list a user starts from (Advertisers > Segment Pixels)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from segpixel.console import data
from segpixel.console.deps import UserDep
from segpixel.console.render import page

router = APIRouter()
SearchParam = Annotated[str, Query(max_length=255)]
StartParam = Annotated[int, Query(ge=0, le=10**9)]


@router.get("/advertisers")
def advertisers(
    request: Request, user: UserDep, search: SearchParam = "", start: StartParam = 0
) -> Response:
    with user.session() as session:
        total, rows, members, counts = data.advertisers(
            session, user.principal, search.strip(), start
        )
        return page(
            request,
            "advertisers.html",
            user,
            rows=rows,
            members=members,
            counts=counts,
            total=total,
            search=search,
            start=start,
            size=data.PAGE_SIZE,
        )
