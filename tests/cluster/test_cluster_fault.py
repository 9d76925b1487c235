"""A Redis Cluster master dies under load: its replica takes over, no acknowledged add is lost.

A private 3-master / 3-replica cluster (its own ports) backs a `segpixel serve` subprocess. Threads
fire 2,000 pixels, each from a distinct browser adding one known segment; after 600 answers one
master is SIGKILLed. Pixels must keep being answered (200) within a bound while /health (polled
all along) shows what the server saw. The killed node's replica is promoted; the killed node is
started again (as a supervisor would) and rejoins as the new master's replica. Until it has, that
master has no replica to acknowledge a WAIT, so writes go to the journal
(SEGPIXEL_REDIS_MIN_REPLICAS=1). Then the journal drains and every answered add must be in the
cluster.

The nodes keep nothing on disk: what the killed master had not replicated is gone with it. Only
the WAIT makes an answered pixel's write safe; so anything missing afterwards was lost by
segpixel, not by the test's Redis configuration.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from segpixel.profiles.redis_cluster import RedisClusterProfileStore
from tests.conftest import ServerProcess
from tests.helpers import ApiClient
from tests.support.pixel_shots import Shot
from tests.support.pixel_shots import fire as fire_pixel
from tests.support.redis_cluster import LocalCluster, free_base_port

PIXELS = 2_000
KILL_AFTER = 600
GATE_AT = 1_400  # from here on, pixels wait until the killed node is back as a replica
THREADS = 8
STORE_TIMEOUT_MS = 300
ANSWER_BOUND = 5.0
FIRST_UID = 8_000_000_000_000
PREFIX = "cfault:"


@dataclass
class HealthLog:
    """/health, polled every 100 ms from its own thread."""

    seen: list[tuple[float, str, str, int]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self, base: str, start: float) -> None:
        with httpx.Client(base_url=base, timeout=5) as http:
            while not self.stop.is_set():
                try:
                    h = http.get("/health").json()
                    row = (h["status"], h["profile_store"]["state"], h["journal"]["depth"])
                except (httpx.HTTPError, KeyError, ValueError) as exc:
                    row = ("unreachable", type(exc).__name__, -1)
                self.seen.append((round(time.monotonic() - start, 2), *row))
                time.sleep(0.1)

    def transitions(self) -> list[tuple[float, str, str, int]]:
        out: list[tuple[float, str, str, int]] = []
        for row in self.seen:
            if not out or out[-1][1:3] != row[1:3]:
                out.append(row)
        return out


@pytest.fixture
def private_cluster(tmp_path: Path):
    cluster = LocalCluster(tmp_path / "cluster", free_base_port())
    try:
        cluster.start()
    except (RuntimeError, OSError) as exc:
        cluster.stop()
        pytest.fail(f"the local Redis Cluster did not start: {exc}", pytrace=False)
    yield cluster
    cluster.stop()


def wait_for(predicate, timeout: float, what: str, every: float = 0.05):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        time.sleep(every)


def test_every_acknowledged_add_survives_a_master_kill(
    private_cluster: LocalCluster, tmp_path: Path
) -> None:
    url = f"redis+cluster://{private_cluster.startup_nodes}"
    server = ServerProcess(
        {
            "SEGPIXEL_CATALOG_URL": f"sqlite:///{tmp_path / 'catalog.db'}",
            "SEGPIXEL_PROFILE_URL": url,
            "SEGPIXEL_REDIS_PREFIX": PREFIX,
            "SEGPIXEL_STORE_TIMEOUT_MS": str(STORE_TIMEOUT_MS),
            "SEGPIXEL_CATALOG_POLL_SECONDS": "0.1",
        },
        tmp_path / "segpixel",
    )
    try:
        run_master_kill(server, private_cluster, url)
    finally:
        server.stop()


def run_master_kill(server: ServerProcess, cluster: LocalCluster, url: str) -> None:
    base = server.base_url
    with httpx.Client(base_url=base, timeout=30) as http:
        api = ApiClient(http).login()
        member = api.make_member("ClusterFault")
        segment = api.make_segment(f"member_id={member['id']}", "Kill", code="kill")
    sid = segment["id"]
    wait_for(
        lambda: any(
            it["accepted"]
            for it in httpx.get(f"{base}/seg?add={sid}&debug=1", timeout=5).json()["items"]
        ),
        5,
        "the segment in the pixel's catalog snapshot",
    )

    shots = [Shot(FIRST_UID + i) for i in range(PIXELS)]
    answered = 0
    lock = threading.Lock()
    killed = threading.Event()
    rejoined = threading.Event()
    local = threading.local()
    clients: list[httpx.Client] = []

    def fire(i: int) -> None:
        nonlocal answered
        if i >= GATE_AT:
            rejoined.wait(timeout=120)
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = httpx.Client(base_url=base, timeout=30)
            with lock:
                clients.append(client)
        shot = shots[i]
        shot.phase = "after" if rejoined.is_set() else "outage" if killed.is_set() else "before"
        fire_pixel(client, sid, shot)
        with lock:
            answered += 1

    start = time.monotonic()
    health = HealthLog()
    poller = threading.Thread(target=health.run, args=(base, start), daemon=True)
    poller.start()
    victim = cluster.masters()[0]
    try:
        with ThreadPoolExecutor(THREADS) as pool:
            futures = [pool.submit(fire, i) for i in range(PIXELS)]
            wait_for(lambda: answered >= KILL_AFTER, 60, f"{KILL_AFTER} answered pixels", 0.002)
            cluster.kill_node(victim)
            killed.set()
            killed_at = time.monotonic()
            # The replica takes over: 3 masters serve every slot again (2 replicas left).
            cluster.wait_failed_over(victim, timeout=30)
            promoted_at = time.monotonic()
            wait_for(lambda: answered >= GATE_AT, 60, "the pixels of the outage")
            cluster.start_node(victim)  # restarted: it rejoins as the new master's replica
            cluster.wait_ok(timeout=30, replicas=3)
            rejoined_at = time.monotonic()
            rejoined.set()
            try:
                for future in futures:
                    future.result()
            finally:
                for client in clients:
                    client.close()
        drained = wait_for(
            lambda: (lambda h: h if h["journal"]["depth"] == 0 and h["status"] == "ok" else None)(
                httpx.get(f"{base}/health", timeout=5).json()
            ),
            60,
            "the journal to drain into the cluster",
        )
        drained_at = time.monotonic()
    finally:
        health.stop.set()
        poller.join(timeout=5)

    depth_peak = max((row[3] for row in health.seen), default=0)
    print(f"\nmaster {victim} killed at {killed_at - start:.2f} s")
    print(f"replica promoted {promoted_at - killed_at:.2f} s after the kill")
    print(f"old master back as a replica {rejoined_at - killed_at:.2f} s after the kill")
    print(f"journal drained {drained_at - rejoined_at:.2f} s after that: {json.dumps(drained)}")
    print(f"journal depth peak (from /health): {depth_peak}")
    print("/health transitions (s, status, store, journal depth):")
    for row in health.transitions():
        print(f"  {row}")
    statuses: dict[int | None, int] = {}
    for s in shots:
        statuses[s.status] = statuses.get(s.status, 0) + 1
    for phase in ("before", "outage", "after"):
        fired = [s for s in shots if s.phase == phase]
        slowest = max((s.seconds for s in fired), default=0.0)
        print(f"{phase:>6}: {len(fired)} pixels, slowest answer {slowest:.3f} s")
    print(f"requests: {PIXELS}, answers: {statuses}")

    errors = [(i, s.error) for i, s in enumerate(shots) if s.error]
    assert not errors, f"{len(errors)} pixels got no answer, e.g. {errors[:3]}"
    slow = [(i, round(s.seconds, 2)) for i, s in enumerate(shots) if s.seconds > ANSWER_BOUND]
    assert not slow, f"{len(slow)} pixels took more than {ANSWER_BOUND} s: {slow[:5]}"
    assert all(s.gif for s in shots if s.status == 200)
    assert any(row[2] == "down" for row in health.seen), "/health never saw the store down"
    assert depth_peak > 0, "no write went to the journal: the kill was not felt"

    acknowledged = [i for i, s in enumerate(shots) if s.status == 200]
    assert len(acknowledged) == PIXELS, f"not all pixels were acknowledged: {statuses}"
    profiles = asyncio.run(read_profiles(url, acknowledged))
    missing = [
        FIRST_UID + i
        for i, profile in zip(acknowledged, profiles, strict=True)
        if sid not in {m.segment_id for m in profile.memberships}
    ]
    counts: dict[int, int] = {}
    for profile in profiles:
        for m in profile.memberships:
            if m.segment_id == sid:
                counts[m.count] = counts.get(m.count, 0) + 1
    print(f"memberships by add count (1 = applied once): {counts}")
    assert not missing, (
        f"{len(missing)} of {len(acknowledged)} acknowledged adds are not in the cluster, "
        f"e.g. users {missing[:5]}"
    )


async def read_profiles(url: str, indices: list[int]):  # type: ignore[no-untyped-def]
    store = RedisClusterProfileStore(url, prefix=PREFIX, timeout=5.0)
    await store.open()
    try:
        now = time.time()
        return [await store.read(FIRST_UID + i, now) for i in indices]
    finally:
        await store.close()
