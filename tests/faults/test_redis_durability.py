"""segpixel says when its Redis cannot keep the promise of a 200 (issue 15 item 2; DESIGN.md "What
stored means, on every store").

A private redis-server with and without an append-only file backs `segpixel serve`:
- without AOF, /health's `profile_store.warnings`, the `segpixel_profile_store_warnings` gauge and
  the server's log say that a Redis crash loses acknowledged adds; with AOF (fsync always) none
  of them says anything;
- Redis is SIGKILLed and started again: without AOF it comes back empty, and once the writer finds
  it back /health says that Redis restarted empty; with AOF its data is back and the log says the
  restart kept it (no warning).
(The machine's shared Redis on 6379 is never reconfigured: these servers are the tests' own.)
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.conftest import ServerProcess
from tests.faults.conftest import PrivateRedis, accepted, health, wait_for
from tests.helpers import ApiClient
from tests.pixel.conftest import parse_metrics
from tests.support.pixel_shots import Shot
from tests.support.pixel_shots import fire as fire_pixel

NO_AOF = "Redis runs without an append-only file"
EMPTIED = "Redis restarted empty"
KEPT = "with its data"


@pytest.fixture(params=[True, False], ids=["aof", "no-aof"])
def redis_server(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    server = PrivateRedis(tmp_path / "redis", aof=request.param)
    server.start()
    yield server
    server.stop()


def serve(redis_server: PrivateRedis, tmp_path: Path) -> ServerProcess:
    return ServerProcess(
        {
            "SEGPIXEL_CATALOG_URL": f"sqlite:///{tmp_path / 'catalog.db'}",
            "SEGPIXEL_PROFILE_URL": redis_server.url,
            "SEGPIXEL_REDIS_PREFIX": "durable:",
            "SEGPIXEL_STORE_TIMEOUT_MS": "200",
            "SEGPIXEL_CATALOG_POLL_SECONDS": "0.1",
        },
        tmp_path / "segpixel",
    )


def test_health_metrics_and_log_say_whether_redis_keeps_acknowledged_adds(
    redis_server: PrivateRedis, tmp_path: Path
) -> None:
    server = serve(redis_server, tmp_path)
    try:
        warnings = health(server.base_url)["profile_store"]["warnings"]
        gauge = parse_metrics(httpx.get(f"{server.base_url}/metrics", timeout=5).text)[
            "segpixel_profile_store_warnings"
        ]
    finally:
        server.stop()
    log = server.log.read_text()
    print(f"\nAOF {redis_server.aof}: /health warnings {warnings}, gauge {gauge}")
    if redis_server.aof:
        assert warnings == [] and gauge == 0
        assert NO_AOF not in log
    else:
        assert len(warnings) == 1 and warnings[0].startswith(NO_AOF), warnings
        assert "a Redis crash loses every acknowledged add" in warnings[0]
        assert gauge == 1
        assert NO_AOF in log, log


def test_a_redis_that_restarted_empty_is_reported(
    redis_server: PrivateRedis, tmp_path: Path
) -> None:
    server = serve(redis_server, tmp_path)
    try:
        with httpx.Client(base_url=server.base_url, timeout=30) as http:
            api = ApiClient(http).login()
            member = api.make_member("Durable")
            sid = api.make_segment(f"member_id={member['id']}", "Kept")["id"]
            wait_for(lambda: accepted(server.base_url, sid), 5, "the segment in the snapshot")
            assert fire_pixel(http, sid, Shot(1)).status == 200

            redis_server.kill()
            assert fire_pixel(http, sid, Shot(2)).status == 200  # journaled: the store is down
            wait_for(
                lambda: health(server.base_url)["profile_store"]["state"] == "down",
                10,
                "the store seen down",
            )
            redis_server.start()
            expected = "restarted empty" if not redis_server.aof else "kept"

            def reported() -> dict | None:
                h = health(server.base_url)
                seen = any(w.startswith(EMPTIED) for w in h["profile_store"]["warnings"])
                said = KEPT in server.log.read_text()
                done = seen if expected == "restarted empty" else said
                return h if done and h["journal"]["depth"] == 0 else None

            after = wait_for(reported, 15, f"/health or the log to say Redis {expected}")
    finally:
        server.stop()
    warnings = after["profile_store"]["warnings"]
    print(f"\nAOF {redis_server.aof}: /health after the Redis restart: {warnings}")
    if redis_server.aof:
        assert warnings == []
    else:
        assert [w for w in warnings if w.startswith(EMPTIED)], warnings
        assert "the adds it had acknowledged before then are lost" in " ".join(warnings)
        assert EMPTIED in server.log.read_text()
