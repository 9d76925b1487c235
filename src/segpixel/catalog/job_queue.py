"""The jobs table as a queue: runners claim jobs with a lease, renew it, and write under it.

A job is claimable when it is `pending`, or `running` under a lease that has lapsed (its runner
died). A claim is one UPDATE guarded by the same conditions, so two runners can never both win
one job: on SQLite the statement holds the write lock, on PostgreSQL a second UPDATE of the row
waits for the first and re-checks the conditions against what it committed. The UPDATE also
re-counts the member's running jobs (the per-member cap); on PostgreSQL claims are serialized by
an advisory lock, so two runners cannot both count the same free place.

Every write a runner makes afterwards names the lease (`lease_owner`): a runner whose lease was
taken over changes nothing any more and learns it from the rowcount.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select, text, update
from sqlalchemy.orm import aliased

from segpixel.catalog.db import Catalog
from segpixel.catalog.repo import utcnow
from segpixel.catalog.tables import Job

CLAIM_LOCK = 0x5E6_0B5  # PostgreSQL advisory lock key of job claims
ENDED = ("done", "ready", "error")


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True, slots=True)
class Claimed:
    """What a runner needs of a job it now holds."""

    id: int
    kind: str
    member_id: int | None
    user_id: int | None
    params: dict[str, Any]
    progress: dict[str, Any]
    attempts: int


def _claimable(now: int) -> Any:
    lapsed = and_(Job.status == "running", or_(Job.lease_until.is_(None), Job.lease_until < now))
    return or_(Job.status == "pending", lapsed)


def claim(
    catalog: Catalog,
    owner: str,
    lease_seconds: float,
    *,
    kinds: tuple[str, ...],
    spools: tuple[str, ...],
    store: str,
    member_cap: int,
    skip: tuple[int, ...] = (),
) -> Claimed | None:
    """Take the oldest claimable job of `kinds` on the profile store `store`, whose upload (if
    any) is in one of `spools`, whose member runs fewer than `member_cap` jobs; None if none."""
    now = now_ms()
    other = aliased(Job)
    running = (
        select(func.count())
        .select_from(other)
        .where(
            other.status == "running",
            other.lease_until >= now,
            other.id != Job.id,
            or_(
                other.member_id == Job.member_id,
                and_(other.member_id.is_(None), Job.member_id.is_(None)),
            ),
        )
        .scalar_subquery()
    )
    candidate = (
        select(Job.id)
        .where(
            _claimable(now),
            Job.kind.in_(kinds),
            or_(Job.spool.is_(None), Job.spool.in_(spools or ("",))),
            or_(Job.store.is_(None), Job.store == store),
            running < member_cap,
        )
        .order_by(Job.id)
        .limit(1)
    )
    if skip:
        candidate = candidate.where(Job.id.not_in(skip))
    with catalog.session() as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CLAIM_LOCK})
        job_id = session.scalar(candidate)
        if job_id is None:
            return None
        taken = session.execute(
            update(Job)
            .where(Job.id == job_id, _claimable(now), running < member_cap)
            .values(
                status="running",
                lease_owner=owner,
                lease_until=now + int(lease_seconds * 1000),
                attempts=Job.attempts + 1,
                started_at=func.coalesce(Job.started_at, utcnow()),
                updated_at=utcnow(),
            )
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != 1:
            return None  # another runner was quicker; the next poll looks again
        row = session.get(Job, job_id)
        assert row is not None
        return Claimed(
            row.id,
            row.kind,
            row.member_id,
            row.user_id,
            dict(row.params or {}),
            dict(row.progress or {}),
            row.attempts,
        )


def renew(catalog: Catalog, job_id: int, owner: str, lease_seconds: float) -> bool:
    """Extend the lease; False when this runner no longer holds the job."""
    with catalog.session() as session:
        done = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.lease_owner == owner, Job.status == "running")
            .values(lease_until=now_ms() + int(lease_seconds * 1000))
            .execution_options(synchronize_session=False)
        )
        return done.rowcount == 1


def write(catalog: Catalog, job_id: int, owner: str, **fields: Any) -> bool:
    """The holder's write (progress, result, status…); False when the lease is no longer ours.

    An ending status also ends the lease (`lease_owner` stays: the runner that ended the job)
    and stamps `finished_at`."""
    if fields.get("status") in ENDED:
        fields.update(lease_until=None, finished_at=utcnow())
    with catalog.session() as session:
        done = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.lease_owner == owner, Job.status == "running")
            .values(**fields, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        return done.rowcount == 1


def release(catalog: Catalog, job_id: int, owner: str) -> bool:
    """Hand the job back (this runner stops): pending again, for any runner to resume."""
    return write(
        catalog,
        job_id,
        owner,
        status="pending",
        lease_owner=None,
        lease_until=None,
        attempts=Job.attempts - 1,  # a clean hand-back is no failed attempt
    )


def back_off(catalog: Catalog, job_id: int, owner: str, seconds: float) -> bool:
    """Let go of the job for `seconds` (a store is down): then any runner may resume it."""
    until = now_ms() + int(seconds * 1000)
    return write(catalog, job_id, owner, lease_owner=None, lease_until=until)


def live_uploads(catalog: Catalog, spool: str) -> set[str]:
    """The upload files that jobs not yet ended keep in the folder `spool`."""
    with catalog.session() as session:
        params = session.scalars(
            select(Job.params).where(Job.spool == spool, Job.status.not_in(ENDED))
        )
        return {p["upload"] for p in params if p and p.get("upload")}
