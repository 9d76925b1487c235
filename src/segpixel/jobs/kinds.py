"""Job kinds: what a runner does with a job of each `kind`. A new kind is a class with a name
and an async `run`, added to KINDS; the runner claims, leases, records and ends it.

`run` returns the ending fields of the job's row (`status`, and `progress`, `result`, `error`);
it saves progress on the way with `job.save(...)` and, before writing anything of its own, asks
`job.guard()`. Raising StoreUnavailable hands the job back for a later attempt (it resumes from
its saved progress); any other error ends it as `error`.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

from segpixel.jobs.context import JobContext
from segpixel.jobs.running import RunningJob


class JobKind(Protocol):
    name: ClassVar[str]
    uses_upload: ClassVar[bool]  # claimed only by runners that can open the job's upload

    async def run(self, job: RunningJob, ctx: JobContext) -> dict[str, Any]: ...

    def cleanup(self, job: RunningJob, ctx: JobContext) -> None:
        """After the job ended (done or error) here: remove what it leaves behind."""


def all_kinds() -> dict[str, JobKind]:
    from segpixel.jobs.batch_job import BatchJob
    from segpixel.jobs.report_job import ReportJob

    return {kind.name: kind for kind in (BatchJob(), ReportJob())}
