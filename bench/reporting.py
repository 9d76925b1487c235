"""Batch upload and segment loads reports, on each profile store.

    .venv/bin/python bench/reporting.py [--lines 1000000] [--segments 1000] [--days 365]
                                        [--stores sqlite,redis] [--skip-batch] [--skip-report]

For each store, a `segpixel serve` (granian, one worker, as bench/pixel.py runs it, and a job
runner beside it, as `serve` starts one) on a fresh data folder with one member and `--segments`
segments, then:

1. batch upload: a file of `--lines` lines (`UID,CODE;CODE:60:VALUE`, 2–3 segments a user) is
   POSTed to /batch-segment as a streamed body, and the job polled until done — users/s, and the
   resident memory (RSS) of the job runner that runs it before, during (sampled every 0.2 s) and
   at the peak (and the peak of the worker that took the upload);
2. reports: a year of daily counters for every segment is written straight into the store's
   counters (bench/report_fill.py), then each report shape is asked over the API
   (POST /report → ready → download) and timed, a year × all segments each, twice: `seconds` is
   the first time those counters are read, `again_seconds` a later report over the same days.
   On Redis a past month's daily uniques are counted once and kept; every server counts them
   ahead, in a background round (edge/runtime.py: `RedisLoadStats.precount`, every ten minutes).
   The bench first times the day report with nothing counted ahead (a server's first minutes
   after an upgrade: `before_background_round`), forgets what it kept, then runs that round
   itself (the same method, so that it knows when it ends: `background_round`) and times the
   reports as a running server answers them.

Prints a table and writes bench/results/reporting-<time>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import httpx
import redis

from segpixel.stats.redis import RedisLoadStats, precount_lock_key

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report_fill import fill_redis, fill_sqlite

from pixel import (
    ADMIN_PASSWORD,
    HERE,
    ROOT,
    clear_redis,
    free_port,
    granian,
    init_segpixel,
    job_runner,
    stop,
    wait_up,
)

REPORTS = {
    "day rows, daily uniques": [
        "segment_id",
        "segment_name",
        "day",
        "total_loads",
        "daily_uniques",
    ],
    "month rows, uniques": ["segment_id", "month", "monthly_uniques", "avg_daily_uniques"],
    "totals by source": ["segment_id", "source", "total_loads"],
}


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def worker_pid(server: subprocess.Popen) -> int:
    """granian's worker process (its only child, with one worker)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise RuntimeError("granian started no worker")


def write_batch_file(path: Path, lines: int, segments: int) -> None:
    rnd = random.Random(5)
    with path.open("w") as out:  # written as it goes: the file is never in memory either
        for n in range(lines):
            codes = rnd.sample(range(segments), rnd.randint(2, 3))
            items = ";".join(f"seg{c}" for c in codes[:-1]) + f";seg{codes[-1]}:60:{n % 999 + 1}"
            out.write(f"{10**12 + n},{items}\n")


def admin(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=120)
    auth = {"auth": {"username": "admin", "password": ADMIN_PASSWORD}}
    client.headers["Authorization"] = client.post("/auth", json=auth).json()["response"]["token"]
    return client


def make_catalog(client: httpx.Client, segments: int) -> int:
    member = client.post("/member", json={"member": {"name": "Bench"}}).json()["response"]
    member_id = member["member"]["id"]
    for i in range(segments):
        body = {"segment": {"short_name": f"Segment {i}", "code": f"seg{i}"}}
        client.post(f"/segment?member_id={member_id}", json=body).raise_for_status()
    time.sleep(1.5)  # the worker's catalog snapshot picks them up within a second
    return member_id


