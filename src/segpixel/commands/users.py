"""`segpixel user …`: who may log in to the API and the console."""

from __future__ import annotations

from typing import Annotated

import typer

from segpixel.commands import context
from segpixel.commands.common import remove
from segpixel.commands.output import JsonOpt, say, show

app = typer.Typer(
    help="API and console users: list, create, set-password, delete.", no_args_is_help=True
)
SERVICE, PLURAL = "user", "users"
COLUMNS = ["id", "username", "role", "member_id", "advertiser_id"]
IdArg = Annotated[int, typer.Argument(help="The user's id")]
PasswordOpt = Annotated[
    str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=False, help="8-256 chars")
]


@app.command("list")
def list_users(
    member_id: Annotated[int | None, typer.Option(help="Only this member's")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List users (never their passwords)."""
    with context.api() as api:
        show(api.list(SERVICE, PLURAL, member_id=member_id), as_json, COLUMNS)


@app.command("create")
def create_user(
    username: Annotated[str, typer.Option()],
    password: PasswordOpt,
    role: Annotated[str, typer.Option(help="admin, member or advertiser")],
    member_id: Annotated[int | None, typer.Option()] = None,
    advertiser_id: Annotated[int | None, typer.Option()] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a user who can log in to the API and the console."""
    fields = {
        "username": username,
        "password": password,
        "role": role,
        "member_id": member_id,
        "advertiser_id": advertiser_id,
    }
    with context.api() as api:
        made = api.create(SERVICE, fields)
    say(f"Created user {made['username']} (id {made['id']}, role {made['role']})", as_json, made)


@app.command("set-password")
def set_password(user_id: IdArg, password: PasswordOpt, as_json: JsonOpt = False) -> None:
    """Give a user a new password (its open sessions end)."""
    with context.api() as api:
        changed = api.update(SERVICE, user_id, {"password": password})
    say(f"Changed the password of user {changed['username']}", as_json, changed)


@app.command("delete")
def delete_user(user_id: IdArg, as_json: JsonOpt = False) -> None:
    """Delete a user."""
    remove(SERVICE, "user", user_id, as_json)
