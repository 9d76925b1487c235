"""The `segpixel` command: serve, bootstrap, and the catalog for humans (Typer + Rich)."""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from segpixel.cli_jobs import batch_app, report_app
from segpixel.settings import ENV_PREFIX, Settings, describe_settings

KILL_MARGIN_S = 5  # past a worker's own stop bound, before granian kills it
FULL_DISK_BYTES = 1 << 20  # less free space than this in the data folder: a full disk

console = Console()
err_console = Console(stderr=True)

app = typer.Typer(
    help="segpixel: a self-hostable audience-segment pixel server.\n\n"
    "Every setting is an environment variable; the flags below override them.\n\n"
    + describe_settings(),
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
segment_app = typer.Typer(help="List, create and show segments.", no_args_is_help=True)
member_app = typer.Typer(help="List and create members.", no_args_is_help=True)
advertiser_app = typer.Typer(help="List and create advertisers.", no_args_is_help=True)
user_app = typer.Typer(help="Create API and console users.", no_args_is_help=True)
app.add_typer(segment_app, name="segment")
app.add_typer(member_app, name="member")
app.add_typer(advertiser_app, name="advertiser")
app.add_typer(user_app, name="user")
app.add_typer(report_app, name="report")
app.add_typer(batch_app, name="batch")

DataDirOpt = Annotated[
    Path | None, typer.Option("--data-dir", help=f"Data folder [env: {ENV_PREFIX}DATA_DIR]")
]
_overrides: dict[str, Any] = {}


@app.callback()
def root(
    data_dir: DataDirOpt = None,
    catalog_url: Annotated[
        str | None, typer.Option(help=f"Catalog database URL [env: {ENV_PREFIX}CATALOG_URL]")
    ] = None,
) -> None:
    _override(data_dir=data_dir, catalog_url=catalog_url)


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
        f"({config.workers} worker(s), catalog {_redact(config.catalog_url or '')})"
    )
    if server == "uvicorn":
        import uvicorn

        uvicorn.run(
            "segpixel.app:create_app",
            factory=True,
            host=config.host,
            port=config.port,
            workers=config.workers,
            log_level="warning",
            timeout_graceful_shutdown=math.ceil(config.stop_timeout_s),
        )
        return
    from granian import Granian
    from granian.constants import Interfaces

    Granian(
        "segpixel.app:create_app",
        address=config.host,
        port=config.port,
        workers=config.workers,
        interface=Interfaces.ASGI,
        factory=True,
        log_access=False,
        # A worker's own stop is bounded by SEGPIXEL_STOP_TIMEOUT_S; one that overruns anyway
        # (stuck outside our code) is killed rather than left holding the port.
        workers_kill_timeout=math.ceil(config.stop_timeout_s) + KILL_MARGIN_S,
    ).serve()


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@app.command()
def init(data_dir: DataDirOpt = None) -> None:
    """Create (or upgrade) the catalog database and the first admin user."""
    _override(data_dir=data_dir)
    config = settings()
    generated = prepare_catalog(config)
    console.print(f"Catalog ready at {_redact(config.catalog_url or '')}")
    _announce_admin(generated)


# -- catalog commands: the operator acts as an admin on the database directly ---------------


@contextmanager
def _repo(repo_type: type) -> Iterator[Any]:
    from segpixel.catalog.db import Catalog
    from segpixel.domain.access import Principal
    from segpixel.errors import SegpixelError, ValidationFailed

    config = settings()
    catalog = Catalog(config.catalog_url or "")
    operator = Principal(user_id=0, username="cli", role="admin")
    try:
        with catalog.session() as session:
            yield repo_type(session, operator)
    except (SegpixelError, ValidationFailed) as exc:
        err_console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    finally:
        catalog.dispose()


@user_app.command("create")
def user_create(
    username: Annotated[str, typer.Option()],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True)],
    role: Annotated[str, typer.Option(help="admin, member or advertiser")],
    member_id: Annotated[int | None, typer.Option()] = None,
    advertiser_id: Annotated[int | None, typer.Option()] = None,
) -> None:
    """Create a user who can log in to the API and the console."""
    from segpixel.catalog.users import UserRepo

    with _repo(UserRepo) as repo:
        row = repo.create(
            {
                "username": username,
                "password": password,
                "role": role,
                "member_id": member_id,
                "advertiser_id": advertiser_id,
            }
        )
        console.print(f"Created user {row.username} (id {row.id}, role {row.role})")


@member_app.command("create")
def member_create(name: Annotated[str, typer.Option()]) -> None:
    """Create a member (a tenant)."""
    from segpixel.catalog.members import MemberRepo

    with _repo(MemberRepo) as repo:
        row = repo.create({"name": name})
        console.print(f"Created member {row.id} ({row.name}); dongle {row.dongle}")


@member_app.command("list")
def member_list() -> None:
    """List members."""
    from segpixel.catalog.members import MemberRepo
    from segpixel.domain.paging import Page

    with _repo(MemberRepo) as repo:
        _, rows = repo.list(repo.query(), Page(num_elements=10**6))
        _print_table(["id", "name", "state"], [[r.id, r.name, r.state] for r in rows])


