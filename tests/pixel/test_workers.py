"""Several workers, one truth (SPEC §2: a catalog change reaches every pixel server in ≤ 5 s).

`segpixel serve --workers 2`: two processes, each with its own catalog snapshot, answer the same
port. A segment made through the API must be accepted by every worker within 5 seconds, and the
per-worker metrics must add up on /metrics whichever worker answers it.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.conftest import ServerProcess
from tests.helpers import ApiClient


def _accepted_by_all(base_url: str, segment_id: int, tries: int = 24) -> bool:
    """Ask on fresh connections (so the kernel spreads them over the workers)."""
    for _ in range(tries):
        with httpx.Client(timeout=5) as fresh:
            answer = fresh.get(f"{base_url}/seg?add={segment_id}&debug=1").json()
        if not answer["items"][0]["accepted"]:
            return False
    return True


def test_a_new_segment_reaches_every_worker_within_5_seconds(tmp_path: Path) -> None:
    server = ServerProcess(
        {"SEGPIXEL_CATALOG_URL": f"sqlite:///{tmp_path / 'catalog.db'}"},
        tmp_path / "data",
        workers=2,
    )
    try:
        with httpx.Client(base_url=server.base_url, timeout=30) as http:
            api = ApiClient(http).login()
            member = api.make_member("Workers")
            created = time.monotonic()
            segment = api.make_segment(f"member_id={member['id']}", "Everywhere")
        while not _accepted_by_all(server.base_url, segment["id"]):
            assert time.monotonic() - created < 5, "a worker still rejects the segment after 5 s"
            time.sleep(0.1)
        delay = time.monotonic() - created
        print(f"segment accepted by every worker {delay:.2f} s after it was created")
        assert delay <= 5

        pids = set()
        fires = []
        for _ in range(40):
            with httpx.Client(timeout=5) as fresh:
                fresh.get(f"{server.base_url}/seg?add={segment['id']}")
                health = fresh.get(f"{server.base_url}/health").json()
                pids.add(health.get("worker"))
        time.sleep(1.5)  # each worker publishes its counters once a second
        text = httpx.get(f"{server.base_url}/metrics", timeout=5).text
        for line in text.splitlines():
            if line.startswith('segpixel_pixel_fires_total{type="img"}'):
                fires.append(float(line.rsplit(" ", 1)[1]))
        assert len(pids) == 2, f"expected both workers to answer, saw {pids}"
        assert fires and fires[0] >= 40 + 24, f"/metrics does not sum the workers: {fires}"
    finally:
        server.stop()
