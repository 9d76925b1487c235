"""Create New Segment and Edit Segment: one form, every error shown at its field."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from segpixel.catalog.segments import SegmentRepo, segment_out
from segpixel.console import data
from segpixel.console.data import Owner
from segpixel.console.deps import ConsoleUser, FormDep, UserDep
from segpixel.console.forms import FORM, FormErrors, PiggybackRow, SegmentForm
from segpixel.console.render import page
from segpixel.console.routes._common import done
from segpixel.console.urls import advertiser_url
from segpixel.domain.errors import ValidationFailed
from segpixel.domain.limits import MAX_USERSYNC_PIXELS
from segpixel.domain.segments import PIGGYBACK_RULES
from segpixel.errors import Conflict, Forbidden

router = APIRouter()


@router.get("/advertisers/{advertiser_id:int}/segments/new")
def new_segment(request: Request, user: UserDep, advertiser_id: int) -> Response:
    with user.session() as session:
        owner = data.owner(session, user.principal, advertiser_id)
    form = SegmentForm(piggybacks=[PiggybackRow()])
    return _form_page(request, user, owner, form, FormErrors(), segment=None)


@router.post("/advertisers/{advertiser_id:int}/segments/new")
def create_segment(
    request: Request, user: UserDep, posted: FormDep, advertiser_id: int
) -> Response:
    form = SegmentForm.from_form(posted)
    with user.session() as session:
        owner = data.owner(session, user.principal, advertiser_id)
    if posted.get("action") == "add_piggyback":  # the no-JavaScript way to get another row
        form.piggybacks.append(PiggybackRow())
        return _form_page(request, user, owner, form, FormErrors(), segment=None)
    parsed = form.parse()
    errors = parsed.errors
    if not errors:
        advertiser = owner.id if form.level == "advertiser" else None
        try:
            with user.session() as session:
                repo = SegmentRepo(session, user.principal)
                row = repo.create(owner.member.id, advertiser, parsed.fields)
                segment_id, name = row.id, row.short_name
        except (ValidationFailed, Conflict) as exc:
            form.add_errors(errors, exc.errors, parsed.rows)
        except Forbidden as exc:
            errors.add("level", exc.message)
    if errors:
        return _form_page(request, user, owner, form, errors, segment=None, status=422)
    return done(
        request,
        advertiser_url(advertiser_id, "/segments"),
        f"Segment {segment_id} “{name}” created.",
        segment_id,
    )


@router.get("/advertisers/{advertiser_id:int}/segments/{segment_id:int}/edit")
def edit_segment(request: Request, user: UserDep, advertiser_id: int, segment_id: int) -> Response:
    with user.session() as session:
        owner = data.owner(session, user.principal, advertiser_id)
        segment = segment_out(data.segment(session, user.principal, owner, segment_id))
    _require_change(user, segment)
    form = SegmentForm.from_segment(segment)
    if not form.piggybacks:
        form.piggybacks.append(PiggybackRow())
    return _form_page(request, user, owner, form, FormErrors(), segment=segment)


@router.post("/advertisers/{advertiser_id:int}/segments/{segment_id:int}/edit")
def update_segment(
    request: Request, user: UserDep, posted: FormDep, advertiser_id: int, segment_id: int
) -> Response:
    form = SegmentForm.from_form(posted)
    with user.session() as session:
        owner = data.owner(session, user.principal, advertiser_id)
        segment = segment_out(data.segment(session, user.principal, owner, segment_id))
    _require_change(user, segment)
    if posted.get("action") == "add_piggyback":
        form.piggybacks.append(PiggybackRow())
        return _form_page(request, user, owner, form, FormErrors(), segment=segment)
    parsed = form.parse()
    errors = parsed.errors
    if not errors:
        fields = {
            **parsed.fields,
            "advertiser_id": owner.id if form.level == "advertiser" else None,
        }
        try:
            with user.session() as session:
                repo = SegmentRepo(session, user.principal)
                row = data.segment(session, user.principal, owner, segment_id)
                repo.update(row, fields, append=False)
                name = row.short_name
        except (ValidationFailed, Conflict) as exc:
            form.add_errors(errors, exc.errors, parsed.rows)
        except Forbidden as exc:
            errors.add("level", exc.message)
    if errors:
        return _form_page(request, user, owner, form, errors, segment=segment, status=422)
    return done(
        request,
        advertiser_url(advertiser_id, "/segments"),
        f"Segment {segment_id} “{name}” saved.",
        segment_id,
    )


def _require_change(user: ConsoleUser, segment: dict) -> None:
    if not user.principal.changes_segment(segment["member_id"], segment["advertiser_id"]):
        raise Forbidden(
            f"Segment {segment['id']} is a member-level segment: your member's users manage it. "
            "You can use it, export its pixel and test it, but not change it."
        )


def _form_page(
    request: Request,
    user: ConsoleUser,
    owner: Owner,
    form: SegmentForm,
    errors: FormErrors,
    *,
    segment: dict | None,
    status: int = 200,
) -> Response:
    if not form.piggybacks:
        form.piggybacks.append(PiggybackRow())
    return page(
        request,
        "segment_form.html",
        user,
        status=status,
        owner=owner,
        form=form,
        errors=errors,
        form_errors=errors.get(FORM, []),
        segment=segment,
        rules=PIGGYBACK_RULES,
        rules_broken=errors.rules_broken(),
        tab=errors.first_tab,
        max_usersync=MAX_USERSYNC_PIXELS,
        can_member_level=user.principal.changes_segment(owner.member.id, None),
    )
