"""The catalog's PostgreSQL restarts under load (issue 7 item 4).

A private PostgreSQL (initdb in a temporary folder, free port) holds the catalog; a private
redis-server (AOF, fsync always) the profiles; `segpixel serve` polls the catalog only every 5 s so
that propagation after the restart has to come from the LISTEN connection reconnecting.

While PostgreSQL is stopped: pixels keep answering from the in-memory snapshot and their adds are
stored (Redis is up); the API answers 503 SYSTEM at once (never hangs); /health says the catalog and
the listener are down. After it is started again: the API works with the same token, the listener
reconnects, and a segment created then reaches the pixel within 5 s. Every acknowledged add is in
Redis at the end.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx

from tests.conftest import ServerProcess
from tests.faults.conftest import (
    PixelLoad,
    PrivatePostgres,
    PrivateRedis,
    accepted,
    health,
    missing_adds,
    wait_for,
)
from tests.helpers import ApiClient

PREFIX = "pgfault:"
ANSWER_BOUND = 5.0  # seconds: every pixel is answered within this, outage or not
API_BOUND = 10.0  # seconds: the API's error while the catalog is down comes at least this fast
OUTAGE_SECONDS = 3.0


def test_pixels_and_api_through_a_postgresql_restart(
    private_pg: PrivatePostgres, private_redis: PrivateRedis, tmp_path: Path
) -> None:
    server = ServerProcess(
        {
            "SEGPIXEL_CATALOG_URL": private_pg.create_database("segpixel"),
            "SEGPIXEL_PROFILE_URL": private_redis.url,
            "SEGPIXEL_REDIS_PREFIX": PREFIX,
            "SEGPIXEL_CATALOG_POLL_SECONDS": "5",
            "SEGPIXEL_STORE_TIMEOUT_MS": "200",
        },
        tmp_path / "segpixel",
    )
    load = None
    try:
        base = server.base_url
        http = httpx.Client(base_url=base, timeout=30)
        api = ApiClient(http).login()
        member = api.make_member("PG restart")
        sid = api.make_segment(f"member_id={member['id']}", "Before")["id"]
        wait_for(lambda: accepted(base, sid), 5, "the segment in the pixel's snapshot")
        wait_for(lambda: health(base)["catalog"]["listener"] == "listening", 10, "the listener")

        load = PixelLoad(base, sid, first_uid=8_000_000_000_000)
        wait_for(lambda: load.count() >= 200, 30, "200 pixels before the restart")

        # -- PostgreSQL goes away ------------------------------------------------------------
        load.phase = "outage"
        private_pg.stop("fast")
        stopped_at = time.monotonic()
        down = wait_for(
            lambda: (lambda h: h if h["catalog"]["state"] == "down" else None)(health(base)),
            10,
            "/health to report the catalog down",
        )
        started = time.monotonic()
        refused = api.get("/segment")
        api_seconds = time.monotonic() - started
        body = refused.json()["response"]
        print(f"\nGET /segment with the catalog down: {refused.status_code} in {api_seconds:.3f} s")
        print(f"  {json.dumps(body)} Retry-After={refused.headers.get('retry-after')}")
        assert refused.status_code == 503, refused.text
        assert body["error_id"] == "SYSTEM" and "unavailable" in body["error"]
        assert refused.headers.get("retry-after")
        assert api_seconds < API_BOUND
        login = http.post("/auth", json={"auth": {"username": "admin", "password": "x" * 12}})
        assert login.status_code == 503, login.text  # not a misleading 401
        time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - stopped_at)))
        during = health(base)
        print(f"/health when the outage was seen: {json.dumps(down)}")
        print(f"/health at the end of the outage: {json.dumps(during)}")
        assert during["catalog"]["state"] == "down"
        assert during["catalog"]["listener"] == "down"
        assert during["status"] == "degraded"
        assert accepted(base, sid), "the pixel must keep serving the last catalog snapshot"

        # -- PostgreSQL is back --------------------------------------------------------------
        private_pg.start()
        restarted_at = time.monotonic()
        load.phase = "after"
        back = wait_for(
            lambda: (
                lambda h: (
                    h
                    if h["catalog"]["state"] == "up" and h["catalog"]["listener"] == "listening"
                    else None
                )
            )(health(base)),
            20,
            "/health to report the catalog and its listener up",
        )
        reconnected = time.monotonic() - restarted_at
        print(f"outage {restarted_at - stopped_at:.2f} s; listener back {reconnected:.2f} s later")
        print(f"/health after the restart: {json.dumps(back)}")
        assert api.ok("GET", f"/segment?id={sid}")["segment"]["id"] == sid  # same token works

        created = time.monotonic()
        new_sid = api.make_segment(f"member_id={member['id']}", "After")["id"]
        while not accepted(base, new_sid):
            assert time.monotonic() - created < 5, "a segment made after the restart took > 5 s"
            time.sleep(0.02)
        print(
            f"segment created after the restart accepted by the pixel in "
            f"{time.monotonic() - created:.3f} s"
        )
        wait_for(lambda: load.count("after") >= 200, 30, "200 pixels after the restart")
        shots = load.stop()
        print(f"pixels:\n{load.summary()}")
        load = None
        http.close()
        errors = [s for s in shots if s.error]
        assert not errors, f"{len(errors)} pixels got no answer, e.g. {errors[:3]}"
        slow = [s for s in shots if s.seconds > ANSWER_BOUND]
        assert not slow, f"{len(slow)} pixels took more than {ANSWER_BOUND} s: {slow[:3]}"
        assert all(s.status == 200 and s.gif for s in shots), "every pixel is a stored add"
        assert sum(s.phase == "outage" for s in shots) >= 50, "too few pixels during the outage"
        missing = missing_adds(private_redis.url, PREFIX, shots, sid)
        assert not missing, f"{len(missing)} of {len(shots)} acknowledged adds are missing"
        print(f"acknowledged adds: {len(shots)}, missing after the restart: 0")
    finally:
        if load is not None:
            load.stop()
        server.stop()
