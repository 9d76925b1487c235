"""`segpixel segment …`: list, show, create, update, (de)activate, delete, move to member level."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from segpixel.commands import context
from segpixel.commands.common import change, given, remove
from segpixel.commands.output import JsonOpt, show

app = typer.Typer(
    help="Segments: list, show, create, update, deactivate, delete…", no_args_is_help=True
)
SERVICE, PLURAL = "segment", "segments"
COLUMNS = ["id", "member", "advertiser", "name", "code", "type", "state", "expire_minutes"]

IdArg = Annotated[int, typer.Argument(help="The segment's id")]
MemberOpt = Annotated[int | None, typer.Option(help="Only this member's segments")]
NameOpt = Annotated[str | None, typer.Option(help="The segment's short_name")]
CodeOpt = Annotated[str | None, typer.Option(help="1-50 of A-Z a-z 0-9 _ -, unique per member")]
DescriptionOpt = Annotated[str | None, typer.Option(help="At most 500 characters")]
ExpireOpt = Annotated[int | None, typer.Option(help="Minutes a user stays: 0..259200")]
UsersyncOpt = Annotated[int | None, typer.Option(help="Usersync pixels fired per add")]
StateOpt = Annotated[str | None, typer.Option(help="active or inactive")]


def expiry(minutes: int | None) -> str:
    return "180 days" if minutes is None else f"{minutes} min"


def rows(segments: list[dict[str, Any]]) -> list[list[Any]]:
    return [
        [
            s["id"],
            s["member_id"],
            s["advertiser_id"] or "member level",
            s["short_name"],
            s["code"],
            s["type"],
            s["state"],
            expiry(s["expire_minutes"]),
        ]
        for s in segments
    ]


@app.command("list")
def list_segments(
    member_id: MemberOpt = None,
    advertiser_id: Annotated[int | None, typer.Option(help="Only this advertiser's")] = None,
    search: Annotated[str | None, typer.Option(help="id, name or code")] = None,
    code: Annotated[str | None, typer.Option(help="The segment of this code")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List segments (every page), with their quick stats in --json."""
    from segpixel.commands.output import print_table

    with context.api() as api:
        found = api.list(
            SERVICE,
            PLURAL,
            member_id=member_id,
            advertiser_id=advertiser_id,
            search=search,
            code=code,
        )
    if as_json:
        show(found, True)
    else:
        print_table(COLUMNS, rows(found))


@app.command("show")
def show_segment(segment_id: IdArg, as_json: JsonOpt = False) -> None:
    """Show one segment, its quick stats included."""
    with context.api() as api:
        show(api.one(SERVICE, segment_id), as_json)


@app.command("create")
def create_segment(
    member_id: Annotated[int, typer.Option(help="The member that owns it")],
    name: Annotated[str, typer.Option(help="The segment's short_name")],
    advertiser_id: Annotated[
        int | None, typer.Option(help="Omit for a member-level segment")
    ] = None,
    code: CodeOpt = None,
    description: DescriptionOpt = None,
    expire_minutes: Annotated[int | None, typer.Option(help="0..259200; omit for 180 days")] = None,
    max_usersync_pixels: Annotated[int, typer.Option()] = 0,
    state: StateOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a segment."""
    fields = {
        "short_name": name,
        "code": code,
        "expire_minutes": expire_minutes,
        "max_usersync_pixels": max_usersync_pixels,
        **given(description=description, state=state),
    }
    with context.api() as api:
        made = api.create(SERVICE, fields, member_id=member_id, advertiser_id=advertiser_id)
    show(made, as_json)


@app.command("update")
def update_segment(
    segment_id: IdArg,
    name: NameOpt = None,
    code: CodeOpt = None,
    description: DescriptionOpt = None,
    expire_minutes: ExpireOpt = None,
    max_usersync_pixels: UsersyncOpt = None,
    state: StateOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Change the fields given; the others stay as they are."""
    fields = given(
        short_name=name,
        code=code,
        description=description,
        expire_minutes=expire_minutes,
        max_usersync_pixels=max_usersync_pixels,
        state=state,
    )
    change(SERVICE, segment_id, fields, as_json)


@app.command("deactivate")
def deactivate(segment_id: IdArg, as_json: JsonOpt = False) -> None:
    """Stop taking adds (its pixels still answer; adds are counted as rejected)."""
    change(SERVICE, segment_id, {"state": "inactive"}, as_json)


@app.command("activate")
def activate(segment_id: IdArg, as_json: JsonOpt = False) -> None:
    """Take adds again."""
    change(SERVICE, segment_id, {"state": "active"}, as_json)


@app.command("move-to-member")
def move_to_member(segment_id: IdArg, as_json: JsonOpt = False) -> None:
    """Make an advertiser's segment member level (targetable by every advertiser)."""
    change(SERVICE, segment_id, {"advertiser_id": None}, as_json)


@app.command("delete")
def delete_segment(segment_id: IdArg, as_json: JsonOpt = False) -> None:
    """Delete a segment."""
    remove(SERVICE, "segment", segment_id, as_json)
