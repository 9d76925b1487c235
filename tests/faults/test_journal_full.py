"""The disk journal fills up while the profile store is down (issue 7 item 4; DESIGN.md "group
commit").

A private redis-server (AOF, fsync always) is the profile store; `segpixel serve` runs with a tiny
journal (SEGPIXEL_JOURNAL_MAX_BYTES=16384). Redis is killed; pixels keep coming, each from a new
browser, and are journaled until the journal is full. From then on a pixel still answers at once
with the GIF — but with status 503, `Retry-After` and `X-Segpixel-Warning: not stored: the journal
is full`, because a 200 promises a stored add (SPEC §3.3) — and /health and /metrics say the journal
is full and count the lost writes. When Redis is back the journal drains, every add acknowledged
with 200 is in Redis (and the refused ones are not: the warning told the truth), and pixels store
again.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx

from tests.conftest import ServerProcess
from tests.faults.conftest import (
    PrivateRedis,
    Shot,
    accepted,
    health,
    lacking,
    missing_adds,
    status_counts,
    wait_for,
)
from tests.helpers import ApiClient
from tests.pixel.conftest import parse_metrics
from tests.support.pixel_shots import fire as fire_pixel

PREFIX = "jfull:"
JOURNAL_MAX_BYTES = 16_384
ANSWER_BOUND = 5.0
FIRST_UID = 9_000_000_000_000
AFTER_FULL = 25  # pixels fired once the journal is full


def _when(value, predicate):  # type: ignore[no-untyped-def]
    return value if predicate(value) else None


def _drained(h: dict) -> bool:
    return h["journal"]["depth"] == 0 and h["status"] == "ok"


def _fire(http: httpx.Client, sid: int, uid: int, phase: str) -> Shot:
    return fire_pixel(http, sid, Shot(uid, phase))


def test_a_full_journal_answers_pixels_honestly_and_loses_no_acknowledged_add(
    private_redis: PrivateRedis, tmp_path: Path
) -> None:
    server = ServerProcess(
        {
            "SEGPIXEL_CATALOG_URL": f"sqlite:///{tmp_path / 'catalog.db'}",
            "SEGPIXEL_PROFILE_URL": private_redis.url,
            "SEGPIXEL_REDIS_PREFIX": PREFIX,
            "SEGPIXEL_STORE_TIMEOUT_MS": "200",
            "SEGPIXEL_JOURNAL_MAX_BYTES": str(JOURNAL_MAX_BYTES),
            "SEGPIXEL_CATALOG_POLL_SECONDS": "0.1",
        },
        tmp_path / "segpixel",
    )
    base = server.base_url
    try:
        with httpx.Client(base_url=base, timeout=30) as http:
            api = ApiClient(http).login()
            member = api.make_member("Journal")
            sid = api.make_segment(f"member_id={member['id']}", "Full")["id"]
            wait_for(lambda: accepted(base, sid), 5, "the segment in the snapshot")
            uid = FIRST_UID
            shots = []
            for _ in range(20):
                shots.append(_fire(http, sid, uid := uid + 1, "store up"))

            private_redis.kill()
            while True:  # journal until it is full
                shot = _fire(http, sid, uid := uid + 1, "journaling")
                shots.append(shot)
                if shot.status != 200:
                    shot.phase = "full"
                    break
                assert len(shots) < 5_000, "the journal never filled"
            for _ in range(AFTER_FULL):
                shots.append(_fire(http, sid, uid := uid + 1, "full"))

            full = health(base)
            metrics = parse_metrics(http.get("/metrics").text)
            figures = {
                k: v
                for k, v in metrics.items()
                if k.startswith(("segpixel_journal", "segpixel_writes_lost", "segpixel_store_up"))
                or k.startswith("segpixel_write_mutations_total")
            }
            print(f"\n/health with the journal full: {json.dumps(full)}")
            print(f"/metrics with the journal full: {json.dumps(figures)}")
            refused = [s for s in shots if s.phase == "full"]
            print(
                f"a refused pixel: status {refused[0].status}, GIF {refused[0].gif}, "
                f"Retry-After {refused[0].retry_after}, X-Segpixel-Warning {refused[0].warning!r}"
            )
            assert full["journal"]["full"] is True
            assert full["profile_store"]["state"] == "down"
            assert full["status"] == "degraded"
            assert 0 < full["journal"]["bytes"] <= JOURNAL_MAX_BYTES
            journaled = sum(s.phase == "journaling" for s in shots)
            assert full["journal"]["depth"] == journaled
            assert metrics["segpixel_journal_full"] == 1
            assert metrics["segpixel_writes_lost_total"] == len(refused)
            assert metrics['segpixel_write_mutations_total{where="lost"}'] == len(refused)
            for s in refused:
                assert s.status == 503 and s.gif, s
                assert s.retry_after == "5" and "not stored: the journal is full" in s.warning, s

            private_redis.start()
            restarted = time.monotonic()
            drained = wait_for(
                lambda: _when(health(base), _drained),
                30,
                "the journal to drain into the restarted Redis",
            )
            print(
                f"journal drained {time.monotonic() - restarted:.2f} s after the restart: "
                f"{json.dumps(drained)}"
            )
            assert drained["journal"]["full"] is False
            for _ in range(20):
                shots.append(_fire(http, sid, uid := uid + 1, "store back"))

        print(status_counts(shots))
        assert all(s.gif for s in shots), "every answer is the pixel"
        slow = [s for s in shots if s.seconds > ANSWER_BOUND]
        assert not slow, f"{len(slow)} pixels took more than {ANSWER_BOUND} s"
        assert all(s.status == 200 for s in shots if s.phase != "full")
        missing = missing_adds(private_redis.url, PREFIX, shots, sid)
        acknowledged = sum(s.status == 200 for s in shots)
        print(
            f"acknowledged adds: {acknowledged} ({journaled} via the journal), missing: "
            f"{len(missing)}; refused (503): {len(refused)}"
        )
        assert not missing, f"{len(missing)} of {acknowledged} acknowledged adds are missing"
        # The 503s told the truth: those adds were not stored.
        lost = [s.uid for s in refused]
        assert lacking(private_redis.url, PREFIX, lost, sid) == lost
    finally:
        server.stop()
