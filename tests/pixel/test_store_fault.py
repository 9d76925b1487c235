"""The profile store dies under load and comes back: no acknowledged add is lost (SPEC §3.3,
DESIGN.md "group commit").

A private redis-server (on a free port) backs a `segpixel serve` subprocess with a short store
timeout. Threads fire 2,000 pixels, each from a distinct browser (its own uuid2) adding one known
segment. Part-way through, the redis-server is SIGKILLed; pixels keep coming and must keep being
answered within a bounded time, while /health says the store is down and the journal holds the
writes. Then redis-server is started again on the same port, the journal drains to 0, and every add
that was answered 200 must be in Redis.

The private Redis runs with `--save ""` and an append-only file fsync'd on every write
(`--appendonly yes --appendfsync always`) in the test's temporary folder. Not `--appendonly no`:
a Redis without persistence forgets everything on SIGKILL, so adds it had stored before the crash
would be missing for reasons that are Redis's configuration, not segpixel's; with the AOF,
anything missing after the restart was lost by segpixel.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import redis

from segpixel.profiles.redis import RedisProfileStore
from tests.conftest import ServerProcess, free_port
from tests.helpers import ApiClient
from tests.support.pixel_shots import Shot
from tests.support.pixel_shots import fire as fire_pixel

REDIS_SERVER = "/usr/bin/redis-server"
PIXELS = 2_000
KILL_AFTER = 600  # answered pixels before the kill
GATE_AT = 1_400  # pixels from here on wait until Redis is back (some fire during the replay)
THREADS = 8
STORE_TIMEOUT_MS = 200
ANSWER_BOUND = 5.0  # seconds: every pixel, outage or not, is answered within this
FIRST_UID = 7_000_000_000_000


class PrivateRedis:
    """A redis-server of the test's own; with an append-only file fsync'd on every write, unless
    `aof=False` (a Redis that forgets everything when it dies)."""

    def __init__(self, directory: Path, aof: bool = True):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = directory
        self.aof = aof
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        aof = ("yes", "--appendfsync", "always") if self.aof else ("no",)
        self.proc = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", *aof,
                "--dir", str(self.dir),
                "--logfile", str(self.dir / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    if client.ping():
                        return
                except redis.RedisError:
                    pass
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    log = (self.dir / "redis.log").read_text(errors="replace")[-2000:]
                    pytest.fail(f"{REDIS_SERVER} did not start on port {self.port}:\n{log}")
                time.sleep(0.05)
        finally:
            client.close()

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def private_redis(tmp_path: Path):
    if not Path(REDIS_SERVER).exists():
        pytest.fail(f"{REDIS_SERVER} is required (apt-get install redis-server).", pytrace=False)
    made = PrivateRedis(tmp_path / "redis")
    made.start()
    yield made
    made.stop()


def health(base_url: str) -> dict:
    return httpx.get(f"{base_url}/health", timeout=5).json()


def wait_for(predicate, timeout: float, what: str, every: float = 0.05):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        time.sleep(every)


def test_every_acknowledged_add_survives_a_redis_crash(
    private_redis: PrivateRedis, tmp_path: Path
) -> None:
    server = ServerProcess(
        {
            "SEGPIXEL_CATALOG_URL": f"sqlite:///{tmp_path / 'catalog.db'}",
            "SEGPIXEL_PROFILE_URL": private_redis.url,
            "SEGPIXEL_REDIS_PREFIX": "fault:",
            "SEGPIXEL_STORE_TIMEOUT_MS": str(STORE_TIMEOUT_MS),
            "SEGPIXEL_CATALOG_POLL_SECONDS": "0.1",
        },
        tmp_path / "segpixel",
    )
    try:
        run_outage(server, private_redis)
    finally:
        server.stop()


def run_outage(server: ServerProcess, private_redis: PrivateRedis) -> None:
    base = server.base_url
    with httpx.Client(base_url=base, timeout=30) as http:
        api = ApiClient(http).login()
        member = api.make_member("Fault")
        segment = api.make_segment(f"member_id={member['id']}", "Crash", code="crash")
    sid = segment["id"]
    wait_for(
        lambda: any(
            it["accepted"]
            for it in httpx.get(f"{base}/seg?add={sid}&debug=1", timeout=5).json()["items"]
        ),
        5,
        "the segment in the pixel's catalog snapshot",
    )
    assert health(base)["profile_store"]["state"] == "up"

    shots = [Shot(FIRST_UID + i) for i in range(PIXELS)]
    answered = 0
    lock = threading.Lock()
    outage = threading.Event()
    redis_back = threading.Event()
    local = threading.local()
    clients: list[httpx.Client] = []

    def fire(i: int) -> None:
        nonlocal answered
        if i >= GATE_AT:
            redis_back.wait(timeout=120)
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = httpx.Client(base_url=base, timeout=30)
            with lock:
                clients.append(client)
        shot = shots[i]
        shot.phase = "after" if redis_back.is_set() else "outage" if outage.is_set() else "before"
        fire_pixel(client, sid, shot)
        with lock:
            answered += 1

    seen_down: dict = {}
    with ThreadPoolExecutor(THREADS) as pool:
        futures = [pool.submit(fire, i) for i in range(PIXELS)]
        wait_for(lambda: answered >= KILL_AFTER, 60, f"{KILL_AFTER} answered pixels", 0.002)
        private_redis.kill()
        outage.set()
        killed_at = time.monotonic()

        def down_with_journal() -> dict | None:
            h = health(base)
            return (
                h if h["profile_store"]["state"] == "down" and h["journal"]["depth"] > 0 else None
            )

        seen_down = wait_for(down_with_journal, 30, "/health to report the store down")
        wait_for(lambda: answered >= GATE_AT, 60, "the pixels of the outage")
        during = health(base)
        metrics = httpx.get(f"{base}/metrics", timeout=5).text
        print("\n/health when the outage was first seen:", json.dumps(seen_down))
        print("/health at the end of the outage:     ", json.dumps(during))
        print(
            "/metrics during the outage:",
            *[
                line
                for line in metrics.splitlines()
                if line.startswith(("segpixel_journal_depth", "segpixel_store_up"))
                or line.startswith("segpixel_write_mutations_total")
            ],
            sep="\n  ",
        )
        assert during["status"] == "degraded"
        assert during["profile_store"]["state"] == "down"
        assert during["journal"]["depth"] > 0

        private_redis.start()
        restarted_at = time.monotonic()
        redis_back.set()
        try:
            for future in futures:
                future.result()
        finally:
            for client in clients:
                client.close()

    drained = wait_for(
        lambda: (lambda h: h if h["journal"]["depth"] == 0 and h["status"] == "ok" else None)(
            health(base)
        ),
        60,
        "the journal to drain into the restarted Redis",
    )
    print(
        f"outage {restarted_at - killed_at:.2f} s; journal drained "
        f"{time.monotonic() - restarted_at:.2f} s after the restart: {json.dumps(drained)}"
    )

    # Every pixel was answered with a pixel, within the bound, outage or not.
    errors = [(i, s.error) for i, s in enumerate(shots) if s.error]
    assert not errors, f"{len(errors)} pixels got no answer, e.g. {errors[:3]}"
    slow = [(i, round(s.seconds, 2)) for i, s in enumerate(shots) if s.seconds > ANSWER_BOUND]
    assert not slow, f"{len(slow)} pixels took more than {ANSWER_BOUND} s: {slow[:5]}"
    statuses: dict[int | None, int] = {}
    for s in shots:
        statuses[s.status] = statuses.get(s.status, 0) + 1
    for phase in ("before", "outage", "after"):
        fired = [s for s in shots if s.phase == phase]
        slowest = max((s.seconds for s in fired), default=0.0)
        print(f"{phase:>6}: {len(fired)} pixels, slowest answer {slowest:.3f} s")
    print(f"answers: {statuses}")
    assert all(s.gif for s in shots if s.status == 200)
    assert sum(s.phase == "outage" for s in shots) >= (GATE_AT - KILL_AFTER) // 2

    acknowledged = [i for i, s in enumerate(shots) if s.status == 200]
    assert len(acknowledged) == PIXELS, f"not all pixels were acknowledged: {statuses}"
    profiles = asyncio.run(read_profiles(private_redis.url, acknowledged))
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
        f"{len(missing)} of {len(acknowledged)} acknowledged adds are not in Redis, "
        f"e.g. users {missing[:5]}"
    )


async def read_profiles(url: str, indices: list[int]):  # type: ignore[no-untyped-def]
    store = RedisProfileStore(url, prefix="fault:", timeout=5.0)
    await store.open()
    try:
        now = time.time()
        return [await store.read(FIRST_UID + i, now) for i in indices]
    finally:
        await store.close()


# -- a write the store applied but never confirmed -------------------------------------------------


class ReplyCutter:
    """A TCP proxy in front of Redis. While `cut` is set, requests still reach Redis (which applies
    them) but the connection is closed instead of the reply coming back: the store did the write,
    segpixel never hears so. While `slow` is set, replies come back late instead (a slow store)."""

    SLOW_SECONDS = 1.0

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.cut = threading.Event()
        self.slow = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        self._stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, True), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, replies: bool) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if replies and self.cut.is_set():
                    break  # Redis answered; segpixel never gets it
                if replies and self.slow.is_set():
                    time.sleep(self.SLOW_SECONDS)  # longer than the store timeout
                sink.sendall(data)
        except OSError:
            pass
        for s in (source, sink):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def stop(self) -> None:
        self._stopped = True
        self.listener.close()
        with self._lock:
            for s in self._open:
                with contextlib.suppress(OSError):
                    s.close()


@pytest.mark.parametrize("fault", ["reply-lost", "reply-late"])
def test_a_write_redis_applied_but_never_confirmed_is_not_applied_twice(
    private_redis: PrivateRedis, tmp_path: Path, fault: str
) -> None:
    """The group commit journals a batch whose pipeline failed or timed out — but Redis may have
    applied it (the connection broke after the write; or the answer was merely later than
    SEGPIXEL_STORE_TIMEOUT_MS). Replaying the journal then applies the add a second time: one
    pixel call counted as two adds (`count` 2), which §7's "fired N times" targeting reads as two
    fires."""
    proxy = ReplyCutter(private_redis.port)
    server = ServerProcess(
        {
            "SEGPIXEL_CATALOG_URL": f"sqlite:///{tmp_path / 'catalog.db'}",
            "SEGPIXEL_PROFILE_URL": proxy.url,
            "SEGPIXEL_REDIS_PREFIX": "cut:",
            "SEGPIXEL_STORE_TIMEOUT_MS": str(STORE_TIMEOUT_MS),
            "SEGPIXEL_CATALOG_POLL_SECONDS": "0.1",
        },
        tmp_path / "segpixel",
    )
    try:
        base = server.base_url
        with httpx.Client(base_url=base, timeout=30) as http:
            api = ApiClient(http).login()
            member = api.make_member("Cut")
            sid = api.make_segment(f"member_id={member['id']}", "Cut")["id"]
        wait_for(
            lambda: httpx.get(f"{base}/seg?add={sid}&debug=1", timeout=5).json()["items"][0][
                "accepted"
            ],
            5,
            "the segment in the snapshot",
        )
        uid = FIRST_UID + 1
        switch = proxy.cut if fault == "reply-lost" else proxy.slow
        switch.set()
        response = httpx.get(
            f"{base}/seg?add={sid}", headers={"Cookie": f"uuid2={uid}"}, timeout=10
        )
        assert response.status_code == 200  # acknowledged: it is in the journal
        assert health(base)["journal"]["depth"] == 1
        switch.clear()
        wait_for(lambda: health(base)["journal"]["depth"] == 0, 30, "the journal to drain")
        (profile,) = asyncio.run(read_profiles_with_prefix(private_redis.url, "cut:", [uid]))
        (m,) = [m for m in profile.memberships if m.segment_id == sid]
        assert m.count == 1, (
            f"one pixel call was applied {m.count} times ({fault}): Redis applied the batch, its "
            "reply was lost or late, the writer journaled the batch and replayed it into Redis "
            "again. Mutations need an idempotency key (e.g. a batch id remembered per user key) "
            "so that replaying a write the store already applied is a no-op."
        )
    finally:
        server.stop()
        proxy.stop()


async def read_profiles_with_prefix(url: str, prefix: str, uids: list[int]):  # type: ignore[no-untyped-def]
    store = RedisProfileStore(url, prefix=prefix, timeout=5.0)
    await store.open()
    try:
        return [await store.read(uid, time.time()) for uid in uids]
    finally:
        await store.close()
