"""`/batch-segment`: upload users and their segments in bulk (SPEC §9), run as a job.

The upload (the request body, or its multipart field `file`) is streamed to a file in the upload
folder — never held in memory, never parsed here — and a job is recorded; the answer comes as soon
as the upload is in. A job runner (segpixel.jobs) then streams the file into the profile store.
`GET /batch-segment?id=J` reports how far it got; `GET /batch-segment` lists the caller's jobs.
A client that goes away mid-upload leaves nothing behind: no job, no file.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import ClientDisconnect

from segpixel.api.deps import CallerDep, IdParam, PagingDep, page_for
from segpixel.api.envelope import ok
from segpixel.catalog.jobs import JobRepo, job_state
from segpixel.catalog.repo import fmt_time
from segpixel.catalog.tables import Job
from segpixel.domain.errors import ValidationFailed, field_error
from segpixel.errors import BadRequest
from segpixel.jobs.batch_job import BatchJob, job_params
from segpixel.jobs.context import store_key
from segpixel.jobs.spool import Spool

router = APIRouter(tags=["batch-segment"])
log = logging.getLogger("segpixel.jobs")
KIND = BatchJob.name
CHUNK = 1 << 20
WRITE_BYTES = 1 << 20


@router.post("/batch-segment", summary="Upload a batch file: UID,SEG[:EXPIRE_MINUTES[:VALUE]];…")
async def upload_batch(
    caller: CallerDep, request: Request, member_id: IdParam = None
) -> dict[str, Any]:
    state = caller.state
    if member_id is not None:  # before reading the upload: a caller may not name any member
        await run_in_threadpool(_check_member, caller, member_id)
    spool = Spool(state.settings.upload_dir or state.settings.data_dir / "uploads")
    incoming = spool.incoming()
    try:
        size = await _receive(request, incoming)
    except ClientDisconnect:
        log.info("batch upload: the client went away mid-upload; nothing was kept")
        raise BadRequest("the upload was interrupted before its end") from None
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


def _check_member(caller: CallerDep, member_id: int) -> None:
    with caller.session() as session:
        JobRepo(session, caller.principal, KIND).require_member(member_id)


async def _receive(request: Request, path: Path) -> int:
    """The upload, written to `path` as it arrives; its size. Nothing is left on failure.

    Chunks are gathered to WRITE_BYTES and written by a thread: the event loop, which serves
    this worker's pixels, only hands them over."""
    size = 0
    try:
        with path.open("wb") as out:
            pending: list[bytes] = []
            held = 0

            async def write(chunk: bytes, flush: bool = False) -> None:
                nonlocal held, size
                size += len(chunk)
                pending.append(chunk)
                held += len(chunk)
                if held >= WRITE_BYTES or (flush and held):
                    block = b"".join(pending)
                    pending.clear()
                    held = 0
                    await asyncio.to_thread(out.write, block)

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
        if size == 0:
            raise ValidationFailed(
                [field_error("file", "is empty: send it as the request body or the field file")]
            )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return size


@router.get("/batch-segment", summary="A batch upload's progress (?id=), or the list of them")
def read_batch(caller: CallerDep, paging: PagingDep, id: IdParam = None) -> dict[str, Any]:
    with caller.session() as session:
        repo = JobRepo(session, caller.principal, KIND)
        if id is not None:
            return ok({"id": id, "batch-segment": job_out(repo.get(id))})
        page = page_for(paging, JobRepo)
        total, rows = repo.list(select(Job), page)
        jobs = [job_out(row, with_rejected=False) for row in rows]
        return ok({"batch-segments": jobs}, count=total, page=page)


def job_out(row: Job, with_rejected: bool = True) -> dict[str, Any]:
    status, error = job_state(row)
    progress = row.progress or {}
    out: dict[str, Any] = {
        "id": row.id,
        "status": status,
        "member_id": row.member_id,
        "bytes": (row.params or {}).get("bytes"),
        "bytes_read": progress.get("bytes_read", 0),
        "lines_read": progress.get("lines_read", 0),
        "users_updated": progress.get("users_updated", 0),
        "rejected_lines": progress.get("rejected_lines", 0),
        "error": error,
        "created_on": fmt_time(row.created_at),
        "last_modified": fmt_time(row.updated_at),
    }
    if with_rejected:
        out["rejected"] = progress.get("rejected", [])
    return out
