"""How long `scripts/serve` takes to answer /health: a start that installs, then restarts.

    .venv/bin/python bench/serve_restart.py [--restarts 3]

The first start runs with the install stamp removed (pip installs, as after a change of
pyproject.toml or setup.py); each restart finds the stamp and goes straight to `segpixel serve`.
Each run serves a fresh data folder on a free port of 127.0.0.1 and is stopped once /health
answers. Prints the seconds of each and the ratio of a restart to the installing start.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
STAMP = ROOT / ".venv" / ".segpixel-installed"
DEADLINE_S = 180


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_once() -> float:
    port = free_port()
    env = {**os.environ, "SEGPIXEL_ADMIN_PASSWORD": "bench-admin-password"}
    with tempfile.TemporaryDirectory() as data:
        began = time.monotonic()
        proc = subprocess.Popen(
            [str(ROOT / "scripts" / "serve"), "--port", str(port), "--data-dir", data],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            while time.monotonic() - began < DEADLINE_S:
                if proc.poll() is not None:
                    raise RuntimeError(f"scripts/serve exited with {proc.returncode}")
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                        return time.monotonic() - began
                except httpx.HTTPError:
                    pass
                time.sleep(0.05)
            raise RuntimeError(f"no /health answer in {DEADLINE_S} s")
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--restarts", type=int, default=3)
    args = parser.parse_args()
    STAMP.unlink(missing_ok=True)
    first = start_once()
    print(f"start with install: {first:.2f} s")
    for n in range(args.restarts):
        took = start_once()
        print(f"restart {n + 1}: {took:.2f} s ({took / first:.2f} × the installing start)")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