class Sampler(threading.Thread):
    """The worker's RSS every 50 ms, the upload included (the polls only see the job's run)."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.running = pid, 0.0, True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, rss_mib(self.pid))
            time.sleep(0.05)


def bench_batch(
    client: httpx.Client, pid: int, path: Path, member_id: int, worker: int | None = None
) -> dict:
    """`pid`: the job runner's (it parses and writes), `worker`: the worker's (it spools)."""
    before = rss_mib(pid)
    sampler = Sampler(pid)
    sampler.start()
    worker_sampler = Sampler(worker) if worker is not None else None
    if worker_sampler is not None:
        worker_sampler.start()
    started = time.perf_counter()
    with path.open("rb") as body:
        response = client.post(f"/batch-segment?member_id={member_id}", content=body)
    job_id = response.json()["response"]["batch-segment"]["id"]
    uploaded = time.perf_counter() - started
    samples: list[tuple[int, float]] = []
    while True:
        job = client.get(f"/batch-segment?id={job_id}").json()["response"]["batch-segment"]
        samples.append((job["lines_read"], rss_mib(pid)))
        if job["status"] in ("done", "error"):
            break
        time.sleep(0.2)
    elapsed = time.perf_counter() - started
    sampler.running = False
    sampler.join()
    if worker_sampler is not None:
        worker_sampler.running = False
        worker_sampler.join()
    # RSS as the job went: memory must stay flat from the first lines to the last
    shown = sorted(
        {0, len(samples) // 4, len(samples) // 2, 3 * len(samples) // 4, len(samples) - 1}
    )
    return {
        "lines": job["lines_read"],
        "status": job["status"],
        "users_updated": job["users_updated"],
        "rejected_lines": job["rejected_lines"],
        "file_mib": round(path.stat().st_size / 2**20, 1),
        "upload_s": round(uploaded, 2),
        "total_s": round(elapsed, 2),
        "users_per_s": round(job["users_updated"] / elapsed),
        "rss_before_mib": round(before, 1),
        "rss_peak_mib": round(sampler.peak, 1),
        "rss_mib_at_lines_read": {samples[i][0]: round(samples[i][1], 1) for i in shown},
        **(
            {"worker_rss_peak_mib": round(worker_sampler.peak, 1)}
            if worker_sampler is not None
            else {}
        ),
    }


def bench_reports(
    client: httpx.Client, today_start: str, end: str, ahead: Callable[[], dict] | None
) -> dict:
    # Untimed first: a report folds the load log before it reads, and right after a batch
    # upload that log holds a million loads; the timed reports measure reading a year.
    started = time.perf_counter()
    run_report(
        client,
        {"report_type": "segment_load", "columns": ["total_loads"], "report_interval": "today"},
    )
    out: dict = {"fold backlog (untimed warm-up)": round(time.perf_counter() - started, 3)}

    def year_report(columns: list[str]) -> dict:
        report = {"report_type": "segment_load", "columns": columns, "format": "csv"}
        return {**report, "start_date": today_start, "end_date": end}

    if ahead is not None:  # (Redis)
        started = time.perf_counter()
        run_report(client, year_report(REPORTS["day rows, daily uniques"]))
        out["before_background_round"] = round(time.perf_counter() - started, 3)
        out["background_round"] = ahead()
    for name, columns in REPORTS.items():
        report = year_report(columns)
        seconds = []
        for _ in range(2):  # the first read of these counters, then a later one
            started = time.perf_counter()
            body = run_report(client, report)
            seconds.append(round(time.perf_counter() - started, 3))
        out[name] = {
            "seconds": seconds[0],
            "again_seconds": seconds[1],
            "rows": body.count(b"\n") - 1,
            "mib": round(len(body) / 2**20, 1),
        }
    return out


def hold_background_round(url: str, prefix: str) -> None:
    """Take the round's lock for an hour: the server's own rounds skip, none lands in a timing."""
    client = redis.Redis.from_url(url)
    client.set(precount_lock_key(prefix), "bench", ex=3600)
    client.close()


def count_ahead(url: str, prefix: str, segment_ids: list[int]) -> dict:
    """Forget the daily uniques a report kept, then run a server's background round over
    every segment (what edge/runtime.py runs every ten minutes), timed."""
    client = redis.Redis.from_url(url)
    kept = list(client.scan_iter(match=f"{prefix}l{{*}}:u:*", count=10_000))
    for at in range(0, len(kept), 1_000):
        client.delete(*kept[at : at + 1_000])
    client.close()

    async def round_() -> dict:
        stats = RedisLoadStats(url, prefix=prefix)
        await stats.open()
        try:
            started = time.perf_counter()
            months = await stats.precount(segment_ids, time.time())
            seconds = round(time.perf_counter() - started, 3)
        finally:
            await stats.close()
        return {"seconds": seconds, "segment_months_counted": months, "forgotten": len(kept)}

    return asyncio.run(round_())


def run_report(client: httpx.Client, report: dict) -> bytes:
    """POST the report, poll until it is ready, download it."""
    report_id = client.post("/report", json={"report": report}).json()["response"]["report_id"]
    while client.get(f"/report?id={report_id}").json()["response"]["execution_status"] == (
        "pending"
    ):
        time.sleep(0.05)  # a client polls; 20 times a second is plenty
    return client.get(f"/report-download?id={report_id}").content


def run_store(store: str, args: argparse.Namespace, workdir: Path) -> dict:
    data_dir, prefix = workdir / store, f"benchrep{os.getpid()}:"
    env = init_segpixel(store, data_dir, prefix, args.redis_url)
    if store == "redis":  # the bench runs the servers' background round itself (count_ahead)
        hold_background_round(args.redis_url, prefix)
    port = free_port()
    server = granian("segpixel.app:create_app", port, 1, env, factory=True)
    runner = job_runner(env)
    base, result = f"http://127.0.0.1:{port}", {}
    try:
        wait_up(f"{base}/health")
        client = admin(base)
        member_id = make_catalog(client, args.segments)
        if not args.skip_batch:
            path = workdir / "batch.txt"
            if not path.exists():
                write_batch_file(path, args.lines, args.segments)
            result["batch"] = bench_batch(
                client, runner.pid, path, member_id, worker=worker_pid(server)
            )
        if not args.skip_report:
            today = datetime.now(UTC).date()
            ids = list(range(1, args.segments + 1))
            if store == "redis":
                fill_redis(args.redis_url, prefix, ids, args.days, today)
            else:
                fill_sqlite(data_dir / "profiles.db", ids, args.days, today)
            first = (today - timedelta(days=args.days - 1)).isoformat()
            end = (today + timedelta(days=1)).isoformat()
            ahead = None
            if store == "redis":
                ahead = partial(count_ahead, args.redis_url, prefix, ids)
            result["reports"] = bench_reports(client, first, end, ahead)
        client.close()
    finally:
        stop(runner)
        stop(server)
        if store == "redis":
            clear_redis(args.redis_url, prefix)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--segments", type=int, default=1_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--stores", default="sqlite,redis")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--skip-batch", action="store_true")
    parser.add_argument("--skip-report", action="store_true")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="segpixel-bench-reporting-"))
    results = {}
    try:
        for store in args.stores.split(","):
            results[store] = run_store(store, args, workdir)
            print(f"\n{store}:\n{json.dumps(results[store], indent=2)}", flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    out = HERE / "results" / f"reporting-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"results": results, "args": vars(args)}, indent=2))
    print(f"results written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
