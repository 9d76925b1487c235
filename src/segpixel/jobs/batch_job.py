"""The `batch-segment` kind: stream an uploaded file into the profile store (SPEC §9).

A gzip file (its magic bytes, or `Content-Encoding: gzip` at upload) is inflated as it is read
(batch/inflate.py); a file that inflates past SEGPIXEL_BATCH_MAX_BYTES, or a corrupt one, ends the
job in error with the reference's `error_code`, what it applied until then kept. A file uploaded
through the reference's protocol is read in the format its member configured
(`params["format"]`, taken when the file came in).

Progress is saved after every batch that wrote to the store (and at least every second
otherwise), before the next batch is read: after a crash, the runner that takes the job over
resumes from the last saved batch, and any batch the store had already applied is skipped by its
token (the job's own writer name, `job-<id>`) and counted once. The upload is removed when the
job ends, whatever the end.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any, ClassVar

from segpixel.batch.inflate import BatchFileError, readable
from segpixel.batch.upload import BatchReport, BatchUpload
from segpixel.domain.access import Principal
from segpixel.domain.batch_format import DEFAULT_FORMAT, BatchFormat
from segpixel.domain.batch_lines import BatchScope
from segpixel.jobs.context import JobContext
from segpixel.jobs.running import RunningJob

PROGRESS_EVERY = 1.0  # seconds between saves of batches that wrote nothing
NO_UPLOAD = (
    "interrupted: this upload ran from the command line (segpixel batch upload), which "
    "stopped before it finished; run it again"
)


def job_params(principal: Principal, member_id: int | None, size: int, upload: str) -> dict:
    """The job's params: who uploaded (their rights apply to every line), for which member."""
    return {"member_id": member_id, "bytes": size, "upload": upload, "by": asdict(principal)}


class BatchJob:
    name: ClassVar[str] = "batch-segment"
    uses_upload: ClassVar[bool] = True

    async def run(self, job: RunningJob, ctx: JobContext) -> dict[str, Any]:
        params = job.params
        report = BatchReport.from_progress(job.progress)
        name = params.get("upload")
        if not name or "by" not in params:
            return {"status": "error", "error": NO_UPLOAD}
        path = ctx.spool.path(name)
        if not path.exists():
            error = "the uploaded file is gone from the upload folder; upload it again"
            return {"status": "error", "error": error}
        # The catalog as it is now: a segment made just before the upload must be known to it
        # (the runner's own snapshot follows the catalog a poll behind).
        await ctx.snapshot.refresh()
        saved = time.monotonic()

        async def checkpoint(report: BatchReport, wrote: bool) -> None:
            nonlocal saved
            if wrote or time.monotonic() - saved >= PROGRESS_EVERY:
                await job.save(progress=report.as_progress())
                saved = time.monotonic()

        upload = BatchUpload(
            ctx.store,
            lambda: ctx.snapshot.current,
            BatchScope(Principal(**params["by"]), params.get("member_id")),
            ctx.clock,
            batch_size=ctx.settings.job_batch_lines,
            writer=f"job-{job.id}",
            report=report,
            checkpoint=checkpoint,
            guard=job.guard,
            pause=ctx.settings.job_batch_pause_ms / 1000,
            write_share=ctx.settings.job_write_share,
            fmt=BatchFormat.from_fields(params["format"]) if "format" in params else DEFAULT_FORMAT,
        )
        try:
            with path.open("rb") as raw:
                max_bytes = ctx.settings.batch_max_bytes
                await upload.run(readable(raw, max_bytes, bool(params.get("gzip"))))
        except BatchFileError as exc:
            progress = {**upload.report.as_progress(), "error_code": exc.error_code}
            return {"status": "error", "error": exc.message, "progress": progress}
        return {"status": "done", "progress": upload.report.as_progress()}

    def cleanup(self, job: RunningJob, ctx: JobContext) -> None:
        ctx.spool.remove(job.params.get("upload"))
