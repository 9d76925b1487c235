"""The upload_url of a Batch Segment Service job (SPEC §9.2, step 2): `POST
/segment-upload/JOB_ID` with the file as the body (`application/octet-stream`; gzip or not).

The URL is single use (the first request takes it, atomically, whatever happens next), valid for
5 minutes from the job's creation, and only for those who may see the job (its member's users; a
caller of another member is told it does not exist). The file is streamed to the upload folder as
on the one-step upload, then the job is queued for the runners with the member's batch format as
it is now. An upload that breaks off ends the job in error (`uploading-error`): the URL is spent.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from segpixel.api.batch_view import UPLOAD_BROKE_OFF, UPLOAD_PATH, URL_EXPIRED, url_expired
from segpixel.api.deps import CallerDep
from segpixel.api.envelope import ok
from segpixel.api.routes.batch_segments import KIND, receive, spool_of
from segpixel.catalog.batch_config import BatchConfigRepo
from segpixel.catalog.jobs import AWAITING, JobRepo
from segpixel.catalog.repo import fmt_time, utcnow
from segpixel.catalog.tables import Job
from segpixel.domain.errors import field_error
from segpixel.errors import BadRequest, Conflict
from segpixel.jobs.context import store_key

router = APIRouter(tags=["batch-segment"])
log = logging.getLogger("segpixel.jobs")
USED = "upload_url was used already (it is single use): POST /batch-segment for a new one"


@router.post(
    UPLOAD_PATH + "{job_id}",
    summary="Step 2 of the Batch Segment Service: the file (application/octet-stream, gzip or "
    "plain) for the job whose upload_url this is; single use, within 5 minutes",
)
async def upload_to_job(
    caller: CallerDep,
    request: Request,
    job_id: Annotated[str, Path(max_length=64, description="The job's job_id (40 characters)")],
) -> dict[str, Any]:
    row = await run_in_threadpool(_take_url, caller, job_id)
    spool = spool_of(caller)
    incoming = spool.incoming()
    try:
        size = await receive(request, incoming)
        if size == 0:
            raise BadRequest.field(field_error("file", "is empty: send it as the request body"))
    except BaseException as exc:
        incoming.unlink(missing_ok=True)
        await run_in_threadpool(_fail, caller, row.id)
        if isinstance(exc, ClientDisconnect):
            log.info("batch upload %d: the client went away mid-upload", row.id)
            raise BadRequest("the upload was interrupted before its end") from None
        raise
    name = spool.keep(incoming)
    gzip = request.headers.get("content-encoding", "").strip().lower() == "gzip"
    try:
        await run_in_threadpool(_queue, caller, row.id, name, size, spool.id, gzip)
    except BaseException:
        spool.remove(name)
        raise
    return ok({"id": row.id, "segment_upload": {"job_id": job_id}})


def _take_url(caller: CallerDep, job_id: str) -> Job:
    with caller.session() as session:
        repo = JobRepo(session, caller.principal, KIND)
        row = repo.by_public_id(job_id)
        if row.status != AWAITING:
            raise Conflict(USED, [field_error("upload_url", "is single use: used already")])
        if url_expired(row):
            raise BadRequest(URL_EXPIRED, [field_error("upload_url", "expired after 5 minutes")])
        if not repo.start_upload(row):
            raise Conflict(USED, [field_error("upload_url", "is single use: used already")])
        return row


def _queue(caller: CallerDep, job_id: int, name: str, size: int, spool: str, gzip: bool) -> None:
    """The file is in: the job waits for a runner, to read it in its member's format."""
    with caller.session() as session:
        repo = JobRepo(session, caller.principal, KIND)
        row = repo.get(job_id)
        fmt = BatchConfigRepo(session, caller.principal).format_of(row.member_id)
        params = {
            **row.params,
            "bytes": size,
            "upload": name,
            "gzip": gzip,
            "format": fmt.as_fields(),
            "uploaded_on": fmt_time(utcnow()),
        }
        store = store_key(caller.state.settings)
        repo.end_upload(job_id, status="pending", params=params, spool=spool, store=store)


def _fail(caller: CallerDep, job_id: int) -> None:
    with caller.session() as session:
        JobRepo(session, caller.principal, KIND).end_upload(
            job_id,
            status="error",
            error=UPLOAD_BROKE_OFF,
            progress={"error_code": "uploading-error"},
            finished_at=utcnow(),
        )
