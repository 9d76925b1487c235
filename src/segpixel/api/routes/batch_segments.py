"""`/batch-segment`: upload users and their segments in bulk (SPEC §9), run as a job.

Two protocols. Ours, in one step (§9.1): the upload (the request body, or its multipart field
`file`) is streamed to a file in the upload folder — never held in memory, never parsed here — and
a job is recorded; the answer comes as soon as the upload is in. The reference's Batch Segment
Service, in three (§9.2): an empty POST (or `{"batch_segment_upload_job": {}}`) makes a job with an
`upload_url` (routes/segment_upload.py takes the file there), and `GET ?job_id=` follows it.
A job runner (segpixel.jobs) then streams the file into the profile store. `GET
/batch-segment?id=J` (or `?job_id=`) reports how far it got; `GET /batch-segment` lists the
caller's jobs of the last 30 days, under our key and the reference's. A client that goes away
mid-upload leaves nothing behind: no job, no file.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, BinaryIO

from fastapi import APIRouter, Query, Request
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import ClientDisconnect

from segpixel.api.batch_view import job_out
from segpixel.api.deps import CallerDep, IdParam, PagingDep, page_for
from segpixel.api.envelope import ok
from segpixel.api.owners import resolve_member
from segpixel.catalog.jobs import AWAITING, JobRepo
from segpixel.catalog.repo import utcnow
from segpixel.catalog.tables import Job
from segpixel.domain.errors import ValidationFailed, field_error
from segpixel.errors import BadRequest, NotFound
from segpixel.jobs.batch_job import BatchJob, job_params
from segpixel.jobs.context import store_key
from segpixel.jobs.spool import Spool

router = APIRouter(tags=["batch-segment"])
log = logging.getLogger("segpixel.jobs")
KIND = BatchJob.name
CHUNK = 1 << 20
WRITE_BYTES = 1 << 20
# An upload goes to disk as it arrives (fdatasync every SYNC_BYTES, on the writing thread, and at
# the end): the file is stored before its job is queued, and never hundreds of MB sit dirty in
# the page cache for another file's fsync (the SQLite checkpoint's) to wait behind.
SYNC_BYTES = 8 << 20
HISTORY_DAYS = 30  # the reference keeps a member's upload history this long
JOB_REQUEST = "batch_segment_upload_job"  # the reference's key, in the step-1 body and answers
JOB_REQUEST_MAX = 4096  # a JSON body at most this long may be the step-1 request
JobIdParam = Annotated[
    str | None, Query(max_length=64, description="The reference's job_id (GET: one job)")
]


@router.post(
    "/batch-segment",
    summary="Upload a batch file (UID,SEG[:EXPIRE_MINUTES[:VALUE]];… as body or multipart "
    'field file), or with an empty body (or {"batch_segment_upload_job": {}}) start a '
    "Batch Segment Service job: its upload_url takes the file",
)
async def upload_batch(
    caller: CallerDep, request: Request, member_id: IdParam = None
) -> dict[str, Any]:
    state = caller.state
    if member_id is not None:  # before reading the upload: a caller may not name any member
        await run_in_threadpool(_check_member, caller, member_id)
    spool = spool_of(caller)
    incoming = spool.incoming()
    try:
        size = await receive(request, incoming)
    except ClientDisconnect:
        log.info("batch upload: the client went away mid-upload; nothing was kept")
        raise BadRequest("the upload was interrupted before its end") from None
    if _asks_for_upload_url(request, incoming, size):
        incoming.unlink(missing_ok=True)
        return await run_in_threadpool(_new_upload_job, caller, request, member_id)
    if size == 0:
        incoming.unlink(missing_ok=True)
        raise ValidationFailed(
            [field_error("file", "is empty: send it as the request body or the field file")]
        )
    name = spool.keep(incoming)

    def record() -> Job:
        with caller.session() as session:
            member = member_id if member_id is not None else caller.principal.member_id
            params = job_params(caller.principal, member_id, size, name)
            repo = JobRepo(session, caller.principal, KIND)
            return repo.create(member, params, store=store_key(state.settings), spool=spool.id)

    try:
        job = await run_in_threadpool(record)
    except BaseException:
        spool.remove(name)
        raise
    return ok({"id": job.id, "batch-segment": job_out(job)})


def spool_of(caller: CallerDep) -> Spool:
    settings = caller.state.settings
    return Spool(settings.upload_dir or settings.data_dir / "uploads")


def _asks_for_upload_url(request: Request, body: Path, size: int) -> bool:
    """Step 1 of the reference's protocol: an empty body that is no file (a file comes as text
    or multipart), or the JSON `{"batch_segment_upload_job": {...}}`."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not content_type.endswith("json"):  # (an unlabelled body is labelled JSON: json_bodies.py)
        return False
    if size == 0:
        return True
    if size > JOB_REQUEST_MAX:
        return False
    try:
        sent = json.loads(body.read_bytes())
    except (ValueError, UnicodeDecodeError):
        return False
    is_request = isinstance(sent, dict) and list(sent) == [JOB_REQUEST]
    return is_request and isinstance(sent[JOB_REQUEST], dict)


