"""The `segpixel` command: serve and bootstrap here; the catalog, reports and uploads in
`segpixel.commands` (one module a group), which talk to a server's API — or, with no server
chosen, to the local data folder's (Typer + Rich)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from segpixel import __version__
from segpixel.commands import (
    advertisers,
    batch,
    context,
    export,
    jobs,
    login,
    members,
    reports,
    segments,
    users,
    usersync,
)
from segpixel.commands.output import console, err_console
from segpixel.settings import ENV_PREFIX, Settings, describe_settings

FULL_DISK_BYTES = 1 << 20  # less free space than this in the data folder: a full disk

app = typer.Typer(
    help="segpixel: a self-hostable audience-segment pixel server.\n\n"
    "Every setting is an environment variable; the flags below override them.\n\n"
    + describe_settings(),
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
app.add_typer(segments.app, name="segment")
app.add_typer(members.app, name="member")
app.add_typer(advertisers.app, name="advertiser")
app.add_typer(users.app, name="user")
app.add_typer(usersync.app, name="usersync-pixel")
app.add_typer(jobs.app, name="job")
app.add_typer(reports.app, name="report")
app.add_typer(batch.app, name="batch")
app.command("export-pixel")(export.export_pixel)
app.command()(login.login)
app.command()(login.logout)
app.command()(login.whoami)

DataDirOpt = Annotated[
    Path | None, typer.Option("--data-dir", help=f"Data folder [env: {ENV_PREFIX}DATA_DIR]")
]
_overrides: dict[str, Any] = {}


def _print_version(wanted: bool) -> None:
    if wanted:
        print(f"segpixel {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    data_dir: DataDirOpt = None,
    catalog_url: Annotated[
        str | None, typer.Option(help=f"Catalog database URL [env: {ENV_PREFIX}CATALOG_URL]")
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(
            help="The server the catalog commands talk to (default: the saved login) "
            f"[env: {context.URL_ENV}; its token: {context.TOKEN_ENV}]"
        ),
    ] = None,
    local: Annotated[
        bool,
        typer.Option(
            "--local", help="Act on the data folder itself (offline admin), not on a server"
        ),
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version"),
    ] = False,
) -> None:
    """Catalog commands talk to a server (`segpixel login`, or --url / SEGPIXEL_URL) and else act
    on the local data folder as its operator; serve and init always work on the data folder."""
    _override(data_dir=data_dir, catalog_url=catalog_url)
    context.choice.url = url
    context.choice.local = local or data_dir is not None or catalog_url is not None


def _override(**values: Any) -> None:
    _overrides.update({k: v for k, v in values.items() if v is not None})


def settings() -> Settings:
    from pydantic import ValidationError

    try:
        return Settings(**_overrides).resolved()
    except ValidationError as exc:
        for error in exc.errors():
            name = ENV_PREFIX + str(error["loc"][0]).upper()
            err_console.print(f"[red]setting {name}: {error['msg']}[/red]")
        raise typer.Exit(2) from None


def prepare_catalog(config: Settings) -> str | None:
    """Migrate to head and create the first admin; returns a generated admin password, if any."""
    from segpixel.catalog.db import Catalog
    from segpixel.catalog.migrate import upgrade
    from segpixel.catalog.users import ensure_admin

    catalog = Catalog(config.catalog_url or "")
    try:
        upgrade(catalog.engine)
        password = config.admin_password.get_secret_value() if config.admin_password else None
        with catalog.session() as session:
            return ensure_admin(session, password)
    finally:
        catalog.dispose()


def _may_serve_degraded(config: Settings) -> bool:
    """Serve although the catalog cannot be prepared? Yes when this server has served it
    before (its saved snapshot is there: pixels go on from it) or when the data folder's disk
    is full (pixels answer 503 until there is room); a first start with a wrong URL fails."""
    from segpixel.catalog.snapshot_file import SNAPSHOT_FILE
    from segpixel.profiles.journal import free_bytes

    if (config.data_dir / SNAPSHOT_FILE).exists():
        return True
    try:
        return free_bytes(config.data_dir) < FULL_DISK_BYTES
    except OSError:
        return False


def _announce_admin(generated: str | None) -> None:
    if generated:
        console.print(
            "Created the admin user [bold]admin[/bold] with the generated password "
            f"[bold]{generated}[/bold] — it is shown only this once."
        )


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help=f"[env: {ENV_PREFIX}HOST]")] = None,
    port: Annotated[int | None, typer.Option(help=f"[env: {ENV_PREFIX}PORT]")] = None,
    data_dir: DataDirOpt = None,
    workers: Annotated[int | None, typer.Option(help=f"[env: {ENV_PREFIX}WORKERS]")] = None,
    server: Annotated[str, typer.Option(help="granian (default) or uvicorn")] = "granian",
    api_rate_limit: Annotated[
        int | None,
        typer.Option(
            help=f"API requests a minute per client IP, 0 = off [env: {ENV_PREFIX}API_RATE_LIMIT]"
        ),
    ] = None,
    login_rate_limit: Annotated[
        int | None,
        typer.Option(
            help=f"Failed logins a minute per IP, 0 = off [env: {ENV_PREFIX}LOGIN_RATE_LIMIT]"
        ),
    ] = None,
    pixel_rate_limit: Annotated[
        int | None,
        typer.Option(
            help=f"/seg calls a minute per client IP, 0 = off [env: {ENV_PREFIX}PIXEL_RATE_LIMIT]"
        ),
    ] = None,
    max_body_bytes: Annotated[
        int | None,
        typer.Option(help=f"Largest API request body [env: {ENV_PREFIX}MAX_BODY_BYTES]"),
    ] = None,
) -> None:
    """Migrate the catalog, create the first admin if there is none, and serve HTTP."""
    _override(
        host=host,
        port=port,
        data_dir=data_dir,
        workers=workers,
        api_rate_limit=api_rate_limit,
        login_rate_limit=login_rate_limit,
        pixel_rate_limit=pixel_rate_limit,
        max_body_bytes=max_body_bytes,
    )
    config = settings()
    from segpixel import native
    from segpixel.serving import admin_beside, port_in_use, run_server, runner_beside

    if port_in_use(config.host, config.port):
        err_console.print(f"[red]port {config.port} is already in use[/red] (on {config.host})")
        raise typer.Exit(1)
    try:
        _announce_admin(prepare_catalog(config))
    except Exception as exc:
        if not _may_serve_degraded(config):
            raise
        err_console.print(
            f"The catalog cannot be prepared ({str(exc).splitlines()[0][:200]}); serving "
            "degraded until it can be read (see /health)."
        )
    # Each worker publishes its counters to a file that /metrics sums: start from zero.
    for stale in (config.data_dir / "metrics").glob("*.json"):
        stale.unlink(missing_ok=True)
    # Workers build their app from the environment: hand the overrides down that way.
    for name, value in _overrides.items():
        os.environ[f"{ENV_PREFIX}{name.upper()}"] = str(value)
    console.print(
        f"segpixel listening on http://{config.host}:{config.port} "
        f"({config.workers} worker(s), catalog {redact(config.catalog_url or '')}"
        f"{', a job runner' if config.jobs else ''}"
        f"{', the admin process' if config.admin_process else ''}; pixel path {native.status()})"
    )
    with (
        runner_beside(config.jobs, config.stop_timeout_s) as runner,
        admin_beside(config, server) as admin,
    ):
        children = [child for child in (runner, admin) if child is not None]

        def stop_children() -> None:  # they stop beside the workers, within the same bound
            for child in children:
                child.terminate()

        run_server(
            "segpixel.app:create_app",
            config,
            server,
            workers=config.workers,
            host=config.host,
            port=config.port,
            on_stop=stop_children,
        )


@app.command()
def jobs(data_dir: DataDirOpt = None) -> None:
    """Run a job runner alone (batch uploads, reports), for job machines kept apart from the
    pixel servers; `serve` starts one of its own unless SEGPIXEL_JOBS=false."""
    from segpixel.jobs.process import run_jobs

    _override(data_dir=data_dir)
    run_jobs(settings())


def redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@app.command()
def init(data_dir: DataDirOpt = None) -> None:
    """Create (or upgrade) the catalog database and the first admin user."""
    _override(data_dir=data_dir)
    config = settings()
    generated = prepare_catalog(config)
    console.print(f"Catalog ready at {redact(config.catalog_url or '')}")
    _announce_admin(generated)


def main() -> None:
    app()
