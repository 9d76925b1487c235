"""The pixel's latency while big reports run, on each profile store.

    .venv/bin/python bench/reports_vs_pixel.py [--rate 5000] [--duration 15] [--rounds 2]
                                               [--stores sqlite,redis] [--segments 1000]

For each store, two `segpixel serve` processes (granian, one worker each, as bench/pixel.py runs
them) on the same data folder and stores, `--segments` segments and a year of daily counters for
each (bench/report_fill.py). The first server's pixel is loaded at `--rate` req/s (bench/pixel.py's
calibrated rate: wrk with random pauses, pixel_mix.lua over 50 of the segments) for `--duration`
seconds in three phases, `--rounds` times:

- `alone`: nothing else runs — this run's baseline;
- `reports, same worker`: a client asks the pixel's own server, again and again, for the report
  of a year × every segment by day with daily uniques (POST /report → ready → download);
- `reports, other process`: the same reports, asked of the second server.

Prints the pixel's req/s and p50/p99 in each phase, the p99 against `alone`'s in the same round,
and how many reports ran and their median time; writes bench/results/reports-vs-pixel-<time>.json.
On Redis the servers' background rounds are held off (the bench runs none: a first, untimed
report keeps the past months' daily uniques).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report_fill import fill_redis, fill_sqlite
from reporting import REPORTS, admin, hold_background_round, make_catalog, run_report

from pixel import (
    HERE,
    ROOT,
    clear_redis,
    free_port,
    granian,
    init_segpixel,
    stop,
    wait_up,
    wrk,
    wrk_at_rate,
)

PHASES = ("alone", "reports, same worker", "reports, other process")
PIXEL_SEGMENTS = 50


class ReportLoop(threading.Thread):
    """Asks `base` for `report` again and again until stopped; the time of each."""

    def __init__(self, base: str, report: dict):
        super().__init__(daemon=True)
        self.base, self.report = base, report
        self.seconds: list[float] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        client = admin(self.base)
        try:
            while not self.stopping.is_set():
                started = time.perf_counter()
                run_report(client, self.report)
                self.seconds.append(time.perf_counter() - started)
        finally:
            client.close()

    def finish(self) -> None:
        self.stopping.set()
        self.join()


def run_store(store: str, args: argparse.Namespace, workdir: Path) -> list[dict]:
    data_dir, prefix = workdir / store, f"benchrvp{os.getpid()}:"
    env = init_segpixel(store, data_dir, prefix, args.redis_url)
    if store == "redis":
        hold_background_round(args.redis_url, prefix)
    ports = free_port(), free_port()
    servers = [granian("segpixel.app:create_app", port, 1, env, factory=True) for port in ports]
    pixel_base, other_base = (f"http://127.0.0.1:{port}" for port in ports)
    try:
        for base in (pixel_base, other_base):
            wait_up(f"{base}/health")
        client = admin(pixel_base)
        make_catalog(client, args.segments)
        today = datetime.now(UTC).date()
        ids = list(range(1, args.segments + 1))
        if store == "redis":
            fill_redis(args.redis_url, prefix, ids, args.days, today)
        else:
            fill_sqlite(data_dir / "profiles.db", ids, args.days, today)
        report = {
            "report_type": "segment_load",
            "columns": REPORTS["day rows, daily uniques"],
            "format": "csv",
            "start_date": (today - timedelta(days=args.days - 1)).isoformat(),
            "end_date": (today + timedelta(days=1)).isoformat(),
        }
        run_report(client, report)  # untimed: folds, and keeps Redis's past months
        client.close()
        wrk_env = {"SEGMENTS": ",".join(str(sid) for sid in ids[:PIXEL_SEGMENTS])}
        url = f"{pixel_base}/seg"
        wrk(url, 2, 16, wrk_env)  # warm-up
        rows = []
        for round_ in range(args.rounds):
            for phase in PHASES:
                loop = None
                if phase != "alone":
                    loop = ReportLoop(pixel_base if "same" in phase else other_base, report)
                    loop.start()
                load = wrk_at_rate(url, args.rate, args, wrk_env)
                if loop is not None:
                    loop.finish()
                seconds = loop.seconds if loop is not None else []
                median = round(statistics.median(seconds), 2) if seconds else None
                rows.append(
                    {
                        "round": round_ + 1,
                        "phase": phase,
                        "pixel_req_s": round(load.requests_per_s),
                        "p50_ms": load.p50_ms,
                        "p99_ms": load.p99_ms,
                        "errors": load.errors,
                        "reports": len(seconds),
                        "report_median_s": median,
                    }
                )
                print(json.dumps({"store": store, **rows[-1]}), flush=True)
        return rows
    finally:
        for server in servers:
            stop(server)
        if store == "redis":
            clear_redis(args.redis_url, prefix)


def table(results: dict[str, list[dict]]) -> None:
    print(
        f"\n{'store':7} {'round':>5}  {'phase':24} {'req/s':>6} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'p99 x alone':>11} {'reports':>7} {'median s':>8}"
    )
    for store, rows in results.items():
        alone = {}
        for row in rows:
            if row["phase"] == "alone":
                alone[row["round"]] = row["p99_ms"]
            ratio = row["p99_ms"] / alone[row["round"]] if alone[row["round"]] else 0.0
            median = row["report_median_s"] if row["report_median_s"] is not None else "-"
            print(
                f"{store:7} {row['round']:>5}  {row['phase']:24} {row['pixel_req_s']:>6} "
                f"{row['p50_ms']:>7.2f} {row['p99_ms']:>7.2f} {ratio:>11.2f} "
                f"{row['reports']:>7} {median:>8}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=5_000, help="pixel req/s (default 5000)")
    parser.add_argument("--duration", type=int, default=15, help="seconds a phase (default 15)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--segments", type=int, default=1_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--stores", default="sqlite,redis")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="segpixel-bench-rvp-"))
    results = {}
    try:
        for store in args.stores.split(","):
            results[store] = run_store(store, args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    table(results)
    out = HERE / "results" / f"reports-vs-pixel-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"results": results, "args": vars(args)}, indent=2))
    print(f"results written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
