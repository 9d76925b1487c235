"""The write journal (profiles/journal.py) and its replay by the group-commit writer, on a real
SQLite store and real files: where a replay stopped survives the worker, a record replayed twice
is applied once, and the journal's files come and go as they should."""

from __future__ import annotations

import asyncio
import fcntl
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from segpixel.domain.loads import utc_day
from segpixel.domain.profile import Add, Mutation
from segpixel.metrics import Registry
from segpixel.profiles.base import BatchToken
from segpixel.profiles.journal import JournalFile, encode_batch, orphans
from segpixel.profiles.sqlite import SqliteProfileStore
from segpixel.profiles.writer import GroupCommitWriter
from segpixel.stats.sqlite import SqliteLoadStats

T0 = int(time.time())
SEGMENT = 41


def batch(n: int) -> list[Mutation]:
    """The n-th journaled batch: one new user added to SEGMENT."""
    return [Mutation(1_000 + n, T0, (Add(SEGMENT, T0 + 3600),))]


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteProfileStore]:
    made = SqliteProfileStore(tmp_path / "profiles.db")
    await made.open()
    yield made
    await made.close()


async def replayed(writer: GroupCommitWriter, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while writer.journal_depth:
        assert time.monotonic() < deadline, f"{writer.journal_depth} writes still journaled"
        await asyncio.sleep(0.01)


def test_a_new_journal_is_locked_before_it_has_its_name(tmp_path: Path) -> None:
    journal = JournalFile.create(tmp_path)
    try:
        assert journal.path.suffix == ".journal"
        assert JournalFile.adopt(journal.path) is None, "its writer holds it"
        assert orphans(tmp_path, journal.path) == []
        assert orphans(tmp_path, None) == [journal.path]
    finally:
        journal.close(remove=True)
    assert list(tmp_path.iterdir()) == []


def test_orphans_clears_what_dead_workers_left_half_done(tmp_path: Path) -> None:
    """A position whose journal is gone, and a journal a worker died making (never named)."""
    (tmp_path / "1-dead.journal.pos").write_bytes(b"x" * 12)
    (tmp_path / "2-dead.journal.new").write_bytes(b"")
    making = tmp_path / "3-live.journal.new"
    fd = os.open(making, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)  # a live worker making its journal right now
    try:
        assert orphans(tmp_path, None) == []
        assert sorted(p.name for p in tmp_path.iterdir()) == ["3-live.journal.new"]
    finally:
        os.close(fd)


def test_the_position_survives_the_worker_and_resets_with_the_journal(tmp_path: Path) -> None:
    journal = JournalFile.create(tmp_path)
    for n in range(3):
        journal.append(encode_batch(batch(n), BatchToken("w", n + 1)))
    offsets = [end for _, end in journal.records()]
    journal.save_position(offsets[1])
    journal.close(remove=False)  # the worker dies

    adopted = JournalFile.adopt(journal.path)
    assert adopted is not None
    assert adopted.position() == offsets[1]
    assert [end for _, end in adopted.records(adopted.position())] == [offsets[2]]
    adopted.clear()
    assert adopted.size() == 0 and adopted.position() == 0
    adopted.save_position(10**6)  # beyond the end: not to be believed
    assert adopted.position() == 0
    position_file = adopted.path.with_name(adopted.path.name + ".pos")
    position_file.write_bytes(position_file.read_bytes()[:8] + b"\0\0\0\0")  # torn / corrupt
    assert adopted.position() == 0
    adopted.close(remove=True)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.asyncio(loop_scope="session")
async def test_an_adopted_journal_goes_on_from_its_position_and_applies_each_batch_once(
    tmp_path: Path, store: SqliteProfileStore
) -> None:
    """A worker replayed batches 1–5 of its journal into the store and died after the store took
    batch 5 but before it saved the position past it. The worker that adopts the journal goes on
    from batch 5: the store skips it (its token), and 6–10 are applied; each user once."""
    folder = tmp_path / "journal"
    dead = JournalFile.create(folder)
    for n in range(1, 11):
        dead.append(encode_batch(batch(n), BatchToken("dead-worker", n)))
    offsets = [end for _, end in dead.records()]
    for n in range(1, 6):
        await store.apply(batch(n), BatchToken("dead-worker", n))
    dead.save_position(offsets[3])  # past batch 4 only
    dead.close(remove=False)

    writer = GroupCommitWriter(store, folder, Registry(), probe_interval=0.05)
    await writer.start()
    try:
        assert writer.journal_depth == 6, "batches 5–10 wait: 1–4 are behind the position"
        await replayed(writer)
    finally:
        await writer.stop()
    counts = [
        [m.count for m in (await store.read(1_000 + n, T0)).memberships] for n in range(1, 11)
    ]
    assert counts == [[1]] * 10
    stats = SqliteLoadStats(store.path)
    await stats.open()
    try:
        facts = await stats.facts([SEGMENT], utc_day(T0), utc_day(T0))
    finally:
        await stats.close()
    assert sum(facts.loads.values()) == 10
    assert list(folder.iterdir()) == [], "the replayed journal and its position are removed"
