"""The jobs table as a queue (catalog/job_queue.py), on SQLite and PostgreSQL catalogs: a job is
held by one runner at a time, a lapsed lease lets another take it, a member's jobs wait their
turn, and a runner that lost its lease can write nothing."""

from __future__ import annotations

import threading
import time
from typing import Any

from segpixel.catalog import job_queue
from segpixel.catalog.db import Catalog
from segpixel.catalog.jobs import JobRepo
from segpixel.catalog.members import MemberRepo
from segpixel.catalog.tables import Job
from segpixel.domain.access import Principal

ADMIN = Principal(1, "admin", "admin")
KINDS = ("report", "batch-segment")


def enqueue(catalog: Catalog, member_id: int | None, **columns: Any) -> int:
    """A job only this module's claims can take: on their store and in their upload folder (a
    job with neither is anyone's, and a job runner of another test may still be polling this
    session's shared catalog — it once took a lapsed lease here before the test's own claim)."""
    columns.setdefault("store", "store-a")
    columns.setdefault("spool", "spool-a")
    with catalog.session() as session:
        return JobRepo(session, ADMIN, "report").create(member_id, {"n": 1}, **columns).id


def member(catalog: Catalog) -> int:
    with catalog.session() as session:
        return MemberRepo(session, ADMIN).create({"name": "Acme"}).id


def claim(catalog: Catalog, owner: str, lease: float = 30.0, cap: int = 1, **kw: Any) -> Any:
    kw.setdefault("spools", ("spool-a",))
    kw.setdefault("store", "store-a")
    return job_queue.claim(catalog, owner, lease, kinds=KINDS, member_cap=cap, **kw)


def row(catalog: Catalog, job_id: int) -> Job:
    with catalog.session() as session:
        found = session.get(Job, job_id)
        assert found is not None
        session.expunge(found)
        return found


def test_one_job_is_claimed_by_one_runner_of_many(catalog: Catalog) -> None:
    job_id = enqueue(catalog, member(catalog), store="store-a")
    won: list[str] = []
    start = threading.Barrier(6)

    def race(owner: str) -> None:
        start.wait()
        got = claim(catalog, owner)
        if got is not None:
            won.append(owner)

    threads = [threading.Thread(target=race, args=(f"runner-{n}",)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(won) == 1, won
    taken = row(catalog, job_id)
    assert (taken.status, taken.lease_owner, taken.attempts) == ("running", won[0], 1)


def test_a_lapsed_lease_lets_another_runner_take_over_and_fences_the_first(
    catalog: Catalog,
) -> None:
    job_id = enqueue(catalog, member(catalog))
    first = claim(catalog, "a", lease=1.0)
    assert first is not None and first.id == job_id
    assert claim(catalog, "b") is None  # held
    assert job_queue.renew(catalog, job_id, "a", 1.0)
    deadline = time.monotonic() + 10
    while (second := claim(catalog, "b")) is None:
        assert time.monotonic() < deadline, "the lapsed lease was never taken over"
        time.sleep(0.1)
    assert (second.id, second.attempts) == (job_id, 2)
    # the first runner can neither renew, nor write, nor end the job any more
    assert not job_queue.renew(catalog, job_id, "a", 30.0)
    assert not job_queue.write(catalog, job_id, "a", progress={"lines_read": 99})
    assert not job_queue.write(catalog, job_id, "a", status="done")
    assert job_queue.write(catalog, job_id, "b", status="done", progress={"lines_read": 5})
    ended = row(catalog, job_id)
    assert (ended.status, ended.progress, ended.lease_owner) == ("done", {"lines_read": 5}, "b")
    assert ended.finished_at is not None and ended.lease_until is None


def test_a_member_runs_at_most_its_cap_and_other_members_go_on(catalog: Catalog) -> None:
    acme, other = member(catalog), member(catalog)
    a1, a2, o1 = enqueue(catalog, acme), enqueue(catalog, acme), enqueue(catalog, other)
    assert claim(catalog, "r1").id == a1
    assert claim(catalog, "r2").id == o1  # acme's second waits; the other member's goes first
    assert claim(catalog, "r3") is None
    assert job_queue.write(catalog, a1, "r1", status="done")
    assert claim(catalog, "r3").id == a2
    with_cap_two = enqueue(catalog, other)
    assert claim(catalog, "r4", cap=2).id == with_cap_two


def test_a_handed_back_job_is_pending_and_counts_no_attempt(catalog: Catalog) -> None:
    job_id = enqueue(catalog, member(catalog))
    assert claim(catalog, "a").attempts == 1
    assert job_queue.release(catalog, job_id, "a")
    assert row(catalog, job_id).status == "pending"
    assert claim(catalog, "b").attempts == 1


def test_runners_take_only_jobs_of_their_store_and_upload_folder(catalog: Catalog) -> None:
    acme = member(catalog)
    elsewhere = enqueue(catalog, acme, store="store-b")
    other_folder = enqueue(catalog, acme, store="store-a", spool="spool-b")
    mine = enqueue(catalog, acme, store="store-a", spool="spool-a")
    assert claim(catalog, "a", cap=3).id == mine
    assert claim(catalog, "a", cap=3) is None
    assert claim(catalog, "b", cap=3, store="store-b").id == elsewhere
    assert claim(catalog, "c", cap=3, spools=("spool-b",)).id == other_folder


def test_a_backed_off_job_waits_then_resumes(catalog: Catalog) -> None:
    job_id = enqueue(catalog, member(catalog))
    assert claim(catalog, "a") is not None
    assert job_queue.back_off(catalog, job_id, "a", 0.5)
    assert claim(catalog, "b") is None
    deadline = time.monotonic() + 10
    while (again := claim(catalog, "b")) is None:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert again.id == job_id
