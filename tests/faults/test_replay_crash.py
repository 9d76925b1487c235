"""A server killed while it replays its journal into SQLite: every acknowledged add is stored
exactly once (issue 15 item 1; DESIGN.md "What stored means, on every store"; SPEC §3.3).

`segpixel serve` runs on the embedded SQLite store with 1 and with 2 workers. The test holds the
profile file's write lock (another connection's `BEGIN IMMEDIATE`, as a stuck process would), so
the store cannot take writes: the pixels fired meanwhile, each from a new browser, are journaled
and answered 200. The lock is released; the workers replay their journals into SQLite; part-way
through, the test SIGKILLs the server and all its workers at once. A new server on the same data
folder adopts the dead workers' journals and finishes the replay. Then every acknowledged user is
in the segment exactly once (`count` 1) and the segment's loads equal the acknowledged adds: none
applied twice by the second replay, none lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from segpixel.domain.loads import utc_day
from segpixel.stats.sqlite import SqliteLoadStats
from tests.conftest import ServerProcess
from tests.faults.conftest import Shot, accepted, status_counts, wait_for
from tests.helpers import ApiClient
from tests.support.pixel_shots import fire as fire_pixel
from tests.support.processes import alive, descendants, kill_tree

PIXELS = 3_000
STOP_TIMEOUT_S = 10.0  # SEGPIXEL_STOP_TIMEOUT_S, its default
THREADS = 8
FIRST_UID = 5_000_000_000_000
ENV = {
    # A lock wait gives up after 60 ms (0.6 × the store timeout): pixels are journaled quickly.
    "SEGPIXEL_STORE_TIMEOUT_MS": "100",
    "SEGPIXEL_CATALOG_POLL_SECONDS": "0.1",
    # One record a pixel: a long replay, so that the kill lands in the middle of it.
    "SEGPIXEL_WRITE_MAX_BATCH": "1",
}


@contextlib.contextmanager
def write_lock(db: Path) -> Iterator[None]:
    """Hold the SQLite file's write lock, as another process stuck in a transaction would."""
    conn = sqlite3.connect(db, isolation_level=None, timeout=10)
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield
        conn.execute("ROLLBACK")
    finally:
        conn.close()


MEMBERS = "SELECT uid, count FROM memberships WHERE segment_id = ? AND uid BETWEEN ? AND ?"


def stored(db: Path, segment_id: int) -> tuple[int, int]:
    """(the test's users in the segment, the sum of their add counts) as the file holds them."""
    with contextlib.closing(sqlite3.connect(db, timeout=10)) as conn:
        members, adds = conn.execute(
            f"SELECT count(*), coalesce(sum(count), 0) FROM ({MEMBERS})",
            (segment_id, FIRST_UID, FIRST_UID + PIXELS - 1),
        ).fetchone()
    return members, adds


def journals_drained(folder: Path) -> bool:
    """No journal holds a record: adopted ones are removed once replayed, own ones emptied."""
    return all(p.stat().st_size == 0 for p in folder.glob("*.journal"))


def fire_all(base_url: str, segment_id: int) -> list[Shot]:
    shots = [Shot(FIRST_UID + i, "store locked") for i in range(PIXELS)]
    local = threading.local()
    clients: list[httpx.Client] = []
    lock = threading.Lock()

    def fire(shot: Shot) -> None:
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = httpx.Client(base_url=base_url, timeout=30)
            with lock:
                clients.append(client)
        fire_pixel(client, segment_id, shot)

    try:
        with ThreadPoolExecutor(THREADS) as pool:
            list(pool.map(fire, shots))
    finally:
        for client in clients:
            client.close()
    return shots


def loads_of(db: Path, segment_id: int, since: float) -> int:
    async def read() -> int:
        stats = SqliteLoadStats(db)
        await stats.open()
        try:
            facts = await stats.facts([segment_id], utc_day(since), utc_day(time.time()))
        finally:
            await stats.close()
        return int(sum(facts.loads.values()))

    return asyncio.run(read())


def make_segment(server: ServerProcess) -> int:
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        api = ApiClient(http).login()
        member = api.make_member("Replay")
        sid = api.make_segment(f"member_id={member['id']}", "Once")["id"]
    # Every worker must know it: ask until a run of answers (from any worker) all accept it.
    wait_for(
        lambda: all(accepted(server.base_url, sid) for _ in range(8)), 10, "the segment everywhere"
    )
    return sid


