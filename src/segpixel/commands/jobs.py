"""`segpixel job list | show`: batch uploads and reports, run by the server as jobs."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from segpixel.commands import context
from segpixel.commands.client import Api, Refused
from segpixel.commands.output import JsonOpt, show, usage

app = typer.Typer(help="Jobs: batch uploads and reports.", no_args_is_help=True)
KINDS = {"batch": ("batch-segment", "batch-segments"), "report": ("report", "reports")}
COLUMNS = ["id", "kind", "status", "member_id", "created_on", "last_modified", "progress"]


def summary(kind: str, job: dict[str, Any]) -> dict[str, Any]:
    """A job of either kind in one shape for the table."""
    if kind == "batch":
        progress = f"{job.get('lines_read', 0)} lines, {job.get('rejected_lines', 0)} rejected"
        status = job.get("status")
    else:
        progress = f"{job.get('row_count') or 0} rows"
        status = job.get("execution_status")
    return {
        "id": int(job["id"]),
        "kind": kind,
        "status": status,
        "member_id": job.get("member_id"),
        "created_on": job.get("created_on"),
        "last_modified": job.get("last_modified"),
        "progress": progress,
        "error": job.get("error"),
    }


def find(api: Api, job_id: int) -> tuple[str, dict[str, Any]]:
    """(kind, the job as the API shows it) of a job id of either kind."""
    try:
        return "batch", api.get("/batch-segment", id=job_id)["batch-segment"]
    except Refused as exc:
        if exc.error_id != "NOTFOUND":
            raise
    return "report", api.get("/report", id=job_id)["report"]


@app.command("list")
def list_jobs(
    kind: Annotated[str | None, typer.Option(help="batch or report (default: both)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List your jobs, newest first."""
    if kind is not None and kind not in KINDS:
        raise usage(f"--kind must be batch or report (got {kind!r})")
    jobs = []
    with context.api() as api:
        for name in [kind] if kind else list(KINDS):
            service, plural = KINDS[name]
            jobs += [summary(name, j) for j in api.list(service, plural, sort="id.desc")]
    jobs.sort(key=lambda j: j["id"], reverse=True)
    show(jobs, as_json, COLUMNS)


@app.command("show")
def show_job(job_id: Annotated[int, typer.Argument()], as_json: JsonOpt = False) -> None:
    """Show one job (its rejected lines, or its report's details)."""
    with context.api() as api:
        kind, job = find(api, job_id)
    show(job if as_json else {"kind": kind, **job}, as_json)
