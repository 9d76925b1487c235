"""`/report`, `/report-download`: the segment loads report (SPEC §8), run as a job.

`POST /report` checks the request and the caller's right to every segment it names, records the
job and answers its `report_id` at once; a job runner (segpixel.jobs) makes the report, and its
result waits in the catalog (`GET /report?id=` says when it is ready, `GET /report-download?id=`
hands it over, not enveloped).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from segpixel.api.deps import CallerDep, IdParam, PagingDep, page_for
from segpixel.api.envelope import ok
from segpixel.catalog.jobs import JobRepo, job_state
from segpixel.catalog.repo import fmt_time
from segpixel.catalog.tables import Job
from segpixel.domain.errors import ValidationFailed, field_error
from segpixel.domain.loads import utc_day
from segpixel.domain.report_request import REPORT_TYPE, parse_report
from segpixel.errors import NotFound
from segpixel.jobs.context import store_key
from segpixel.jobs.report_job import ReportJob, job_params
from segpixel.reporting.render import MEDIA_TYPES
from segpixel.reporting.run import visible_segments

router = APIRouter(tags=["report"])
EXAMPLE = {
    "report": {
        "report_type": REPORT_TYPE,
        "columns": ["segment_id", "segment_name", "day", "total_loads", "daily_uniques"],
        "report_interval": "last_7_days",
        "filters": [{"segment_id": [1, 2]}],
        "format": "csv",
    }
}
# The job's own status → the reference's execution_status.
EXECUTION = {"pending": "pending", "running": "pending", "ready": "ready", "error": "error"}


@router.post("/report", summary="Request a segment loads report; answers its report_id")
async def create_report(
    caller: CallerDep,
    body: Annotated[dict[str, Any], Body(examples=[EXAMPLE])],
    member_id: IdParam = None,
) -> dict[str, Any]:
    state = caller.state
    today = utc_day(state.clock())
    request = parse_report(body, today)

    def enqueue() -> int:
        with caller.session() as session:
            names = visible_segments(session, caller.principal, request.segment_ids, member_id)
            member = member_id if member_id is not None else caller.principal.member_id
            params = job_params(request, names, today)
            repo = JobRepo(session, caller.principal, ReportJob.name)
            return repo.create(member, params, store=store_key(state.settings)).id

    job_id = await run_in_threadpool(enqueue)
    return ok({"report_id": str(job_id)}, warnings=list(request.notes))


@router.get(
    "/report",
    summary="A report's execution_status: pending, ready or error (?id=), or your reports",
)
def read_report(caller: CallerDep, paging: PagingDep, id: IdParam = None) -> dict[str, Any]:
    with caller.session() as session:
        if id is None:
            repo = JobRepo(session, caller.principal, "report")
            page = page_for(paging, JobRepo)
            total, rows = repo.list(select(Job), page)
            return ok({"reports": [report_out(r) for r in rows]}, count=total, page=page)
        out = report_out(_job(session, caller, id))
        return ok({"execution_status": out["execution_status"], "report": out})


def report_out(row: Job) -> dict[str, Any]:
    status, error = job_state(row)
    execution = EXECUTION.get(status, "error")
    params = row.params
    return {
        "id": str(row.id),
        "report_type": REPORT_TYPE,
        "execution_status": execution,
        "member_id": row.member_id,
        "columns": params.get("columns"),
        "report_interval": params.get("interval"),
        "start_date": params.get("first"),
        "end_date": params.get("last"),
        "format": params.get("format"),
        "row_count": (row.progress or {}).get("rows"),
        "error": error,
        "created_on": fmt_time(row.created_at),
        "last_modified": fmt_time(row.updated_at),
        "url": f"report-download?id={row.id}",
    }


@router.get("/report-download", summary="The report itself: CSV or JSON, not enveloped")
def download_report(caller: CallerDep, id: IdParam = None) -> Response:
    with caller.session() as session:
        row = _job(session, caller, id)
        status, _ = job_state(row)
        if status != "ready" or row.result is None:
            raise NotFound(f"report {id} is not ready (execution_status {EXECUTION[status]})")
        fmt = row.params.get("format", "csv")
        filename = f"segment_load-{row.id}.{fmt}"
        return Response(
            row.result,
            media_type=MEDIA_TYPES[fmt],
            headers={"content-disposition": f'attachment; filename="{filename}"'},
        )


def _job(session: Any, caller: CallerDep, job_id: int | None) -> Job:
    if job_id is None:
        raise ValidationFailed([field_error("id", "is required: the report_id POST /report gave")])
    return JobRepo(session, caller.principal, "report").get(job_id)
