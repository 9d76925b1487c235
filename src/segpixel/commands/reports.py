"""`segpixel report loads`: the segment loads report as a table, CSV, JSON or a chart.

Against a server (logged in, or `SEGPIXEL_URL`): `POST /report`, a spinner while the job runs,
then `GET /report-download`. On the data folder (no server chosen, or `--local`): the report is
made here from the deployment's own stores, as an admin (a server may run on them meanwhile).
Both make the same rows with the same code (`segpixel.reporting`), and the chart is drawn from
them here.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from segpixel.commands import context
from segpixel.commands.client import Api, Refused
from segpixel.commands.output import JsonOpt, err_console, fail, print_json, print_table, usage

app = typer.Typer(help="Segment loads reports (table, CSV, JSON, chart).", no_args_is_help=True)
CHART_COLUMNS = ["segment_id", "day", "total_loads", "daily_uniques"]
POLL_SECONDS = 0.2


@app.command("loads")
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
        Path | None,
        typer.Option(help="Also draw daily loads and uniques, a line per segment, to .png/.svg"),
    ] = None,
    wait: Annotated[float, typer.Option(help="Seconds to wait for the server's report")] = 600,
    as_json: JsonOpt = False,
) -> None:
    """Segment loads by day: total loads and unique users (UTC days)."""
    from segpixel.domain.errors import ValidationFailed
    from segpixel.domain.report_request import parse_report
    from segpixel.reporting.plot import FORMATS

    body: dict[str, Any] = {"report_type": "segment_load", "columns": columns.split(",")}
    if start or end:
        body.update(start_date=start, end_date=end)
    else:
        body["report_interval"] = interval
    if segment:
        body["filters"] = [{"segment_id": segment}]
    if plot is not None and plot.suffix.lower() not in FORMATS:
        raise usage(f"--plot must name a .png or .svg file (got {plot.name})")
    today = datetime.now(UTC).date()
    try:  # checked here too: a bad request is a usage error (2) whichever side would refuse it
        request = parse_report({"report": body}, today)
        chart = parse_report({"report": {**body, "columns": CHART_COLUMNS}}, today)
    except ValidationFailed as exc:
        raise usage(str(exc)) from None
    if context.remote_target() is None:
        rows, chart_rows, names = _local(request, chart, member_id, plot is not None)
    else:
        rows, chart_rows, names = _remote(body, segment, member_id, plot is not None, wait)
    _print(request.columns, rows, csv, as_json)
    if plot is not None:
        from segpixel.reporting.plot import daily_series, plot_daily

        what = (
            f"segment {segment[0]}" if segment and len(segment) == 1 else f"{len(names)} segments"
        )
        title = f"Segment loads, {what}, {request.first} to {request.last} (UTC)"
        plot_daily(daily_series(chart_rows, request.first, request.last, names), plot, title)
        err_console.print(f"chart written to {plot}", markup=False, highlight=False)


def _print(columns: tuple[str, ...], rows: list[dict[str, Any]], csv: bool, as_json: bool) -> None:
    if as_json:
        print_json(rows)
    elif csv:
        from segpixel.domain.report_rows import ReportTable
        from segpixel.reporting.render import render

        table = ReportTable(columns, [[row[c] for row in rows] for c in columns])
        print(render(table, "csv").decode(), end="")
    else:
        print_table(list(columns), [[row[c] for c in columns] for row in rows])


# -- against a server ------------------------------------------------------------------------------


def _remote(
    body: dict[str, Any],
    segment: list[int] | None,
    member_id: int | None,
    with_chart: bool,
    wait: float,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[int, str]]:
    with context.api() as api:
        rows = run_report(api, {**body, "format": "json"}, member_id, wait)
        if not with_chart:
            return rows, [], {}
        chart_rows = run_report(
            api, {**body, "columns": CHART_COLUMNS, "format": "json"}, member_id, wait
        )
        filters = {"id": segment} if segment else {"member_id": member_id}
        names = {s["id"]: s["short_name"] for s in api.list("segment", "segments", **filters)}
        return rows, chart_rows, names


def run_report(
    api: Api, body: dict[str, Any], member_id: int | None, wait: float
) -> list[dict[str, Any]]:
    """POST /report, wait for it (a spinner says how long), download its JSON rows."""
    report_id = api.call("POST", "/report", {"report": body}, member_id=member_id)["report_id"]
    deadline = time.monotonic() + wait
    with err_console.status(f"report {report_id}: running") as status:
        while True:
            answer = api.get("/report", id=report_id)
            state = answer["execution_status"]
            if state == "ready":
                break
            if state == "error":
                raise Refused(500, "SYSTEM", f"report {report_id}: {answer['report']['error']}")
            if time.monotonic() > deadline:
                raise Refused(0, "TIMEOUT", f"report {report_id} not ready after {wait:g} s")
            status.update(f"report {report_id}: {state}")
            time.sleep(POLL_SECONDS)
    download = api.raw("GET", "/report-download", id=report_id)
    return list(json.loads(download.content)["rows"])


# -- on the data folder ----------------------------------------------------------------------------


def _local(
    request: Any, chart: Any, member_id: int | None, with_chart: bool
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[int, str]]:
    from segpixel.reporting.render import as_dicts

    table, daily, names = asyncio.run(_run_reports(request, chart, member_id, with_chart))
    rows = as_dicts(table.rows(), request.columns)
    chart_rows = as_dicts(daily.rows(), chart.columns) if daily is not None else []
    return rows, chart_rows, names


async def _run_reports(request: Any, chart: Any, member_id: int | None, with_chart: bool) -> Any:
    from segpixel import cli
    from segpixel.catalog.db import Catalog
    from segpixel.domain.access import Principal
    from segpixel.errors import SegpixelError
    from segpixel.reporting.run import report, visible_segments
    from segpixel.stats.factory import make_load_stats

    config = cli.settings()
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
        raise fail(exc.message) from None
    finally:
        await stats.close()
        catalog.dispose()
