"""`segpixel member …`: tenants (admin), their redirect allow-list and dongle."""

from __future__ import annotations

from typing import Annotated

import typer

from segpixel.commands import context
from segpixel.commands.common import change, given, remove
from segpixel.commands.output import JsonOpt, say, show

app = typer.Typer(
    help="Members (tenants): list, show, create, update, delete.", no_args_is_help=True
)
SERVICE, PLURAL = "member", "members"
COLUMNS = ["id", "name", "state"]
IdArg = Annotated[int, typer.Argument(help="The member's id")]
DomainsOpt = Annotated[
    list[str] | None,
    typer.Option("--redirect-domain", help="A host `redir` may point to (repeat for more)"),
]


@app.command("list")
def list_members(
    search: Annotated[str | None, typer.Option(help="id or name")] = None, as_json: JsonOpt = False
) -> None:
    """List members."""
    with context.api() as api:
        show(api.list(SERVICE, PLURAL, search=search), as_json, COLUMNS)


@app.command("show")
def show_member(member_id: IdArg, as_json: JsonOpt = False) -> None:
    """Show one member (its dongle when you manage it)."""
    with context.api() as api:
        show(api.one(SERVICE, member_id), as_json)


@app.command("create")
def create_member(
    name: Annotated[str, typer.Option()],
    redirect_domain: DomainsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a member (admin)."""
    with context.api() as api:
        made = api.create(SERVICE, {"name": name, **given(redirect_domains=redirect_domain)})
    say(f"Created member {made['id']} ({made['name']}); dongle {made.get('dongle')}", as_json, made)


@app.command("update")
def update_member(
    member_id: IdArg,
    name: Annotated[str | None, typer.Option()] = None,
    state: Annotated[str | None, typer.Option(help="active or inactive (admin)")] = None,
    redirect_domain: DomainsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Change the fields given (--redirect-domain replaces the list)."""
    fields = given(name=name, state=state, redirect_domains=redirect_domain)
    change(SERVICE, member_id, fields, as_json)


@app.command("delete")
def delete_member(member_id: IdArg, as_json: JsonOpt = False) -> None:
    """Delete a member that holds nothing any more (admin)."""
    remove(SERVICE, "member", member_id, as_json)
