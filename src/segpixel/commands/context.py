"""Which server a command talks to, and the saved login.

In order: `--local` (the data folder, as the operator); `--url` / `SEGPIXEL_URL` with
`SEGPIXEL_TOKEN` (or the saved token when it is for that URL); the saved login
(`segpixel login`); else the data folder. The login lives in the user's config folder
(`$XDG_CONFIG_HOME/segpixel/login.json`, by default `~/.config/segpixel/`), readable by its owner
only (0600): it holds a token worth a password for up to 24 hours.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from segpixel.commands.client import Api, Refused, local, remote
from segpixel.commands.output import fail

URL_ENV, TOKEN_ENV = "SEGPIXEL_URL", "SEGPIXEL_TOKEN"


@dataclass
class Choice:
    url: str | None = None  # --url
    local: bool = False  # --local


choice = Choice()  # set by the root command's options


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "segpixel"


def login_file() -> Path:
    return config_dir() / "login.json"


def save_login(url: str, username: str, token: str) -> Path:
    path = login_file()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    data = json.dumps({"url": url, "username": username, "token": token})
    # Created 0600, and made so if it existed with wider rights: nobody else reads the token.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        os.fchmod(out.fileno(), 0o600)
        out.write(data)
    return path


def saved_login() -> dict[str, Any] | None:
    try:
        data = json.loads(login_file().read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("url") else None


def forget_login() -> bool:
    try:
        login_file().unlink()
        return True
    except FileNotFoundError:
        return False


def remote_target() -> tuple[str, str | None] | None:
    """(URL, token) of the server to talk to, or None for the data folder."""
    if choice.local:
        return None
    saved = saved_login() or {}
    url = choice.url or os.environ.get(URL_ENV) or saved.get("url")
    if not url:
        return None
    url = url.rstrip("/")
    token = os.environ.get(TOKEN_ENV) or (
        saved.get("token") if str(saved.get("url", "")).rstrip("/") == url else None
    )
    return url, token


@contextmanager
def api() -> Iterator[Api]:
    """The API of the chosen server; a refusal ends the command with its sentence (exit 1)."""
    target = remote_target()
    client = remote(*target) if target else _local()
    try:
        yield client
    except Refused as exc:
        raise fail(exc.message) from None
    finally:
        client.close()


def _local() -> Api:
    """The API app on the data folder's catalog, every call made as the operator (an admin)."""
    from sqlalchemy import inspect

    from segpixel import cli
    from segpixel.api.app import create_api
    from segpixel.api.deps import Caller, current_caller
    from segpixel.catalog.db import Catalog
    from segpixel.domain.access import Principal

    config = cli.settings()
    catalog = Catalog(config.catalog_url or "")
    if not inspect(catalog.engine).has_table("catalog_version"):
        catalog.dispose()
        raise fail(
            f"no catalog at {cli.redact(config.catalog_url or '')}: run `segpixel init` there, "
            "or talk to a server (`segpixel login --url URL`)"
        )
    app = create_api(config, catalog)
    operator = Principal(user_id=0, username="cli", role="admin")
    app.dependency_overrides[current_caller] = lambda: Caller(operator, app.state.api)
    client = local(app, f"the data folder {config.data_dir}", config.public_url or "")
    client.closers.append(catalog.dispose)
    return client
