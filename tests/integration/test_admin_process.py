"""ISSUE 14: the API, the console and /docs answered by the admin process `segpixel serve` starts
beside its pixel workers (segpixel.admin), over real HTTP: the pixel does not wait on it, the
client's address and scheme reach it (and a client cannot forge them), bodies stream both ways, it
is replaced when it dies and ends when serve is killed."""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ServerProcess
from tests.helpers import ApiClient

LIMIT = 5  # API requests a minute per client, on the server of the rate-limit test


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def admin_processes(server: ServerProcess) -> list[int]:
    """The admin process' main and its granian worker."""
    main = _admin_main(server)
    assert main is not None, "serve has no admin process"
    return [main, *_children(main)]


def _alive(pid: int) -> bool:
    state = Path(f"/proc/{pid}/stat")
    try:
        return state.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _eventually(check, seconds: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("admin-process")
    env = {
        "SEGPIXEL_CATALOG_URL": f"sqlite:///{root / 'catalog.db'}",
        "SEGPIXEL_TRUSTED_PROXIES": "10.0.0.0/8",  # not the tests' own 127.0.0.1
        "SEGPIXEL_MAX_BODY_BYTES": "65536",
    }
    server = ServerProcess(env, root / "data")
    yield server
    server.stop()


def test_the_api_is_the_admin_process_and_the_pixel_does_not_wait_on_it(
    server: ServerProcess,
) -> None:
    worker = httpx.get(f"{server.base_url}/health", timeout=5).json()["worker"]
    admin = admin_processes(server)
    assert worker not in admin
    assert len(admin) == 2, [_cmdline(p) for p in admin]
    for pid in admin:
        os.kill(pid, signal.SIGSTOP)
    try:
        for _ in range(20):  # the pixel answers while every admin process is frozen...
            pixel = httpx.get(f"{server.base_url}/seg?add=1", timeout=5)
            assert pixel.status_code == 200
        with pytest.raises(httpx.ReadTimeout):  # ...and the API, answered there, does not
            httpx.get(f"{server.base_url}/auth", timeout=1.5)
    finally:
        for pid in admin:
            os.kill(pid, signal.SIGCONT)
    answer = httpx.get(f"{server.base_url}/auth", timeout=10)
    assert answer.status_code == 401
    assert answer.json()["response"]["error_id"] == "NOAUTH"
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_the_clients_address_reaches_the_admin_process_and_cannot_be_forged(
    tmp_path: Path,
) -> None:
    """One counter for the whole server (the admin process'), keyed on the client's address as
    the worker saw it; a client's own X-Segpixel-* headers are dropped by the worker: had the
    forged peer (a trusted proxy) been believed, each call would count for another address."""
    env = {
        "SEGPIXEL_CATALOG_URL": f"sqlite:///{tmp_path / 'c.db'}",
        "SEGPIXEL_API_RATE_LIMIT": str(LIMIT),
        "SEGPIXEL_TRUSTED_PROXIES": "10.0.0.0/8",
    }
    server = ServerProcess(env, tmp_path)
    try:
        seen = []
        with httpx.Client(base_url=server.base_url, timeout=10) as http:
            for n in range(LIMIT + 3):
                forged = {
                    "X-Segpixel-Client": "10.1.2.3|4000",
                    "X-Forwarded-For": f"198.51.100.{n}",
                }
                seen.append(http.get("/auth", headers=forged).status_code)
            limited = http.get("/auth")
        # (ServerProcess' readiness calls took one or more of the first LIMIT)
        first = seen.index(429) if 429 in seen else len(seen)
        assert first < LIMIT and seen == [401] * first + [429] * (len(seen) - first), seen
        assert limited.status_code == 429
        assert limited.json()["response"]["error_code"] == "RATE_EXCEEDED"
        assert int(limited.headers["retry-after"]) >= 1
    finally:
        server.stop()


def test_a_forged_scheme_is_not_believed(server: ServerProcess) -> None:
    headers = {"X-Segpixel-Scheme": "https", "X-Forwarded-Proto": "https"}
    with httpx.Client(base_url=server.base_url, timeout=10) as http:
        moved = http.get("/console", headers=headers)
    assert moved.status_code in (301, 302, 307, 308), moved.text
    assert moved.headers["location"].startswith(("http://", "/")), moved.headers["location"]


def test_a_body_over_the_limit_is_refused_while_it_is_still_being_sent(
    server: ServerProcess,
) -> None:
    """The admin process answers 413 on Content-Length; the worker stops passing the body on
    and the client gets the answer, not a hang."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(
            b"POST /segment HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {8 << 20}\r\n\r\n".encode()
            + b"[" * 65536
        )
        head = sock.recv(4096)
    assert head.startswith(b"HTTP/1.1 413"), head[:200]
    assert b"SYNTAX" in head or b"content-length" in head.lower()


def test_a_chunked_upload_streams_through_to_the_job_runner(server: ServerProcess) -> None:
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        api = ApiClient(http).login()

        def body() -> Iterator[bytes]:  # no Content-Length: Transfer-Encoding chunked
            for _ in range(200):
                yield b"bad line\n" * 1000

        posted = api.request(
            "POST", "/batch-segment", content=body(), headers={"content-type": "text/plain"}
        )
        assert posted.status_code == 200, posted.text
        job_id = posted.json()["response"]["batch-segment"]["id"]

        def finished() -> bool:
            job = api.ok("GET", f"/batch-segment?id={job_id}")["batch-segment"]
            finished.job = job  # type: ignore[attr-defined]
            return job["status"] in ("done", "error")

        _eventually(finished, 120, "the chunked batch never finished")
    job = finished.job  # type: ignore[attr-defined]
    assert job["status"] == "done", job
    assert job["lines_read"] == job["rejected_lines"] == 200_000


def test_a_killed_admin_process_is_replaced(server: ServerProcess) -> None:
    main, worker = admin_processes(server)
    os.kill(main, signal.SIGKILL)
    # the supervisor starts another; meanwhile requests wait for it rather than fail
    answer = httpx.get(f"{server.base_url}/auth", timeout=30)
    assert answer.status_code == 401, answer.text
    _eventually(lambda: not _alive(worker), 30, "the dead admin process' worker lives on")
    _eventually(lambda: _admin_main(server) not in (None, main), 30, "no new admin process")
    assert httpx.get(f"{server.base_url}/auth", timeout=30).status_code == 401


def _admin_main(server: ServerProcess) -> int | None:
    found = [p for p in _children(server.proc.pid) if "segpixel.admin.process" in _cmdline(p)]
    return found[0] if found else None


def test_a_killed_serve_leaves_no_admin_process(tmp_path: Path) -> None:
    server = ServerProcess({"SEGPIXEL_CATALOG_URL": f"sqlite:///{tmp_path / 'c.db'}"}, tmp_path)
    worker = httpx.get(f"{server.base_url}/health", timeout=5).json()["worker"]
    try:
        admin = admin_processes(server)
        os.kill(server.proc.pid, signal.SIGKILL)
        server.proc.wait()
        _eventually(
            lambda: not any(_alive(p) for p in admin), 30, "an admin process outlived serve"
        )
    finally:
        server.stop()
        if _alive(worker):  # granian's own pixel worker, orphaned by the SIGKILL
            os.kill(worker, signal.SIGTERM)


def test_without_the_admin_process_the_worker_answers_the_api(tmp_path: Path) -> None:
    server = ServerProcess(
        {
            "SEGPIXEL_CATALOG_URL": f"sqlite:///{tmp_path / 'c.db'}",
            "SEGPIXEL_ADMIN_PROCESS": "false",
        },
        tmp_path,
    )
    try:
        assert not [p for p in _children(server.proc.pid) if "admin" in _cmdline(p)]
        with httpx.Client(base_url=server.base_url, timeout=10) as http:
            assert ApiClient(http).login().ok("GET", "/member")["count"] == 0
    finally:
        server.stop()


@pytest.mark.parametrize("upkeep", [True, False], ids=["pixel-worker", "admin-process"])
async def test_only_the_pixel_workers_keep_the_stores(tmp_path: Path, upkeep: bool) -> None:
    """The admin process' runtime (upkeep=False) runs no sweep, no counting ahead and no SQLite
    checkpoint rounds: niced, it would hold the profile file's write lock at a low priority,
    and the pixels' writer would wait behind it (bench/reports_vs_pixel.py)."""
    from segpixel.catalog.db import Catalog
    from segpixel.catalog.migrate import upgrade
    from segpixel.edge.runtime import EdgeRuntime
    from segpixel.profiles.sqlite import SqliteProfileStore
    from segpixel.settings import Settings

    settings = Settings(data_dir=tmp_path / "data").resolved()
    catalog = Catalog(settings.catalog_url or "")
    upgrade(catalog.engine)
    runtime = EdgeRuntime(settings, catalog, upkeep=upkeep)
    await runtime.start()
    try:
        assert isinstance(runtime.store, SqliteProfileStore)
        tasks = {task.get_name() for task in runtime._tasks}
        assert "metrics" in tasks  # its counters still reach /metrics
        assert ({"reclaim", "precount"} <= tasks) is upkeep
        assert ({"reclaim", "precount"} & tasks == set()) is not upkeep
        assert (runtime.store._checkpoints is not None) is upkeep
        assert (await runtime.read_profile(42)) is not None  # it reads all the same
    finally:
        await runtime.stop()
