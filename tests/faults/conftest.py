"""Fixtures for the fault tests: private PostgreSQL and Redis servers that a test may stop, kill and
restart without disturbing the machine's shared services (or another session's tests).

- `private_pg`: a PostgreSQL cluster made with initdb in a temporary folder, on a free port, run as
  the `postgres` system user when the tests run as root (PostgreSQL refuses to run as root).
- `private_redis`: tests.pixel.test_store_fault's fixture (an AOF-fsync'd redis-server on a free
  port).
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.conftest import free_port
from tests.pixel.test_store_fault import (  # noqa: F401 (fixture and helpers for this folder)
    PrivateRedis,
    health,
    private_redis,
    wait_for,
)
from tests.support.pixel_shots import Shot
from tests.support.pixel_shots import fire as fire_pixel


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


class PrivatePostgres:
    """initdb + pg_ctl on a free port; `stop()`/`start()` restart it like an operator would."""

    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.port = free_port()
        # Not pytest's tmp_path: the postgres user must be able to reach the folder.
        self.root = Path(tempfile.mkdtemp(prefix="segpixel-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.user = None
        if os.geteuid() == 0:
            self.user = "postgres"
            pw = pwd.getpwnam(self.user)
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 60) -> None:
        command = list(args)
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(args)} failed:\n{done.stdout}{done.stderr}\n{log}")

    def init(self) -> None:
        self._run(
            str(self.bindir / "initdb"),
            "-D", str(self.data),
            "-A", "trust",
            "-U", "postgres",
            "-E", "UTF8",
            "--no-sync",
        )  # fmt: skip

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c full_page_writes=off"
        )
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D", str(self.data),
            "-o", options,
            "-l", str(self.log),
            "-w", "-t", "30",
            "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def remove(self) -> None:
        if self.running():
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"


@pytest.fixture
def private_pg() -> Iterator[PrivatePostgres]:
    bindir = _pg_bin()
    if bindir is None:
        pytest.fail(
            "PostgreSQL server binaries are required (apt-get install postgresql): no "
            "/usr/lib/postgresql/*/bin/initdb",
            pytrace=False,
        )
    pg = PrivatePostgres(bindir)
    try:
        pg.init()
        pg.start()
        yield pg
    finally:
        pg.remove()


def accepted(base_url: str, segment_id: int) -> bool:
    """Does this server's pixel accept an add to the segment now? (debug=1 says per item)"""
    try:
        answer = httpx.get(f"{base_url}/seg?add={segment_id}&debug=1", timeout=5).json()
    except httpx.HTTPError:
        return False
    return bool(answer["items"] and answer["items"][0]["accepted"])


class PixelLoad:
    """Threads firing `/seg?add=SEGMENT` until stopped, each call from a new browser (its own
    uuid2), remembering every answer with the phase (`load.phase = "…"`) it was fired in."""

    def __init__(self, base_url: str, segment_id: int, first_uid: int, threads: int = 4):
        self.base_url = base_url
        self.segment_id = segment_id
        self.phase = "before"
        self.shots: list[Shot] = []
        self._next_uid = itertools.count(first_uid)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._fire, daemon=True) for _ in range(threads)]
        for t in self._threads:
            t.start()

    def _fire(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=30) as client:
            while not self._stop.is_set():
                shot = fire_pixel(client, self.segment_id, Shot(next(self._next_uid), self.phase))
                with self._lock:
                    self.shots.append(shot)

    def count(self, phase: str | None = None) -> int:
        with self._lock:
            return sum(1 for s in self.shots if phase is None or s.phase == phase)

    def stop(self) -> list[Shot]:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=60)
        return self.shots

    def summary(self) -> str:
        with self._lock:
            return status_counts(list(self.shots))


async def _read_memberships(url: str, prefix: str, uids: list[int]) -> dict[int, set[int]]:
    from segpixel.profiles.redis import RedisProfileStore

    store = RedisProfileStore(url, prefix=prefix, timeout=5.0)
    await store.open()
    try:
        now = time.time()
        out = {}
        for uid in uids:
            profile = await store.read(uid, now)
            out[uid] = {m.segment_id for m in profile.memberships} if profile else set()
        return out
    finally:
        await store.close()


def lacking(redis_url: str, prefix: str, uids: list[int], segment_id: int) -> list[int]:
    """The users (of `uids`) whose profile in Redis lacks the segment."""
    found = asyncio.run(_read_memberships(redis_url, prefix, uids))
    return [uid for uid in uids if segment_id not in found[uid]]


def missing_adds(redis_url: str, prefix: str, shots: list[Shot], segment_id: int) -> list[int]:
    """The users whose add was acknowledged (200) but whose profile lacks the segment."""
    return lacking(redis_url, prefix, [s.uid for s in shots if s.status == 200], segment_id)


def status_counts(shots: list[Shot]) -> str:
    """One line per phase: how many pixels, their statuses, the slowest answer."""
    lines = []
    for phase in dict.fromkeys(s.phase for s in shots):
        fired = [s for s in shots if s.phase == phase]
        statuses = dict(Counter(s.status for s in fired))
        slowest = max(s.seconds for s in fired)
        lines.append(f"{phase:>10}: {len(fired)} pixels, {statuses}, slowest {slowest:.3f} s")
    return "\n".join(lines)
