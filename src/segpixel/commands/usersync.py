"""`segpixel usersync-pixel …`: a member's ID-sync partners (SPEC §1.4)."""

from __future__ import annotations

from typing import Annotated

import typer

from segpixel.commands import context
from segpixel.commands.common import change, given, remove
from segpixel.commands.output import JsonOpt, say, show

app = typer.Typer(help="Usersync pixels: list, show, create, update, delete.", no_args_is_help=True)
SERVICE, PLURAL = "usersync-pixel", "usersync-pixels"
COLUMNS = ["id", "member_id", "name", "pixel_type", "state", "priority", "url"]
IdArg = Annotated[int, typer.Argument(help="The usersync pixel's id")]
UrlOpt = Annotated[str | None, typer.Option(help="Template: ${UID}, ${GDPR}, ${GDPR_CONSENT}")]
TypeOpt = Annotated[str | None, typer.Option(help="img or js")]
StateOpt = Annotated[str | None, typer.Option(help="active or inactive")]
PriorityOpt = Annotated[int | None, typer.Option(help="Higher fires first")]


@app.command("list")
def list_pixels(
    member_id: Annotated[int | None, typer.Option(help="Only this member's")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List usersync pixels."""
    with context.api() as api:
        show(api.list(SERVICE, PLURAL, member_id=member_id), as_json, COLUMNS)


@app.command("show")
def show_pixel(pixel_id: IdArg, as_json: JsonOpt = False) -> None:
    """Show one usersync pixel."""
    with context.api() as api:
        show(api.one(SERVICE, pixel_id), as_json)


@app.command("create")
def create_pixel(
    member_id: Annotated[int, typer.Option()],
    name: Annotated[str, typer.Option()],
    url: Annotated[str, typer.Option(help="Template: ${UID}, ${GDPR}, ${GDPR_CONSENT}")],
    pixel_type: Annotated[str, typer.Option(help="img or js")] = "img",
    priority: PriorityOpt = None,
    state: StateOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a usersync pixel (admin)."""
    fields = {"name": name, "url": url, "pixel_type": pixel_type}
    fields |= given(priority=priority, state=state)
    with context.api() as api:
        made = api.create(SERVICE, fields, member_id=member_id)
    say(f"Created usersync pixel {made['id']} ({made['name']})", as_json, made)


@app.command("update")
def update_pixel(
    pixel_id: IdArg,
    name: Annotated[str | None, typer.Option()] = None,
    url: UrlOpt = None,
    pixel_type: TypeOpt = None,
    priority: PriorityOpt = None,
    state: StateOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Change the fields given (admin)."""
    fields = given(name=name, url=url, pixel_type=pixel_type, priority=priority, state=state)
    change(SERVICE, pixel_id, fields, as_json)


@app.command("delete")
def delete_pixel(pixel_id: IdArg, as_json: JsonOpt = False) -> None:
    """Delete a usersync pixel (admin)."""
    remove(SERVICE, "usersync pixel", pixel_id, as_json)