def _new_upload_job(caller: CallerDep, request: Request, member_id: int | None) -> dict[str, Any]:
    """A job waiting for its file at its upload_url (single use, for 5 minutes)."""
    state = caller.state
    member = resolve_member(caller.principal, member_id)
    with caller.session() as session:
        repo = JobRepo(session, caller.principal, KIND)
        repo.require_member(member)
        params = job_params(caller.principal, member, 0, "")
        job = repo.create(member, params, store=store_key(state.settings), status=AWAITING)
        shown = job_out(job, base_url=str(request.base_url))
    reference = {k: shown[k] for k in ("id", "job_id", "member_id", "upload_url", "last_modified")}
    return ok({"id": job.id, JOB_REQUEST: reference, "batch-segment": shown})


def _check_member(caller: CallerDep, member_id: int) -> None:
    with caller.session() as session:
        JobRepo(session, caller.principal, KIND).require_member(member_id)


def _write_through(out: BinaryIO) -> Callable[[bytes, bool], None]:
    """A writer of `out` that syncs it every SYNC_BYTES, and at the last block."""
    unsynced = 0

    def write(block: bytes, last: bool) -> None:
        nonlocal unsynced
        out.write(block)
        unsynced += len(block)
        if unsynced >= SYNC_BYTES or last:
            out.flush()
            os.fdatasync(out.fileno())
            unsynced = 0

    return write


async def receive(request: Request, path: Path) -> int:
    """The upload, written to `path` as it arrives; its size. Nothing is left on failure.

    Chunks are gathered to WRITE_BYTES and written by a thread: the event loop, which serves
    this worker's pixels, only hands them over. The whole file is on disk before the job is
    queued."""
    size = 0
    try:
        with path.open("wb") as out:
            pending: list[bytes] = []
            held = 0
            to_disk = _write_through(out)

            async def write(chunk: bytes, flush: bool = False) -> None:
                nonlocal held, size
                size += len(chunk)
                pending.append(chunk)
                held += len(chunk)
                if held >= WRITE_BYTES or flush:
                    block = b"".join(pending)
                    pending.clear()
                    held = 0
                    await asyncio.to_thread(to_disk, block, flush)

            content_type = request.headers.get("content-type", "")
            if content_type.startswith("multipart/form-data"):
                # The parser spools the part to a temporary file: memory stays flat here too.
                async with request.form(max_files=1, max_fields=10) as form:
                    upload = form.get("file")
                    if not isinstance(upload, UploadFile):
                        rule = "is required: the multipart field file"
                        raise ValidationFailed([field_error("file", rule)])
                    while chunk := await upload.read(CHUNK):
                        await write(chunk)
            else:
                async for chunk in request.stream():
                    await write(chunk)
            await write(b"", flush=True)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return size


@router.get(
    "/batch-segment",
    summary="A batch upload's progress (?id=, or the reference's ?job_id=), or the jobs of the "
    "last 30 days (?member_id= narrows them)",
)
def read_batch(
    caller: CallerDep,
    request: Request,
    paging: PagingDep,
    id: IdParam = None,
    job_id: JobIdParam = None,
    member_id: IdParam = None,
) -> dict[str, Any]:
    base_url = str(request.base_url)
    with caller.session() as session:
        repo = JobRepo(session, caller.principal, KIND)
        if member_id is not None:
            repo.require_member(member_id)
        if id is not None or job_id is not None:
            row = repo.get(id) if id is not None else repo.by_public_id(job_id or "")
            if job_id is not None and (row.public_id != job_id or row.id != (id or row.id)):
                raise NotFound(f"{repo.noun} with job_id {job_id[:40]!r} not found")
            if member_id is not None and row.member_id != member_id:
                raise NotFound(f"{repo.noun} {row.id} of member {member_id} not found")
            shown = job_out(row, base_url=base_url)
            return ok({"id": row.id, "batch-segment": shown, JOB_REQUEST: shown})
        page = page_for(paging, JobRepo)
        since = utcnow() - timedelta(days=HISTORY_DAYS)
        stmt = select(Job).where(Job.created_at >= since)
        if member_id is not None:
            stmt = stmt.where(Job.member_id == member_id)
        total, rows = repo.list(stmt, page)
        jobs = [job_out(row, with_rejected=False, base_url=base_url) for row in rows]
        return ok({"batch-segments": jobs, JOB_REQUEST: jobs}, count=total, page=page)
