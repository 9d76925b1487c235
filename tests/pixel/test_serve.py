"""The same pixel through `segpixel serve` (granian, the production server) in a subprocess, on
both profile stores: the robustness rows of SPEC §3.2/§3.3 depend on the HTTP server in front."""

from __future__ import annotations

import os
import secrets
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from tests.conftest import ServerProcess
from tests.helpers import ApiClient
from tests.pixel.conftest import REDIS_URL, RUN_PREFIX, assert_gif, delete_prefix
from tests.pixel.test_identity import cookie_attrs


@pytest.fixture(scope="module", params=["sqlite", "redis"])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ServerProcess, dict]]:
    root: Path = tmp_path_factory.mktemp(f"serve-{request.param}")
    env = {
        "SEGPIXEL_CATALOG_URL": f"sqlite:///{root / 'catalog.db'}",
        "SEGPIXEL_CATALOG_POLL_SECONDS": "0.1",
    }
    prefix = f"{RUN_PREFIX}serve:"
    if request.param == "redis":
        request.getfixturevalue("redis_client")  # fails with a sentence when Redis is down
        env |= {"SEGPIXEL_PROFILE_URL": REDIS_URL, "SEGPIXEL_REDIS_PREFIX": prefix}
    server = ServerProcess(env, root / "data")
    try:
        with httpx.Client(base_url=server.base_url, timeout=30) as http:
            api = ApiClient(http).login()
            member = api.make_member("Served")
            pb = f"https://pb-{secrets.token_hex(3)}.example/p.gif"
            plain = api.make_segment(f"member_id={member['id']}", "Plain")
            piggy = api.make_segment(
                f"member_id={member['id']}",
                "Piggy",
                piggyback_pixels=[{"url": pb, "pixel_type": "img"}],
            )
        ids = {
            "plain": plain["id"],
            "piggy": piggy["id"],
            "pb": pb,
            "member": member,
            "catalog": root / "catalog.db",
        }
        for _ in range(100):  # the last segment made is in the pixel's snapshot
            url = f"{server.base_url}/seg?add={piggy['id']}&debug=1"
            if httpx.get(url, timeout=5).json()["items"][0]["accepted"]:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the served pixel never saw the new segments")
        yield server, ids
    finally:
        server.stop()
        if request.param == "redis":
            client = redis.Redis.from_url(REDIS_URL)
            delete_prefix(client, prefix)
            client.close()


def test_served_pixel_robustness(served: tuple[ServerProcess, dict]) -> None:
    server, ids = served
    with httpx.Client(base_url=server.base_url, timeout=15, follow_redirects=False) as browser:
        response = browser.get(f"/seg?add={ids['plain']}")
        assert_gif(response)
        name, uid, attrs = cookie_attrs(response.headers["set-cookie"])
        assert name == "uuid2" and uid.isdigit()
        assert attrs["max-age"] == "15552000" and attrs["path"] == "/" and "httponly" in attrs
        assert browser.cookies.get("uuid2") == uid

        again = browser.get(f"/seg?add={ids['plain']}")
        assert cookie_attrs(again.headers["set-cookie"])[1] == uid

        hop = browser.get(f"/seg?add={ids['piggy']}")
        assert hop.status_code == 302 and hop.headers["location"] == ids["pb"]

        member = ids["member"]
        view = browser.get(f"/cookie?member_id={member['id']}&dongle={member['dongle']}").json()
        assert view["user_id"] == uid
        assert sorted(s["id"] for s in view["segments"]) == sorted([ids["plain"], ids["piggy"]])
        assert view["segments"][0]["count"] in (1, 2)

    secure = httpx.get(f"{server.base_url}/seg", headers={"X-Forwarded-Proto": "https"})
    _, _, attrs = cookie_attrs(secure.headers["set-cookie"])
    assert attrs["samesite"] == "None" and "secure" in attrs

    garbage = secrets.token_urlsafe(1536)[:2048].ljust(2048, "~")
    response = httpx.get(
        f"{server.base_url}/seg?add={ids['plain']}",
        headers={"Cookie": f"uuid2={garbage}"},
        timeout=15,
    )
    assert_gif(response)
    assert cookie_attrs(response.headers["set-cookie"])[1].isdigit()

    response = httpx.get(
        f"{server.base_url}/seg?add={ids['plain']}&junk={'x' * 16 * 1024}", timeout=15
    )
    assert_gif(response)

    health = httpx.get(f"{server.base_url}/health", timeout=5).json()
    assert health["status"] == "ok" and health["journal"]["depth"] == 0


