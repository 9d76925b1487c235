"""Jobs in the catalog (the `jobs` table): a report or a batch upload, run off the request.

Any server of a deployment can answer for a job, since its state lives in the catalog; the worker
that runs it writes its progress there. A job still pending or running whose row has not moved
for STALE_SECONDS lost its worker (a restart, a crash) and reads as an error.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar

from sqlalchemy import Select, false, update

from segpixel.catalog.db import Catalog
from segpixel.catalog.repo import Repo, utcnow
from segpixel.catalog.tables import Job

STALE_SECONDS = 600
NOUNS = {"report": "report", "batch-segment": "batch-segment job"}
INTERRUPTED = "interrupted: the server that ran this job stopped before it finished"


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

    def create(self, member_id: int | None, params: dict[str, Any]) -> Job:
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
        )
        self.session.add(row)
        self.session.flush()
        return row


def save_job(catalog: Catalog, job_id: int, **fields: Any) -> None:
    """The runner's write: status, progress, result, error (and the time it moved)."""
    with catalog.session() as session:
        session.execute(update(Job).where(Job.id == job_id).values(**fields, updated_at=utcnow()))


def job_state(row: Job) -> tuple[str, str | None]:
    """The status and error to show: a pending or running job that stopped moving is an error."""
    if row.status in ("pending", "running") and utcnow() - row.updated_at > timedelta(
        seconds=STALE_SECONDS
    ):
        return "error", INTERRUPTED
    return row.status, row.error
