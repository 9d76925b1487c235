"""The `report` kind: a segment loads report (SPEC §8), its download kept in the job's row.

A report has no side effects: a runner that takes over a report whose runner died starts it
again from the start.
"""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

from segpixel.domain.report_request import ReportRequest
from segpixel.jobs.context import JobContext
from segpixel.jobs.running import RunningJob
from segpixel.reporting.run import report_download


def job_params(request: ReportRequest, names: dict[int, str], today: date) -> dict[str, Any]:
    """The job's params: the request, the segments the caller may see (checked when it was
    asked) with their names then, and the day it was asked on."""
    return {
        "report_type": "segment_load",
        **request.as_params(),
        "segments": [[sid, name] for sid, name in names.items()],
        "today": today.isoformat(),
    }


class ReportJob:
    name: ClassVar[str] = "report"
    uses_upload: ClassVar[bool] = False

    async def run(self, job: RunningJob, ctx: JobContext) -> dict[str, Any]:
        params = job.params
        request = ReportRequest.from_params(params)
        names = {int(sid): name for sid, name in params["segments"]}
        body, rows = await report_download(
            request, names, ctx.stats, date.fromisoformat(params["today"])
        )
        job.guard()
        return {"status": "ready", "result": body, "progress": {"rows": rows}}

    def cleanup(self, job: RunningJob, ctx: JobContext) -> None:
        pass
