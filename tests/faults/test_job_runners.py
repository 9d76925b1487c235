"""Job runners (`segpixel jobs`) dying mid-job, on each profile store (ISSUE 14 item 1, 15 item 5).

A `segpixel serve` without a runner of its own takes the uploads; two `segpixel jobs` processes
run them, with a short lease and a pause between small batches so that a job lasts a few seconds.
While both runners live, the job is held by one (one attempt). Then the holder is SIGKILLed right
after it saved a batch: the other takes the job over once the lease lapsed, resumes from the saved
batch and ends it once — the counters are exactly the file's lines, every user holds the segment
once (count 1), the loads are counted once each, and the upload is gone.
"""

from __future__ import annotations

import os
import secrets
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from segpixel.profiles.factory import make_profile_store
from tests.conftest import ServerProcess
from tests.faults.conftest import PrivateRedis, wait_for
from tests.helpers import ApiClient
from tests.pixel.jobs import report_rows

LINES = 3_000
LEASE_SECONDS = 3
FIRST_UID = 8_100_000_000_000


class Runner:
    """`segpixel jobs` in a subprocess, its output in a log file."""

    def __init__(self, env: dict[str, str], log: Path):
        self.log = log
        self._out = log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "segpixel", "jobs"],
            env={**os.environ, **env},
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._out.close()


@pytest.fixture(params=["sqlite", "redis"])
def deployment(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    data = tmp_path / "data"
    env = {
        "SEGPIXEL_CATALOG_URL": f"sqlite:///{tmp_path / 'catalog.db'}",
        "SEGPIXEL_DATA_DIR": str(data),
        "SEGPIXEL_REDIS_PREFIX": f"sptest-jobs:{secrets.token_hex(3)}:",
    }
    if request.param == "redis":
        redis_server = request.getfixturevalue("private_redis")
        assert isinstance(redis_server, PrivateRedis)
        env["SEGPIXEL_PROFILE_URL"] = redis_server.url
    else:
        env["SEGPIXEL_PROFILE_URL"] = f"sqlite:///{data / 'profiles.db'}"
    server = ServerProcess({**env, "SEGPIXEL_JOBS": "false"}, data)
    runner_env = {
        **env,
        "SEGPIXEL_JOB_LEASE_SECONDS": str(LEASE_SECONDS),
        "SEGPIXEL_JOB_POLL_SECONDS": "0.1",
        "SEGPIXEL_JOB_BATCH_LINES": "100",
        "SEGPIXEL_JOB_BATCH_PAUSE_MS": "150",
        "SEGPIXEL_JOB_NICE": "0",
    }
    runners: list[Runner] = []

    def start_runner() -> Runner:
        runner = Runner(runner_env, tmp_path / f"runner{len(runners)}.log")
        runners.append(runner)
        return runner

    try:
        yield {"server": server, "env": env, "start_runner": start_runner, "data": data}
    finally:
        for runner in runners:
            runner.stop()
        server.stop()


def job_row(catalog_url: str, job_id: int) -> dict[str, Any]:
    with sqlite3.connect(catalog_url.removeprefix("sqlite:///")) as conn:
        conn.row_factory = sqlite3.Row
        row = conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return dict(row)


def read_users(profile_url: str, prefix: str, uids: list[int]) -> list[Any]:
    import asyncio

    store = make_profile_store(profile_url, redis_prefix=prefix, timeout=5.0)

    async def read() -> list[Any]:
        await store.open()
        try:
            return [await store.read(uid, 0) for uid in uids]
        finally:
            await store.close()

    return asyncio.run(read())


def test_a_killed_runner_s_job_is_taken_over_after_its_lease_and_ends_once(
    deployment: dict[str, Any],
) -> None:
    server, env = deployment["server"], deployment["env"]
    runners = [deployment["start_runner"](), deployment["start_runner"]()]
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        api = ApiClient(http).login()
        member = api.make_member("Acme")
        segment = api.make_segment(f"member_id={member['id']}", "Batch", code="batch")
        sid = segment["id"]
        text = "".join(f"{FIRST_UID + n},{sid}:0:{n % 7 + 1}\n" for n in range(LINES))
        posted = api.request(
            "POST", "/batch-segment", content=text.encode(), headers={"content-type": "text/plain"}
        )
        assert posted.status_code == 200, posted.text
        job_id = posted.json()["response"]["batch-segment"]["id"]

        def job() -> dict[str, Any]:
            return api.ok("GET", f"/batch-segment?id={job_id}")["batch-segment"]

        wait_for(lambda: job()["users_updated"] >= 300, 60, "the job to get going")
        held = job_row(env["SEGPIXEL_CATALOG_URL"], job_id)
        assert held["attempts"] == 1, held  # both runners live: one holds it
        holder = next(r for r in runners if f":{r.pid}:" in held["lease_owner"])
        other = next(r for r in runners if r is not holder)
        before = job()["users_updated"]
        holder.kill()  # right after a saved batch: in the pause before the next one
        uploads = deployment["data"] / "uploads"
        assert list(uploads.glob("*.upload")), "the upload is kept for the job's resumption"

        done = wait_for(lambda: (j := job())["status"] in ("done", "error") and j, 90, "the end")
        assert done["status"] == "done", done
        assert (done["lines_read"], done["users_updated"], done["rejected_lines"]) == (
            LINES,
            LINES,
            0,
        )
        assert before < LINES, "the kill came before the end"
        ended = job_row(env["SEGPIXEL_CATALOG_URL"], job_id)
        assert ended["attempts"] == 2, ended
        assert f":{other.pid}:" in ended["lease_owner"], ended
        assert not list(uploads.glob("*.upload")), "the upload of an ended job is removed"

        uids = [FIRST_UID + n for n in range(0, LINES, 7)]
        profiles = read_users(env["SEGPIXEL_PROFILE_URL"], env["SEGPIXEL_REDIS_PREFIX"], uids)
        for uid, profile in zip(uids, profiles, strict=True):
            (membership,) = profile.memberships
            assert (membership.segment_id, membership.count) == (sid, 1), (uid, membership)
        rows = report_rows(
            api, columns=["segment_id", "total_loads"], report_interval="today", format="json"
        )
        assert rows == [{"segment_id": sid, "total_loads": LINES}]
