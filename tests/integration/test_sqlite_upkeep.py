"""The SQLite profile store's upkeep beside the pixels (ISSUE 14): who folds the load log, and
RESTART checkpoints that never hold the pixels' writer for a reader they cannot outwait.

Real SQLite files; the fold's mark is read from the counters' file itself.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path

import pytest

from segpixel.domain.profile import Add, Mutation
from segpixel.profiles import sqlite_wal as wal
from segpixel.profiles.sqlite import SqliteProfileStore
from segpixel.stats.sqlite_log import counters_path

pytestmark = pytest.mark.asyncio(loop_scope="session")

NOW = int(time.time())


def folded_mark(profiles: Path) -> int:
    with closing(sqlite3.connect(counters_path(profiles))) as conn:
        return conn.execute("SELECT upto FROM fold_state").fetchone()[0]


async def fire(store: SqliteProfileStore, users: range) -> None:
    await store.apply([Mutation(10**12 + n, NOW, (Add(1, NOW + 3600),)) for n in users])


async def folded_within(profiles: Path, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if folded_mark(profiles) > 0:
            return True
        await asyncio.sleep(0.1)
    return False


@pytest.fixture
async def worker(tmp_path: Path) -> AsyncIterator[SqliteProfileStore]:
    """A pixel worker's store: it leaves the fold to a runner for 2 s."""
    made = SqliteProfileStore(tmp_path / "profiles.db", fold_takeover=2.0)
    await made.open()
    yield made
    await made.close()


async def test_a_worker_leaves_the_fold_to_the_runner(
    worker: SqliteProfileStore, tmp_path: Path
) -> None:
    runner = SqliteProfileStore(tmp_path / "profiles.db")  # the job runner's: folds every round
    await fire(worker, range(50))
    await asyncio.sleep(1.5)  # a worker's round or more, short of its takeover
    assert folded_mark(worker.path) == 0
    await runner.open()
    try:
        assert await folded_within(worker.path, 10)
    finally:
        await runner.close()


async def test_a_worker_folds_when_nobody_else_does(worker: SqliteProfileStore) -> None:
    await fire(worker, range(50))
    assert await folded_within(worker.path, 12)  # its takeover (2 s) and a round or two


async def test_a_store_without_takeover_folds_every_round(tmp_path: Path) -> None:
    store = SqliteProfileStore(tmp_path / "profiles.db")
    await store.open()
    try:
        await fire(store, range(50))
        assert await folded_within(store.path, 1.9)  # before any takeover of 2 s could
    finally:
        await store.close()


async def test_no_restart_while_a_reader_holds_an_older_snapshot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A RESTART waits for readers while it holds the write lock: with a reader on an older
    snapshot (a fold, a report) it would hold the pixels' writer for nothing. Once that reader
    is gone, the next round restarts the WAL."""
    monkeypatch.setattr(wal, "RESTART_BYTES", 64 << 10)
    path = tmp_path / "db.sqlite"
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode = WAL")
    writer.execute("PRAGMA wal_autocheckpoint = 0")
    writer.execute("PRAGMA journal_size_limit = 0")  # a WAL started over is cut to nothing
    writer.execute("CREATE TABLE t (x BLOB)")
    reader = sqlite3.connect(path, isolation_level=None)
    checkpointer = sqlite3.connect(path, isolation_level=None)
    statements: list[str] = []
    checkpointer.set_trace_callback(statements.append)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM t").fetchone()  # a snapshot before the writes
        for _ in range(100):
            writer.execute("INSERT INTO t VALUES (randomblob(4000))")
        held = wal.checkpoint(checkpointer, "main", 2000)
        assert held > wal.RESTART_BYTES
        assert not [s for s in statements if "RESTART" in s]

        reader.execute("COMMIT")
        wal.checkpoint(checkpointer, "main", 2000)
        assert [s for s in statements if "RESTART" in s]
        writer.execute("INSERT INTO t VALUES (1)")  # the next writer starts the WAL over
        assert wal.wal_bytes(path) < wal.RESTART_BYTES
    finally:
        for conn in (reader, writer, checkpointer):
            conn.close()
