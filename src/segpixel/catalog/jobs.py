"""Jobs in the catalog (the `jobs` table) as callers see them: a report or a batch upload.

Any server of a deployment can answer for a job, since its state lives in the catalog; the job
runner that holds it writes its progress there (catalog/job_queue.py). A job whose runner died
stays `running` until another runner takes it over, after the lease, and resumes it.
"""

from __future__ import annotations

import secrets
import string
from typing import Any, ClassVar

from sqlalchemy import Select, false, select, update

from segpixel.catalog.repo import Repo, utcnow
from segpixel.catalog.tables import Job

NOUNS = {"report": "report", "batch-segment": "batch-segment job"}
# A Batch Segment Service job before its file is in (SPEC §9.2): never claimed by a runner.
AWAITING = "awaiting"  # made, its upload_url not used yet
UPLOADING = "uploading"  # its file is coming in through the upload_url
JOB_ID_ALPHABET = string.ascii_letters + string.digits


def new_job_id() -> str:
    """The reference's `job_id`: 40 letters and digits (also the secret part of upload_url)."""
    return "".join(secrets.choice(JOB_ID_ALPHABET) for _ in range(40))


class JobRepo(Repo[Job]):
    """The jobs of one kind a caller may see: an admin every one; a member user its member's;
    an advertiser user the ones it started."""

    model = Job
    sortable: ClassVar[tuple[str, ...]] = ("id", "created_at", "updated_at", "status")

    def __init__(self, session: Any, principal: Any, kind: str):
        super().__init__(session, principal)
        self.kind = kind
        self.noun = NOUNS[kind]  # type: ignore[misc]  # error sentences name the kind

    def scope(self, stmt: Select[Any]) -> Select[Any]:
        stmt = stmt.where(Job.kind == self.kind)
        p = self.principal
        if p.is_admin:
            return stmt
        if p.member_id is None:
            return stmt.where(false())
        stmt = stmt.where(Job.member_id == p.member_id)
        if p.role == "advertiser":
            stmt = stmt.where(Job.user_id == p.user_id)
        return stmt

    def create(
        self,
        member_id: int | None,
        params: dict[str, Any],
        *,
        store: str | None = None,
        spool: str | None = None,
        **state: Any,
    ) -> Job:
        """Enqueue a job for the runners of profile store `store` (`spool`: the upload folder
        holding its file); `state` sets other columns (the command line runs its own uploads:
        status and lease)."""
        now = utcnow()
        user_id = self.principal.user_id or None  # the CLI's operator (0) is no API user
        row = Job(
            kind=self.kind,
            member_id=member_id,
            user_id=user_id,
            status="pending",
            params=params,
            progress={},
            created_at=now,
            updated_at=now,
            spool=spool,
            store=store,
            attempts=0,
            public_id=new_job_id(),
        )
        for name, value in state.items():
            setattr(row, name, value)
        self.session.add(row)
        self.session.flush()
        return row

    def by_public_id(self, job_id: str) -> Job:
        return self.one(select(Job).where(Job.public_id == job_id), f"job_id {job_id[:40]!r}")

    def start_upload(self, row: Job) -> bool:
        """Take the job's upload_url (single use): False when another request took it first."""
        taken = self.session.execute(
            update(Job)
            .where(Job.id == row.id, Job.status == AWAITING)
            .values(status=UPLOADING, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        return taken.rowcount == 1

    def end_upload(self, job_id: int, **fields: Any) -> None:
        """The upload's end: the file is in (status pending, for the runners) or it failed."""
        self.session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == UPLOADING)
            .values(**fields, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )


def job_state(row: Job) -> tuple[str, str | None]:
    """The status and error to show."""
    return row.status, row.error
