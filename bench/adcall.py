"""Ad-call and bidder-read throughput against a raw-ASGI baseline measured in the same run.

    .venv/bin/python bench/adcall.py [--duration 10] [--stores sqlite,redis] [--workers 1]

The baseline is bench/baseline_app.py (a GIF and a cookie, nothing else) loaded with each request
mix. Then, for each profile store, segpixel is served by granian with the same settings, given one
member's inventory (a placement), 50 pixel segments, a query-string segment per car (`car=ford` …,
one of them 0-minute) and 12 line items whose profiles target them (plus an untargeted fallback);
profiles are filled by a few seconds of segment pixels (bench/pixel_mix.lua). wrk then loads
(bench/adcall_mix.lua):

- `/ttj?id=P&size=300x250&car=…` — returning cookies from a pool, 30% new visitors: query-string
  adds, a profile read, line-item selection, the creative's script;
- `/user/segments?id=UID&member_id=M` with an API token — the bidder read (FastAPI, profile cache).

Prints req/s, p50 and p99 and the ratio to the baseline of the same mix, and writes
bench/results/adcall-<time>.json. The helpers (wrk, granian, ports) are bench/pixel.py's.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

# bench/ is run as scripts, not a package: bench/pixel.py imports as `pixel`
from pixel import (
    ADMIN_PASSWORD,
    HERE,
    ROOT,
    Load,
    clear_redis,
    free_port,
    granian,
    make_segments,
    stop,
    wait_up,
    wrk,
)

MIX = HERE / "adcall_mix.lua"
CARS = ("ford", "bmw", "audi", "fiat")
MODES = {"ttj": "/ttj", "segments": "/user/segments"}


@dataclass
class Result:
    server: str
    mode: str
    load: Load


def measure(name: str, base_url: str, mode: str, env: dict[str, str], args) -> Result:  # type: ignore[no-untyped-def]
    url = f"{base_url}{MODES[mode]}"
    env = {**env, "MODE": mode}
    wrk(url, 2, args.connections, env, script=MIX)  # warm-up
    return Result(name, mode, wrk(url, args.duration, args.connections, env, script=MIX))


def run_baseline(args) -> list[Result]:  # type: ignore[no-untyped-def]
    port = free_port()
    proc = granian("baseline_app:app", port, args.workers, {})
    try:
        wait_up(f"http://127.0.0.1:{port}/")
        base = f"http://127.0.0.1:{port}"
        return [measure("baseline (raw ASGI GIF)", base, mode, {}, args) for mode in MODES]
    finally:
        stop(proc)


def setup_ads(base: str, segment_ids: list[str]) -> dict[str, str]:
    """The placement, query-string segments, creatives and line items; the env for the mix."""
    with httpx.Client(base_url=base, timeout=10) as client:
        token = client.post(
            "/auth", json={"auth": {"username": "admin", "password": ADMIN_PASSWORD}}
        ).json()["response"]["token"]
        headers = {"Authorization": token}

        def post(path: str, key: str, **fields: object) -> dict:
            response = client.post(path, json={key: fields}, headers=headers)
            assert response.status_code == 200, response.text
            return response.json()["response"][key]

        member = int(
            client.get(f"/segment?id={segment_ids[0]}", headers=headers).json()["response"][
                "segment"
            ]["member_id"]
        )
        advertiser = post(f"/advertiser?member_id={member}", "advertiser", name="Bench cars")
        publisher = post(f"/publisher?member_id={member}", "publisher", name="Bench news")
        site = post(f"/site?publisher_id={publisher['id']}", "site", name="bench.example")
        placement = post(f"/placement?site_id={site['id']}", "placement", name="Top")
        car_segments = [
            post(
                f"/segment?member_id={member}",
                "segment",
                short_name=f"Car {car}",
                expire_minutes=0 if car == "fiat" else 1440,
                querystring_mapping={"param": "car", "values": [car]} if i == 0 else None,
                querystring_mapping_key_value={"qs_key": "car", "qs_value": car} if i else None,
            )["id"]
            for i, car in enumerate(CARS)
        ]
        for n in range(13):
            creative = post(
                f"/creative?advertiser_id={advertiser['id']}",
                "creative",
                name=f"Ad {n}",
                width=300,
                height=250,
                content=f'<a href="${{CLICK_URL}}">Ad {n}</a>',
                click_url="https://landing.example/",
            )
            targets = [
                {"id": car_segments[n % len(CARS)], "expire_minutes": 60},
                {"id": int(segment_ids[n]), "action": "exclude" if n % 3 == 0 else "include"},
            ]
            post(
                f"/line-item?advertiser_id={advertiser['id']}",
                "line-item",
                name=f"LI {n}",
                priority=1 if n == 12 else 2 + n % 10,
                creatives=[creative["id"]],
                profile=None if n == 12 else {"segment_targets": targets},
            )
    time.sleep(1.5)  # the catalog snapshot picks them up within a second
    return {"PLACEMENT": str(placement["id"]), "MEMBER": str(member), "TOKEN": token}


def run_segpixel(store: str, args, workdir: Path) -> list[Result]:  # type: ignore[no-untyped-def]
    prefix = f"benchad{os.getpid()}:"
    env = {
        "SEGPIXEL_DATA_DIR": str(workdir / store),
        "SEGPIXEL_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "SEGPIXEL_REDIS_PREFIX": prefix,
    }
    if store == "redis":
        env["SEGPIXEL_PROFILE_URL"] = args.redis_url
    subprocess.run(
        [sys.executable, "-m", "segpixel", "init"],
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )
    port = free_port()
    proc = granian("segpixel.app:create_app", port, args.workers, env, factory=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_up(f"{base}/health")
        segment_ids = make_segments(base)
        mix = setup_ads(base, segment_ids)
        # fill the returning users' profiles with pixel segments first
        wrk(f"{base}/seg", 3, args.connections, {"SEGMENTS": ",".join(segment_ids)})
        name = f"segpixel, {store} store"
        return [measure(name, base, mode, mix, args) for mode in MODES]
    finally:
        stop(proc)
        if store == "redis":
            clear_redis(args.redis_url, prefix)


def report(results: list[Result], args) -> None:  # type: ignore[no-untyped-def]
    baseline = {r.mode: r.load.requests_per_s for r in results if r.server.startswith("baseline")}
    print(
        f"\nsegpixel ad-call benchmark — {args.duration}s per phase, {args.connections} "
        f"connections, {args.workers} worker(s), wrk -t1, 127.0.0.1"
    )
    print(
        f"{'server':26} {'path':15} {'req/s':>9} {'ratio':>6} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'errors':>7}"
    )
    for r in results:
        load = r.load
        print(
            f"{r.server:26} {MODES[r.mode]:15} {load.requests_per_s:9.0f} "
            f"{load.requests_per_s / baseline[r.mode]:6.2f} {load.p50_ms:7.2f} "
            f"{load.p99_ms:7.2f} {load.errors:7d}"
        )
    out_dir = HERE / "results"
    out_dir.mkdir(exist_ok=True)
    path = out_dir / f"adcall-{time.strftime('%Y%m%d-%H%M%S')}.json"
    rows = [asdict(r) for r in results]
    path.write_text(json.dumps({"rows": rows, "args": vars(args)}, indent=2))
    print(f"results written to {path.relative_to(ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per load phase (max 60)")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--stores", default="sqlite,redis")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    args.duration = min(args.duration, 60)
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: scripts/install-system-deps installs it")
    workdir = Path(tempfile.mkdtemp(prefix="segpixel-bench-adcall-"))
    results = run_baseline(args)
    for store in args.stores.split(","):
        results += run_segpixel(store, args, workdir)
    shutil.rmtree(workdir, ignore_errors=True)
    report(results, args)


if __name__ == "__main__":
    main()
