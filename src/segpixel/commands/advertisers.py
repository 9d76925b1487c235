"""`segpixel advertiser …`: the advertisers of members."""

from __future__ import annotations

from typing import Annotated

import typer

from segpixel.commands import context
from segpixel.commands.common import change, given, remove
from segpixel.commands.output import JsonOpt, say, show

app = typer.Typer(help="Advertisers: list, show, create, update, delete.", no_args_is_help=True)
SERVICE, PLURAL = "advertiser", "advertisers"
COLUMNS = ["id", "member_id", "name", "code", "state"]
IdArg = Annotated[int, typer.Argument(help="The advertiser's id")]


@app.command("list")
def list_advertisers(
    member_id: Annotated[int | None, typer.Option(help="Only this member's")] = None,
    search: Annotated[str | None, typer.Option(help="id, name or code")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List advertisers."""
    with context.api() as api:
        found = api.list(SERVICE, PLURAL, member_id=member_id, search=search)
    show(found, as_json, COLUMNS)


@app.command("show")
def show_advertiser(advertiser_id: IdArg, as_json: JsonOpt = False) -> None:
    """Show one advertiser."""
    with context.api() as api:
        show(api.one(SERVICE, advertiser_id), as_json)


@app.command("create")
def create_advertiser(
    member_id: Annotated[int, typer.Option()],
    name: Annotated[str, typer.Option()],
    code: Annotated[str | None, typer.Option()] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create an advertiser of a member."""
    with context.api() as api:
        made = api.create(SERVICE, {"name": name, "code": code}, member_id=member_id)
    say(f"Created advertiser {made['id']} ({made['name']}) of member {member_id}", as_json, made)


@app.command("update")
def update_advertiser(
    advertiser_id: IdArg,
    name: Annotated[str | None, typer.Option()] = None,
    code: Annotated[str | None, typer.Option()] = None,
    state: Annotated[str | None, typer.Option(help="active or inactive")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Change the fields given."""
    fields = given(name=name, code=code, state=state)
    change(SERVICE, advertiser_id, fields, as_json)


@app.command("delete")
def delete_advertiser(advertiser_id: IdArg, as_json: JsonOpt = False) -> None:
    """Delete an advertiser that has no segments left."""
    remove(SERVICE, "advertiser", advertiser_id, as_json)