@advertiser_app.command("create")
def advertiser_create(
    member_id: Annotated[int, typer.Option()],
    name: Annotated[str, typer.Option()],
    code: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Create an advertiser of a member."""
    from segpixel.catalog.advertisers import AdvertiserRepo

    with _repo(AdvertiserRepo) as repo:
        row = repo.create(member_id, {"name": name, "code": code})
        console.print(f"Created advertiser {row.id} ({row.name}) of member {member_id}")


@advertiser_app.command("list")
def advertiser_list(member_id: Annotated[int | None, typer.Option()] = None) -> None:
    """List advertisers."""
    from segpixel.catalog.advertisers import AdvertiserRepo
    from segpixel.domain.paging import Page

    with _repo(AdvertiserRepo) as repo:
        _, rows = repo.list(repo.query(member_id=member_id), Page(num_elements=10**6))
        _print_table(
            ["id", "member", "name", "code", "state"],
            [[r.id, r.member_id, r.name, r.code, r.state] for r in rows],
        )


@segment_app.command("list")
def segment_list(
    member_id: Annotated[int | None, typer.Option()] = None,
    advertiser_id: Annotated[int | None, typer.Option()] = None,
    search: Annotated[str | None, typer.Option(help="id, name or code")] = None,
) -> None:
    """List segments as a table."""
    from segpixel.catalog.segments import SegmentRepo, segment_out
    from segpixel.domain.paging import Page

    with _repo(SegmentRepo) as repo:
        stmt = repo.query(member_id=member_id, advertiser_id=advertiser_id, search=search)
        _, rows = repo.list(stmt, Page(num_elements=10**6))
        segments = [segment_out(r) for r in rows]
    _print_table(
        ["id", "member", "advertiser", "name", "code", "type", "state", "expire_minutes"],
        [
            [
                s["id"],
                s["member_id"],
                s["advertiser_id"] or "member level",
                s["short_name"],
                s["code"],
                s["type"],
                s["state"],
                _expiry(s["expire_minutes"]),
            ]
            for s in segments
        ],
    )


@segment_app.command("create")
def segment_create(
    member_id: Annotated[int, typer.Option()],
    name: Annotated[str, typer.Option(help="The segment's short_name")],
    advertiser_id: Annotated[
        int | None, typer.Option(help="Omit for a member-level segment")
    ] = None,
    code: Annotated[str | None, typer.Option()] = None,
    expire_minutes: Annotated[int | None, typer.Option(help="0..259200; omit for 180 days")] = None,
    max_usersync_pixels: Annotated[int, typer.Option()] = 0,
) -> None:
    """Create a segment."""
    from segpixel.catalog.segments import SegmentRepo, segment_out

    fields = {
        "short_name": name,
        "code": code,
        "expire_minutes": expire_minutes,
        "max_usersync_pixels": max_usersync_pixels,
    }
    with _repo(SegmentRepo) as repo:
        row = repo.create(member_id, advertiser_id, fields)
        _print_segment(segment_out(row))


@segment_app.command("show")
def segment_show(segment_id: int) -> None:
    """Show one segment."""
    from segpixel.catalog.segments import SegmentRepo, segment_out

    with _repo(SegmentRepo) as repo:
        _print_segment(segment_out(repo.get(segment_id)))


@app.command("export-pixel")
def export_pixel(
    segment_id: int,
    js: Annotated[bool, typer.Option("--js", help="JavaScript tag (the recommended form)")] = False,
    image: Annotated[bool, typer.Option("--image", help="Image tag (the default)")] = False,
    codes: Annotated[bool, typer.Option("--codes", help="Name the segment by its code")] = False,
    value: Annotated[str | None, typer.Option(help="A value for the segment")] = None,
    redir: Annotated[str | None, typer.Option(help="A pixel URL to chain")] = None,
) -> None:
    """Print a segment's pixel tag in the reference's form."""
    from segpixel.catalog.segments import SegmentRepo
    from segpixel.domain.tags import TaggedSegment, TagOptions, pixel_tag

    if js and image:
        err_console.print("[red]choose one of --js and --image[/red]")
        raise typer.Exit(2)
    with _repo(SegmentRepo) as repo:
        row = repo.get(segment_id)
        segment = TaggedSegment(row.id, row.short_name, row.code, row.member_id)
    if codes and not segment.code:
        err_console.print(f"[red]segment {segment_id} has no code; set one or drop --codes[/red]")
        raise typer.Exit(1)
    options = TagOptions(javascript=js, use_codes=codes, value=value, redir=redir)
    print(pixel_tag(settings().public_url or "", [segment], options))


def _expiry(minutes: int | None) -> str:
    return "180 days" if minutes is None else f"{minutes} min"


def _print_segment(segment: dict[str, Any]) -> None:
    table = Table(show_header=False)
    for key, value in segment.items():
        table.add_row(key, "" if value is None else str(value))
    console.print(table)


def _print_table(columns: list[str], rows: list[list[Any]]) -> None:
    table = Table(*columns)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    console.print(table)


def main() -> None:
    app()
