"""A batch upload job as both kinds of clients read it (SPEC §9): ours (`status`, `lines_read`,
`rejected`…) and the reference's Batch Segment Service (`phase`, `num_valid`, `error_log_lines`…),
in one object, so a script of either kind finds its fields.

Phases, from our job's life: `starting` (made, its upload_url unused), `uploading` (the file is
coming in), `validating` (the file is in, waiting for a job runner), `processing` (a runner
streams it into the store), `completed`, `error` (with `error_code`: `uploading-error` for an
upload that broke off, `upload-url-expired` for a job whose upload never began in time,
`FILESIZE_LIMIT_EXCEEDED`, `invalid-gzip`, or `processing-error`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from segpixel.catalog.jobs import AWAITING, UPLOADING, job_state
from segpixel.catalog.repo import fmt_time, utcnow
from segpixel.catalog.tables import Job
from segpixel.domain.batch_lines import REJECTION_KINDS

UPLOAD_PATH = "/segment-upload/"
UPLOAD_URL_SECONDS = 300  # the reference's five minutes to begin an upload
UPLOAD_MAX_SECONDS = 90 * 60  # the reference's longest upload phase
SEGMENT_LOG_LINES = 200
PHASES = {"pending": "validating", "running": "processing", "done": "completed", "error": "error"}
URL_EXPIRED = (
    "the upload_url expired: no upload began within 5 minutes of the job; POST /batch-segment "
    "for a new one"
)
UPLOAD_BROKE_OFF = "the upload broke off before the file was whole; POST /batch-segment again"


def url_expired(row: Job, now: datetime | None = None) -> bool:
    elapsed = (now or utcnow()) - row.created_at
    return row.status == AWAITING and elapsed > timedelta(seconds=UPLOAD_URL_SECONDS)


def _upload_stalled(row: Job, now: datetime) -> bool:
    return row.status == UPLOADING and now - row.created_at > timedelta(seconds=UPLOAD_MAX_SECONDS)


def lifecycle(row: Job) -> tuple[str, str, str | None, str | None]:
    """(our status, the reference's phase, the error sentence, the error_code)."""
    now = utcnow()
    progress = row.progress or {}
    if url_expired(row, now):
        return "error", "error", URL_EXPIRED, "upload-url-expired"
    if _upload_stalled(row, now):
        return "error", "error", UPLOAD_BROKE_OFF, "uploading-error"
    if row.status == AWAITING:
        return "pending", "starting", None, None
    if row.status == UPLOADING:
        return "pending", "uploading", None, None
    status, error = job_state(row)
    code = progress.get("error_code") or "processing-error" if status == "error" else None
    return status, PHASES.get(status, status), error, code


def upload_url(base_url: str, row: Job) -> str | None:
    """Where the job's file goes: ours, while the job waits for it."""
    if row.status != AWAITING or row.public_id is None or url_expired(row):
        return None
    return f"{base_url.rstrip('/')}{UPLOAD_PATH}{row.public_id}"


def job_out(row: Job, with_rejected: bool = True, base_url: str = "") -> dict[str, Any]:
    status, phase, error, error_code = lifecycle(row)
    progress = row.progress or {}
    params = row.params or {}
    out: dict[str, Any] = {
        "id": row.id,
        "status": status,
        "member_id": row.member_id,
        "bytes": params.get("bytes"),
        "bytes_read": progress.get("bytes_read", 0),
        "lines_read": progress.get("lines_read", 0),
        "users_updated": progress.get("users_updated", 0),
        "rejected_lines": progress.get("rejected_lines", 0),
        "error": error,
        "created_on": fmt_time(row.created_at),
        "last_modified": fmt_time(row.updated_at),
        **_reference_fields(row, phase, error_code, base_url),
    }
    if with_rejected:
        out["rejected"] = progress.get("rejected", [])
    return out


def _reference_fields(row: Job, phase: str, error_code: str | None, base_url: str) -> dict:
    progress = row.progress or {}
    params = row.params or {}
    rejections = progress.get("rejections", {})
    ended = phase in ("completed", "error")
    uploaded = params.get("uploaded_on") or (
        None if row.status in (AWAITING, UPLOADING) else fmt_time(row.created_at)
    )
    segment_log = sorted(progress.get("segment_users", {}).items(), key=lambda kv: int(kv[0]))
    return {
        "job_id": row.public_id,
        "phase": phase,
        "upload_url": upload_url(base_url, row) if base_url else None,
        "start_time": fmt_time(row.created_at),
        "uploaded_time": uploaded,
        "validated_time": fmt_time(row.started_at) if row.started_at else None,
        "completed_time": fmt_time(row.finished_at) if ended and row.finished_at else None,
        "error_code": error_code,
        "time_to_process": _minutes(row.started_at, row.finished_at if ended else None),
        "percent_complete": _percent(phase, progress, params),
        "num_valid": progress.get("num_valid", 0),
        "num_valid_user": progress.get("users_updated", 0),
        **{kind: rejections.get(kind, 0) for kind in REJECTION_KINDS},
        "error_log_lines": "\n".join(progress.get("error_log", [])) or None,
        "segment_log_lines": "\n".join(
            f"{sid}:{users}" for sid, users in segment_log[:SEGMENT_LOG_LINES]
        )
        or None,
    }


def _minutes(start: datetime | None, end: datetime | None) -> str:
    """The reference's `time_to_process`: minutes, two decimals, as text."""
    if start is None:
        return "0.00"
    return f"{((end or utcnow()) - start).total_seconds() / 60:.2f}"


def _percent(phase: str, progress: dict[str, Any], params: dict[str, Any]) -> int:
    if phase == "completed":
        return 100
    size = params.get("bytes") or 0
    if phase != "processing" or not size:
        return 0
    return min(99, int(progress.get("raw_read", 0) * 100 / size))