class Replaying:
    """A server whose workers are replaying journaled pixels into SQLite right now."""

    def __init__(self, data: Path, workers: int):
        self.data, self.workers = data, workers
        self.db = data / "profiles.db"
        self.started = time.time()
        self.server = ServerProcess(ENV, data, workers=workers)
        try:
            self._journal_then_replay()
        except BaseException:
            self.server.stop()
            raise

    def _journal_then_replay(self) -> None:
        data = self.data
        self.sid = make_segment(self.server)
        self.checks = loads_of(self.db, self.sid, self.started)  # debug=1 calls add users too
        with write_lock(self.db):
            shots = fire_all(self.server.base_url, self.sid)
            assert stored(self.db, self.sid) == (0, 0), "the store took writes through a lock"
        print(f"\n{status_counts(shots)}")
        self.acknowledged = [s for s in shots if s.status == 200]
        assert len(self.acknowledged) == PIXELS, "every pixel is journaled and answered 200"
        journaled = sorted(p.stat().st_size for p in (data / "journal").glob("*.journal"))
        print(f"journals before the replay (bytes): {journaled}")
        # The lock is gone: the workers' probes find the store back and replay.
        wait_for(lambda: stored(self.db, self.sid)[0] >= PIXELS // 4, 60, "the replay", 0.002)

    def interrupted(self, how: str) -> None:
        at = stored(self.db, self.sid)
        print(f"at the {how}: {at[0]} of {PIXELS} users stored, {at[1]} adds")
        assert at[0] < PIXELS, f"the replay ended before the {how}: nothing was tested"
        assert at[0] == at[1], f"an add was applied twice before the {how} already"

    def restart_and_check(self) -> None:
        """A new server finishes the replay: every acknowledged add exactly once."""
        db, sid = self.db, self.sid
        server = ServerProcess(ENV, self.data, workers=self.workers)
        try:
            wait_for(lambda: stored(db, sid)[0] == PIXELS, 60, "the adopted journals' adds")
            expected = PIXELS + self.checks
            wait_for(lambda: loads_of(db, sid, self.started) >= expected, 10, "the loads")
            with contextlib.closing(sqlite3.connect(db)) as conn:
                counts = dict(conn.execute(MEMBERS, (sid, FIRST_UID, FIRST_UID + PIXELS - 1)))
            loads = loads_of(db, sid, self.started) - self.checks
            twice = {uid: n for uid, n in counts.items() if n != 1}
            print(
                f"after the restart: {len(counts)} users, {len(twice)} added twice, {loads} loads"
            )
            assert not twice, f"{len(twice)} users were added twice, e.g. {list(twice.items())[:5]}"
            assert loads == PIXELS, f"{loads} loads for {PIXELS} acknowledged adds"
            wait_for(lambda: journals_drained(self.data / "journal"), 10, "empty journals")
        finally:
            server.stop()
        assert sorted(counts) == sorted(s.uid for s in self.acknowledged)


@pytest.mark.parametrize("workers", [1, 2], ids=["1-worker", "2-workers"])
def test_a_replay_killed_midway_stores_every_acknowledged_add_exactly_once(
    tmp_path: Path, workers: int
) -> None:
    replaying = Replaying(tmp_path / "segpixel", workers)
    try:
        kill_tree(replaying.server.proc.pid)
    finally:
        replaying.server.stop()
    replaying.interrupted("kill")
    replaying.restart_and_check()


@pytest.mark.parametrize("workers", [1, 2], ids=["1-worker", "2-workers"])
def test_a_replay_stopped_midway_exits_within_the_stop_timeout_on_granian(
    tmp_path: Path, workers: int
) -> None:
    """SIGTERM while the workers replay: granian and its workers are gone within
    SEGPIXEL_STOP_TIMEOUT_S (10 s); the journals keep what was not replayed yet."""
    replaying = Replaying(tmp_path / "segpixel", workers)
    server = replaying.server
    tree = [server.proc.pid, *descendants(server.proc.pid)]
    try:
        sent = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        gone = wait_for(
            lambda: not any(alive(pid) for pid in tree) and time.monotonic(),
            STOP_TIMEOUT_S + 5,
            "the server and its workers to exit",
            0.01,
        )
    finally:
        server.stop()
    took = gone - sent
    print(f"exited {took:.2f} s after SIGTERM (exit status {server.proc.returncode})")
    assert took <= STOP_TIMEOUT_S, f"the stop took {took:.1f} s"
    replaying.interrupted("stop")
    replaying.restart_and_check()
