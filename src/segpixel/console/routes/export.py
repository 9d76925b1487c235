"""Export pixels: the dialog for the selected segments, and "Generate Tags"."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.datastructures import FormData
from starlette.responses import Response

from segpixel.console import data
from segpixel.console.data import Owner
from segpixel.console.deps import ConsoleUser, FormDep, UserDep
from segpixel.console.export_form import ExportForm, Tag
from segpixel.console.forms import FormErrors
from segpixel.console.render import page
from segpixel.errors import BadRequest

router = APIRouter()
MAX_SELECTED = 100  # one pixel call handles at most 100 segment items (SPEC §3.1)


@router.get("/advertisers/{advertiser_id:int}/export")
def export_dialog(
    request: Request,
    user: UserDep,
    advertiser_id: int,
    segment: Annotated[list[int], Query(max_length=MAX_SELECTED)] = [],  # noqa: B006
) -> Response:
    form = ExportForm(segment_ids=segment)
    return _render(request, user, advertiser_id, form, generate=False)


@router.post("/advertisers/{advertiser_id:int}/export")
def generate_tags(request: Request, user: UserDep, posted: FormDep, advertiser_id: int) -> Response:
    form = ExportForm.from_form(posted, _selected(posted))
    return _render(request, user, advertiser_id, form, generate=True)


def _selected(posted: FormData) -> list[int]:
    raw = [v for v in posted.getlist("segment") if isinstance(v, str)]
    if not all(v.isdigit() and 0 < int(v) <= data.MAX_ID for v in raw):
        raise BadRequest("the selected segments must be segment ids")
    return list(dict.fromkeys(int(v) for v in raw))[:MAX_SELECTED]


def _render(
    request: Request, user: ConsoleUser, advertiser_id: int, form: ExportForm, generate: bool
) -> Response:
    tags: list[Tag] = []
    errors, warnings = FormErrors(), []
    with user.session() as session:
        owner: Owner = data.owner(session, user.principal, advertiser_id)
        segments = data.segments_by_id(session, user.principal, owner, form.segment_ids)
        if generate and segments:
            known = data.all_segments(session, user.principal, owner)
            public_url = user.state.settings.public_url_for(str(request.base_url))
            tags, errors, warnings = form.build(public_url, segments, owner.member, known)
    return page(
        request,
        "export.html",
        user,
        status=422 if errors else 200,
        owner=owner,
        form=form,
        segments=segments,
        tags=tags,
        errors=errors,
        warnings=warnings,
        generated=generate and not errors,
    )
