"""Sustained load keeps each SQLite WAL bounded (issue 15 item 4; profiles/sqlite_wal.py).

`segpixel serve` on the embedded SQLite store takes 60 s of pixels from wrk flat out (new visitors
and returning cookies adding 1–3 segments, bench/pixel_mix.lua) while the test samples the size
of the profile file's and the load counters' WAL files ten times a second. Before the RESTART
checkpoints the profile WAL grew past 2.5 GB in such a minute (and filled disks); now each stays
under 256 MiB, and /metrics shows both sizes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ServerProcess
from tests.faults.conftest import accepted, wait_for
from tests.helpers import ApiClient
from tests.pixel.conftest import parse_metrics

LOAD_SECONDS = 60
BOUND = 256 << 20
MIX = Path(__file__).resolve().parents[2] / "bench" / "pixel_mix.lua"
WALS = {"profiles.db-wal": "profiles", "profiles-loads.db-wal": "loads"}


def test_sixty_seconds_of_sustained_load_keep_each_wal_under_256_mib(tmp_path: Path) -> None:
    if shutil.which("wrk") is None:
        pytest.fail("wrk is required: scripts/install-system-deps installs it", pytrace=False)
    data = tmp_path / "segpixel"
    server = ServerProcess({"SEGPIXEL_CATALOG_POLL_SECONDS": "0.2"}, data)
    peak = dict.fromkeys(WALS, 0)
    try:
        with httpx.Client(base_url=server.base_url, timeout=30) as http:
            api = ApiClient(http).login()
            member = api.make_member("Load")
            ids = [
                str(api.make_segment(f"member_id={member['id']}", f"S{i}")["id"]) for i in range(20)
            ]
        wait_for(lambda: accepted(server.base_url, int(ids[-1])), 5, "the segments")

        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                for name in WALS:
                    with contextlib.suppress(FileNotFoundError):  # not made yet
                        peak[name] = max(peak[name], (data / name).stat().st_size)
                time.sleep(0.1)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            wrk = subprocess.run(
                [
                    "wrk",
                    "-t1",
                    "-c64",
                    f"-d{LOAD_SECONDS}s",
                    "-s",
                    str(MIX),
                    f"{server.base_url}/seg",
                ],
                env={**os.environ, "SEGMENTS": ",".join(ids)},
                capture_output=True,
                text=True,
                timeout=LOAD_SECONDS + 60,
                check=True,
            ).stdout
        finally:
            done.set()
            sampler.join(timeout=5)
        metrics = parse_metrics(httpx.get(f"{server.base_url}/metrics", timeout=10).text)
    finally:
        server.stop()
    rate = next(line for line in wrk.splitlines() if line.startswith("Requests/sec"))
    print(f"\n{rate.strip()}; load average {os.getloadavg()}")
    print("peak WAL sizes (MiB):", {n: round(b / 2**20, 1) for n, b in peak.items()})
    gauges = {n: metrics[f"segpixel_sqlite_{label}_wal_bytes"] for n, label in WALS.items()}
    print("WAL gauges at the end (MiB):", {n: round(b / 2**20, 1) for n, b in gauges.items()})
    assert peak["profiles.db-wal"] > 0, "the load reached the profile store"
    for name, size in peak.items():
        assert size < BOUND, f"{name} grew to {size / 2**20:.0f} MiB"
    assert all(0 <= b < BOUND for b in gauges.values())
