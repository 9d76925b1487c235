"""`/batch-segment`: upload users and their segments in bulk (SPEC §9), run as a job.

The upload (the request body, or its multipart field `file`) is streamed to a file in the data
folder — never held in memory — and a job is recorded; the answer comes as soon as the upload is
in, and the job then streams the file into the profile store in this worker. `GET
/batch-segment?id=J` reports how far it got; `GET /batch-segment` lists the caller's jobs.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from segpixel.api.deps import ApiState, CallerDep, IdParam, PagingDep, page_for
from segpixel.api.envelope import ok
from segpixel.batch.upload import BatchReport, BatchUpload
from segpixel.catalog.jobs import INTERRUPTED, JobRepo, job_state, save_job
from segpixel.catalog.repo import fmt_time
from segpixel.catalog.tables import Job
from segpixel.domain.batch_lines import BatchScope
from segpixel.domain.errors import ValidationFailed, field_error
from segpixel.errors import SegpixelError, StoreUnavailable

router = APIRouter(tags=["batch-segment"])
KIND = "batch-segment"
CHUNK = 1 << 20


@router.post("/batch-segment", summary="Upload a batch file: UID,SEG[:EXPIRE_MINUTES[:VALUE]];…")
async def upload_batch(
    caller: CallerDep, request: Request, member_id: IdParam = None
) -> dict[str, Any]:
    state = caller.state
    runtime = state.runtime
    if runtime is None:
        raise StoreUnavailable("this server has no profile store to upload into")
    if member_id is not None:  # before reading the upload: a caller may not name any member
        await run_in_threadpool(_check_member, caller, member_id)
    folder = state.settings.data_dir / "uploads"
    incoming, size = await _spool(request, folder)

    def record() -> Job:
        with caller.session() as session:
            member = member_id if member_id is not None else caller.principal.member_id
            params = {"member_id": member_id, "bytes": size}
            return JobRepo(session, caller.principal, KIND).create(member, params)

    try:
        job = await run_in_threadpool(record)
    except BaseException:
        incoming.unlink(missing_ok=True)
        raise
    path = incoming.rename(folder / f"{job.id}.upload")
    scope = BatchScope(caller.principal, member_id)
    state.background.start(_run(state, job.id, path, scope), f"batch-segment-{job.id}")
    return ok({"id": job.id, "batch-segment": job_out(job)})


def _check_member(caller: CallerDep, member_id: int) -> None:
    with caller.session() as session:
        JobRepo(session, caller.principal, KIND).require_member(member_id)


async def _spool(request: Request, folder: Path) -> tuple[Path, int]:
    """The upload, written to a file as it arrives; its path and size."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"incoming-{uuid.uuid4().hex}"
    size = 0
    try:
        with path.open("wb") as out:
            content_type = request.headers.get("content-type", "")
            if content_type.startswith("multipart/form-data"):
                # The parser spools the part to a temporary file: memory stays flat here too.
                async with request.form(max_files=1, max_fields=10) as form:
                    upload = form.get("file")
                    if not isinstance(upload, UploadFile):
                        rule = "is required: the multipart field file"
                        raise ValidationFailed([field_error("file", rule)])
                    while chunk := await upload.read(CHUNK):
                        size += len(chunk)
                        out.write(chunk)
            else:
                async for chunk in request.stream():
                    size += len(chunk)
                    out.write(chunk)
        if size == 0:
            raise ValidationFailed(
                [field_error("file", "is empty: send it as the request body or the field file")]
            )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path, size


async def _run(state: ApiState, job_id: int, path: Path, scope: BatchScope) -> None:
    runtime = state.runtime

    async def progress(report: BatchReport) -> None:
        await asyncio.to_thread(save_job, state.catalog, job_id, progress=report.as_progress())

    upload = BatchUpload(
        runtime.store,
        lambda: runtime.snapshot.current,
        scope,
        runtime.clock,
        on_progress=progress,
    )
    try:
        await asyncio.to_thread(save_job, state.catalog, job_id, status="running")
        with path.open("rb") as stream:
            report = await upload.run(stream)
        done = {"status": "done", "progress": report.as_progress()}
        await asyncio.to_thread(save_job, state.catalog, job_id, **done)
    except asyncio.CancelledError:
        save_job(state.catalog, job_id, status="error", error=INTERRUPTED)
        raise
    except Exception as exc:
        message = exc.message if isinstance(exc, SegpixelError) else f"an unexpected error: {exc}"
        fields = {"status": "error", "error": message, "progress": upload.report.as_progress()}
        await asyncio.to_thread(save_job, state.catalog, job_id, **fields)
    finally:
        with contextlib.suppress(OSError):
            path.unlink()


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
