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
from tests.support.processes import kill_tree

PIXELS = 3_000
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


@pytest.mark.parametrize("workers", [1, 2], ids=["1-worker", "2-workers"])
def test_a_replay_killed_midway_stores_every_acknowledged_add_exactly_once(
    tmp_path: Path, workers: int
) -> None:
    data = tmp_path / "segpixel"
    db = data / "profiles.db"
    started = time.time()
    server = ServerProcess(ENV, data, workers=workers)
    try:
        sid = make_segment(server)
        checks = loads_of(db, sid, started)  # the debug=1 calls above added users too
        with write_lock(db):
            shots = fire_all(server.base_url, sid)
            assert stored(db, sid) == (0, 0), "the store took writes through a held lock"
        print(f"\n{status_counts(shots)}")
        acknowledged = [s for s in shots if s.status == 200]
        assert len(acknowledged) == PIXELS, "every pixel is journaled and answered 200"
        journaled = sorted(p.stat().st_size for p in (data / "journal").glob("*.journal"))
        print(f"journals before the replay (bytes): {journaled}")

        # The lock is gone: the workers' probes find the store back and replay. Kill mid-way.
        wait_for(lambda: stored(db, sid)[0] >= PIXELS // 4, 60, "the replay to start", 0.002)
        kill_tree(server.proc.pid)
    finally:
        server.stop()
    at_kill = stored(db, sid)
    print(f"at the kill: {at_kill[0]} of {PIXELS} users stored, {at_kill[1]} adds")
    assert at_kill[0] < PIXELS, "the replay ended before the kill: nothing was tested"
    assert at_kill[0] == at_kill[1], "an add was applied twice before the kill already"

    server = ServerProcess(ENV, data, workers=workers)
    try:
        wait_for(lambda: stored(db, sid)[0] == PIXELS, 60, "the adopted journals' adds")
        wait_for(lambda: loads_of(db, sid, started) >= PIXELS + checks, 10, "the loads")
        with contextlib.closing(sqlite3.connect(db)) as conn:
            counts = dict(conn.execute(MEMBERS, (sid, FIRST_UID, FIRST_UID + PIXELS - 1)))
        loads = loads_of(db, sid, started) - checks
        twice = {uid: n for uid, n in counts.items() if n != 1}
        print(f"after the restart: {len(counts)} users, {len(twice)} added twice; {loads} loads")
        assert not twice, f"{len(twice)} users were added twice, e.g. {list(twice.items())[:5]}"
        assert loads == PIXELS, f"{loads} loads for {PIXELS} acknowledged adds"
        wait_for(lambda: journals_drained(data / "journal"), 10, "the journals to be emptied")
    finally:
        server.stop()
    assert sorted(counts) == sorted(s.uid for s in acknowledged)
