"""`segpixel report loads` and `segpixel batch upload`: reports and bulk uploads from a terminal.

Both work on the deployment's own stores, as the catalog commands do (the same settings: data
folder, SEGPIXEL_CATALOG_URL, SEGPIXEL_PROFILE_URL), acting as an admin; a server may be running
on them meanwhile. To upload to a remote server, POST the file to its /batch-segment instead:
`curl -H "Authorization: $TOKEN" --data-binary @users.txt https://px.example.com/batch-segment`.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

report_app = typer.Typer(help="Segment loads reports (table, CSV, chart).", no_args_is_help=True)
batch_app = typer.Typer(help="Bulk segment uploads.", no_args_is_help=True)
SHOWN_REJECTED = 20


def _cli() -> Any:
    from segpixel import cli  # the root command's settings and consoles (imported late: no cycle)

    return cli


def _fail(message: str, code: int = 1) -> typer.Exit:
    _cli().err_console.print(f"[red]{message}[/red]")
    return typer.Exit(code)


@report_app.command("loads")
def report_loads(
    segment: Annotated[
        list[int] | None, typer.Option("--segment", help="A segment id (repeat for more)")
    ] = None,
    member_id: Annotated[int | None, typer.Option(help="Only this member's segments")] = None,
    interval: Annotated[
        str, typer.Option(help="today, yesterday, last_48_hours, last_7_days, month_to_date")
    ] = "last_7_days",
    start: Annotated[str | None, typer.Option(help="First day YYYY-MM-DD (with --end)")] = None,
    end: Annotated[str | None, typer.Option(help="Day after the last YYYY-MM-DD")] = None,
    columns: Annotated[
        str, typer.Option(help="Comma-separated report columns")
    ] = "segment_id,segment_name,day,total_loads,daily_uniques",
    csv: Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table")] = False,
    plot: Annotated[
        Path | None, typer.Option(help="Also draw daily loads and uniques to FILE.png or .svg")
    ] = None,
) -> None:
    """Segment loads by day: total loads and unique users (UTC days)."""
    from segpixel.domain.errors import ValidationFailed
    from segpixel.domain.report_request import parse_report
    from segpixel.reporting.plot import FORMATS

    today = datetime.now(UTC).date()
    body: dict[str, Any] = {"report_type": "segment_load", "columns": columns.split(",")}
    if start or end:
        body.update(start_date=start, end_date=end)
    else:
        body["report_interval"] = interval
    if segment:
        body["filters"] = [{"segment_id": segment}]
    if plot is not None and plot.suffix.lower() not in FORMATS:
        raise _fail(f"--plot must name a .png or .svg file (got {plot.name})", 2)
    try:
        request = parse_report({"report": body}, today)
        chart = parse_report(
            {"report": {**body, "columns": ["day", "total_loads", "daily_uniques"]}}, today
        )
    except ValidationFailed as exc:
        raise _fail(str(exc), 2) from None
    table, daily, names = asyncio.run(_run_reports(request, chart, member_id, plot is not None))
    if csv:
        from segpixel.reporting.render import render

        print(render(table, "csv").decode(), end="")
    else:
        _cli()._print_table(list(request.columns), [list(row) for row in table.rows()])
    if plot is not None:
        from segpixel.reporting.plot import plot_daily
        from segpixel.reporting.render import as_dicts

        what = (
            f"segment {segment[0]}" if segment and len(segment) == 1 else f"{len(names)} segments"
        )
        title = f"Segment loads, {what}, {request.first} to {request.last} (UTC)"
        plot_daily(as_dicts(daily.rows(), chart.columns), plot, title)
        _cli().err_console.print(f"chart written to {plot}")


async def _run_reports(request: Any, chart: Any, member_id: int | None, with_chart: bool) -> Any:
    from segpixel.catalog.db import Catalog
    from segpixel.domain.access import Principal
    from segpixel.errors import SegpixelError
    from segpixel.reporting.run import report, visible_segments
    from segpixel.stats.factory import make_load_stats

    config = _cli().settings()
    catalog = Catalog(config.catalog_url or "")
    stats = make_load_stats(config.profile_url or "", redis_prefix=config.redis_prefix)
    operator = Principal(user_id=0, username="cli", role="admin")
    try:
        with catalog.session() as session:
            names = visible_segments(session, operator, request.segment_ids, member_id)
        await stats.open()
        today = datetime.now(UTC).date()
        table = await report(request, names, stats, today)
        daily = await report(chart, names, stats, today) if with_chart else None
        return table, daily, names
    except SegpixelError as exc:
        raise _fail(exc.message) from None
    finally:
        await stats.close()
        catalog.dispose()


@batch_app.command("upload")
def batch_upload(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    member_id: Annotated[
        int | None, typer.Option(help="The member whose segment codes the file names")
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, max=100_000)] = 5_000,
) -> None:
    """Stream FILE (lines UID,SEG[:EXPIRE_MINUTES[:VALUE]];SEG...) into the profile store."""
    from segpixel.batch.upload import BatchReport

    report: BatchReport = asyncio.run(_upload(file, member_id, batch_size))
    cli = _cli()
    cli._print_table(
        ["lines read", "users updated", "rejected lines"],
        [[report.lines_read, report.users_updated, report.rejected_lines]],
    )
    for item in report.rejected[:SHOWN_REJECTED]:
        cli.err_console.print(f"line {item['line']}: {item['reason']}")
    if report.rejected_lines > SHOWN_REJECTED:
        more = report.rejected_lines - SHOWN_REJECTED
        cli.err_console.print(f"… and {more} more rejected lines (GET /batch-segment lists 1,000)")


async def _upload(file: Path, member_id: int | None, batch_size: int) -> Any:
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    from segpixel.batch.upload import BatchReport, BatchUpload
    from segpixel.catalog import job_queue
    from segpixel.catalog.db import Catalog
    from segpixel.catalog.jobs import JobRepo
    from segpixel.catalog.snapshot import load_view
    from segpixel.domain.access import Principal
    from segpixel.domain.batch_lines import BatchScope
    from segpixel.errors import SegpixelError
    from segpixel.jobs.runner import runner_name
    from segpixel.profiles.factory import make_profile_store

    config = _cli().settings()
    catalog = Catalog(config.catalog_url or "")
    store = make_profile_store(
        config.profile_url or "", redis_prefix=config.redis_prefix, timeout=5.0
    )
    operator = Principal(user_id=0, username="cli", role="admin")
    columns = ("{task.description}", BarColumn(), DownloadColumn(), TimeRemainingColumn())
    job_id = None
    # This command runs the job itself, under a lease as a runner would: should it stop half
    # way, a runner takes the job over after the lease and ends it (the file is not theirs).
    owner = f"cli:{runner_name()}"

    def lease() -> dict[str, Any]:
        return {"lease_until": job_queue.now_ms() + int(config.job_lease_seconds * 1000)}

    def save(**fields: Any) -> None:
        job_queue.write(catalog, job_id, owner, **fields, **lease())

    try:
        with catalog.session() as session:
            repo = JobRepo(session, operator, "batch-segment")
            if member_id is not None:
                repo.require_member(member_id)
            params = {"member_id": member_id, "bytes": file.stat().st_size, "file": file.name}
            running = {"status": "running", "lease_owner": owner, **lease()}
            job_id = repo.create(member_id, params, **running).id
        view = load_view(catalog)  # once: a run does not wait for catalog changes
        await store.open()
        with Progress(*columns, console=_cli().err_console) as bar:
            task = bar.add_task(f"batch-segment job {job_id}", total=file.stat().st_size)

            async def progress(report: BatchReport) -> None:
                bar.update(task, completed=report.bytes_read)
                save(progress=report.as_progress())

            upload = BatchUpload(
                store,
                lambda: view,
                BatchScope(operator, member_id),
                batch_size=batch_size,
                on_progress=progress,
                progress_every=0.2,
            )
            with file.open("rb") as stream:
                report = await upload.run(stream)
        save(status="done", progress=report.as_progress())
        return report
    except SegpixelError as exc:
        if job_id is not None:
            save(status="error", error=exc.message)
        raise _fail(exc.message) from None
    finally:
        await store.close()
        catalog.dispose()