def _cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def test_a_big_bad_batch_runs_in_the_job_runner_while_the_pixel_answers(
    served: tuple[ServerProcess, dict],
) -> None:
    """ISSUE 14: 20 MB of rejected lines are parsed by the job runner `serve` started, not by
    the worker that took the upload; a browser's pixels are answered all along."""
    server, ids = served
    line = b"not-a-user-id-at-all-0123456789abcdef,1:0:1\n"
    body = line * (20 * 2**20 // len(line))
    shots: list[tuple[int, str]] = []  # (status, the job's status seen just after)
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        api = ApiClient(http).login()
        worker = http.get("/health").json()["worker"]
        posted = api.request(
            "POST", "/batch-segment", content=body, headers={"content-type": "text/plain"}
        )
        assert posted.status_code == 200, posted.text
        job_id = posted.json()["response"]["batch-segment"]["id"]
        deadline = time.monotonic() + 240
        while True:
            pixel = http.get(f"/seg?add={ids['plain']}")
            job = api.ok("GET", f"/batch-segment?id={job_id}")["batch-segment"]
            shots.append((pixel.status_code, job["status"]))
            if job["status"] in ("done", "error"):
                break
            assert time.monotonic() < deadline, f"batch job still {job['status']}"
    assert job["status"] == "done", job
    assert job["rejected_lines"] == job["lines_read"] == len(body) // len(line)
    assert all(status == 200 for status, _ in shots), shots[:20]
    assert any(state == "running" for _, state in shots), "no pixel was answered mid-job"
    with sqlite3.connect(ids["catalog"]) as conn:
        (owner,) = conn.execute("SELECT lease_owner FROM jobs WHERE id = ?", (job_id,)).fetchone()
    runner_pid = int(owner.split(":")[1])
    assert runner_pid != worker
    assert "segpixel jobs" in _cmdline(runner_pid), _cmdline(runner_pid)


def test_a_second_server_on_a_port_in_use_refuses_to_start(
    served: tuple[ServerProcess, dict], tmp_path: Path
) -> None:
    server, _ = served
    env = {**os.environ, "SEGPIXEL_DATA_DIR": str(tmp_path), "SEGPIXEL_JOBS": "false"}
    done = subprocess.run(
        [sys.executable, "-m", "segpixel", "serve", "--port", str(server.port)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert f"port {server.port} is already in use" in done.stderr
    assert httpx.get(f"{server.base_url}/health", timeout=5).status_code == 200


def test_a_client_that_goes_away_mid_upload_leaves_no_job_and_one_info_line(
    served: tuple[ServerProcess, dict],
) -> None:
    """ISSUE 15 item 5: half a body, then the connection closes."""
    server, _ = served
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        api = ApiClient(http).login()
        before = api.ok("GET", "/batch-segment")["count"]
        token = api.token
    uploads = server.log.parent / "uploads"
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(
            b"POST /batch-segment HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
            + f"Authorization: {token}\r\nContent-Length: {10 << 20}\r\n\r\n".encode()
            + b"1,1\n" * (1 << 18)
        )
        time.sleep(0.5)  # the server is reading the body
    deadline = time.monotonic() + 20
    while "went away mid-upload" not in server.log.read_text():
        assert time.monotonic() < deadline, server.log.read_text()[-3000:]
        time.sleep(0.1)
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        assert ApiClient(http).login().ok("GET", "/batch-segment")["count"] == before
    assert not [p for p in uploads.glob("*") if p.name != ".spool-id"], list(uploads.glob("*"))
    text = server.log.read_text()
    assert text.count("went away mid-upload") == 1
    (line,) = [line for line in text.splitlines() if "went away mid-upload" in line]
    assert " INFO " in line
    assert "Traceback" not in text and "ClientDisconnect" not in text
