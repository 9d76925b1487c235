"""`segpixel login | logout | whoami`: a token from a server, kept for the next commands."""

from __future__ import annotations

from typing import Annotated

import typer

from segpixel.commands import context
from segpixel.commands.client import Refused, remote
from segpixel.commands.output import JsonOpt, fail, say, show


def login(
    url: Annotated[
        str | None, typer.Option(help="The server, e.g. https://px.example.com [env: SEGPIXEL_URL]")
    ] = None,
    username: Annotated[str | None, typer.Option(help="Prompted for when not given")] = None,
    password: Annotated[
        str | None, typer.Option(help="Prompted for (hidden) when not given")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Log in to a server; its token is kept (0600) in your config folder for the next commands."""
    import os

    url = url or context.choice.url or os.environ.get(context.URL_ENV)
    if not url:
        url = typer.prompt("Server URL")
    username = username or typer.prompt("Username")
    password = password or typer.prompt("Password", hide_input=True)
    client = remote(url, None)
    try:
        answer = client.call(
            "POST", "/auth", {"auth": {"username": username, "password": password}}
        )
    except Refused as exc:
        raise fail(exc.message) from None
    finally:
        client.close()
    path = context.save_login(client.where, username, answer["token"])
    user = answer.get("user") or {}
    role = user.get("role", "?")
    say(
        f"Logged in to {client.where} as {username} ({role}); token kept in {path}",
        as_json,
        {"url": client.where, "user": user, "login_file": str(path)},
    )


def logout(as_json: JsonOpt = False) -> None:
    """End the saved login: the server forgets the token, and so does this computer."""
    saved = context.saved_login()
    if saved and saved.get("token"):
        client = remote(saved["url"], saved["token"])
        try:
            client.call("DELETE", "/auth")
        except Refused:
            pass  # lapsed or unreachable: forgetting it here is what matters
        finally:
            client.close()
    forgot = context.forget_login()
    say("Logged out" if forgot else "Not logged in", as_json, {"logged_out": forgot})


def whoami(as_json: JsonOpt = False) -> None:
    """Who the commands act as, and where."""
    with context.api() as api:
        user = api.get("/auth")["user"]
        show({"server": api.where, **user}, as_json)
