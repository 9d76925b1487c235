"""The pixel's latency while tenants' admin work runs beside it, on each profile store.

    .venv/bin/python bench/reports_vs_pixel.py [--rate 5000] [--duration 15] [--rounds 2]
        [--stores sqlite,redis] [--segments 1000] [--phases alone,reports,bad-batch,...]
        [--bad-mib 200] [--good-lines 1000000] [--logins 16]

For each store, a `segpixel serve` as users run it — one granian worker, a job runner beside it
(`segpixel jobs`, niced: SEGPIXEL_JOB_NICE) and the admin process that answers the API and the
console (niced: SEGPIXEL_ADMIN_NICE) — on one data folder, `--segments` segments and a year
of daily counters for each (bench/report_fill.py). The pixel is loaded at `--rate` req/s
(bench/pixel.py's calibrated rate: wrk with random pauses, pixel_mix.lua over 50 of the segments)
for `--duration` seconds in each phase, `--rounds` times:

- `alone`: nothing else runs — this round's baseline;
- `reports`: a client asks, again and again, for the report of a year × every segment by day with
  daily uniques (POST /report → ready → download), made by the job runner;
- `bad-batch`: a client uploads `--bad-mib` MB of lines that are all rejected (the upload goes
  through the pixel's worker and the admin process to the upload folder; the runner parses it);
- `good-batch`: a client uploads `--good-lines` valid lines (2–3 segments a user) — the runner
  writes them to the same profile store the pixel writes to;
- `logins`: `--logins` clients log in to the console again and again (GET the form, POST it), with
  the login limits off so that every attempt is hashed (scrypt on the admin process' password pool).

A batch still running when its phase ends is waited for (untimed) before the next phase. Prints
the pixel's req/s, p50/p99 in each phase, the p99 against `alone`'s in the same round (the target:
at most 2×), what the admin work did meanwhile, and the load average; writes
bench/results/reports-vs-pixel-<time>.json. On Redis the servers' background rounds are held off
(a first, untimed report keeps the past months' daily uniques).

Levers (environment of the servers, passed through): SEGPIXEL_JOB_NICE, SEGPIXEL_JOB_BATCH_LINES,
SEGPIXEL_JOB_BATCH_PAUSE_MS, SEGPIXEL_JOB_WRITE_SHARE, SEGPIXEL_LOADS_FOLD_TAKEOVER_S,
SEGPIXEL_PASSWORD_THREADS, SEGPIXEL_PASSWORD_NICE, SEGPIXEL_ADMIN_PROCESS (false: the worker
answers the API and the console itself, as before), SEGPIXEL_ADMIN_NICE; `--runner-cpus` pins
the job runner to those CPUs (taskset). `--profile-dir DIR` samples the worker and the runner
with py-spy (when on PATH) in each phase, idle time included, as collapsed stacks: what the
pixel's loop waited behind.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report_fill import fill_redis, fill_sqlite
from reporting import (
    REPORTS,
    admin,
    hold_background_round,
    make_catalog,
    run_report,
    write_batch_file,
)

from pixel import (
    ADMIN_PASSWORD,
    HERE,
    ROOT,
    clear_redis,
    free_port,
    init_segpixel,
    stop,
    wait_up,
    wrk,
    wrk_at_rate,
)

PHASES = ("alone", "reports", "bad-batch", "good-batch", "logins")
PIXEL_SEGMENTS = 50


class Loop(threading.Thread):
    """Runs `work(client)` again and again until stopped; the time of each and what it said."""

    def __init__(self, base: str, work: Callable[[httpx.Client], str], clients: int = 1):
        super().__init__(daemon=True)
        self.base, self.work, self.clients = base, work, clients
        self.seconds: list[float] = []
        self.outcomes: dict[str, int] = {}
        self.stopping = threading.Event()
        self._lock = threading.Lock()

    def run(self) -> None:
        threads = [threading.Thread(target=self._one, daemon=True) for _ in range(self.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def _one(self) -> None:
        client = admin(self.base)
        try:
            while not self.stopping.is_set():
                started = time.perf_counter()
                outcome = self.work(client)
                with self._lock:
                    self.seconds.append(time.perf_counter() - started)
                    self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        finally:
            client.close()

    def finish(self) -> None:
        self.stopping.set()
        self.join()


def report_work(report: dict) -> Callable[[httpx.Client], str]:
    def work(client: httpx.Client) -> str:
        run_report(client, report)
        return "report"

    return work


def batch_work(path: Path, member_id: int) -> Callable[[httpx.Client], str]:
    """Upload the file and wait for its job to end (past the phase's end too: its work is done
    before the next phase starts)."""

    def work(client: httpx.Client) -> str:
        with path.open("rb") as body:
            response = client.post(
                f"/batch-segment?member_id={member_id}",
                content=body,
                headers={"content-type": "text/plain"},
            )
        job_id = response.json()["response"]["batch-segment"]["id"]
        while True:
            job = client.get(f"/batch-segment?id={job_id}").json()["response"]["batch-segment"]
            if job["status"] in ("done", "error"):
                return f"{job['status']}: {job['lines_read']} lines, {job['users_updated']} users"
            time.sleep(0.2)

    return work


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


_browsers = threading.local()


def login_work(client: httpx.Client) -> str:
    """One console login as a new browser (no cookies): the form (its CSRF cookie and token),
    then its POST. Each client thread keeps one httpx client and clears its cookies: a new
    httpx client costs ~20 ms of CPU (its TLS context), which on this machine would be taken
    from the pixel by the load generator, not by the server's work."""
    browser = getattr(_browsers, "client", None)
    if browser is None:
        browser = _browsers.client = httpx.Client(base_url=str(client.base_url), timeout=60)
    browser.cookies.clear()
    form = browser.get("/console/login")
    token = CSRF.search(form.text).group(1)
    answer = browser.post(
        "/console/login",
        data={"username": "admin", "password": ADMIN_PASSWORD, "csrf_token": token},
    )
    return str(answer.status_code)


def write_bad_file(path: Path, mib: int) -> None:
    """Lines of 44 bytes that are all rejected (no user id), `mib` MiB of them."""
    line = b"not-a-user-id-at-all-0123456789abcdef,1:0:1\n"
    block = line * ((1 << 20) // len(line) + 1)
    with path.open("wb") as out:
        written = 0
        while written < mib << 20:
            out.write(block)
            written += len(block)


def serve(env: dict[str, str], port: int) -> subprocess.Popen:
    """`segpixel serve` (one granian worker and a job runner beside it)."""
    command = [sys.executable, "-m", "segpixel", "serve", "--port", str(port), "--workers", "1"]
    return subprocess.Popen(
        command,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        cwd=HERE,
    )


def runner_pid(server: subprocess.Popen) -> int | None:
    """The job runner among serve's children (its command line names `segpixel jobs`)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for pid in Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split():
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"segpixel\x00jobs" in cmdline:
                return int(pid)
        time.sleep(0.1)
    return None


def worker_pids(server: subprocess.Popen) -> list[int]:
    """serve's pixel workers, and the admin process' worker: serve's children but the job
    runner and the admin process' own main."""
    pids = []
    for pid in Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split():
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"segpixel.admin.process" in cmdline:
            pids += [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        elif b"segpixel\x00jobs" not in cmdline:
            pids.append(int(pid))
    return pids


def profile(pid: int, seconds: int, out: Path) -> subprocess.Popen:
    """py-spy (when installed) samples a process for the phase: where its threads were, idle
    included, as collapsed stacks — what a pixel waited behind."""
    command = ["py-spy", "record", "-p", str(pid), "--idle", "--threads", "--nonblocking"]
    command += ["-r", "200", "-d", str(seconds), "-f", "raw", "-o", str(out)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def run_store(store: str, args: argparse.Namespace, workdir: Path) -> list[dict]:
    data_dir, prefix = workdir / store, f"benchrvp{os.getpid()}:"
    env = init_segpixel(store, data_dir, prefix, args.redis_url)
    env.update(
        {
            "SEGPIXEL_LOGIN_RATE_LIMIT": "0",  # every login is hashed: the worst case
            "SEGPIXEL_LOGIN_SUCCESS_LIMIT": "0",
        }
    )
    if store == "redis":
        hold_background_round(args.redis_url, prefix)
    port = free_port()
    server = serve(env, port)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_up(f"{base}/health")
        runner = runner_pid(server)
        if args.runner_cpus and runner is not None:
            subprocess.run(["taskset", "-acp", args.runner_cpus, str(runner)], check=True)
        client = admin(base)
        member_id = make_catalog(client, args.segments)
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
        bad, good = workdir / "bad.txt", workdir / "good.txt"
        if "bad-batch" in args.phases and not bad.exists():
            write_bad_file(bad, args.bad_mib)
        if "good-batch" in args.phases and not good.exists():
            write_batch_file(good, args.good_lines, args.segments)
        wrk_env = {"SEGMENTS": ",".join(str(sid) for sid in ids[:PIXEL_SEGMENTS])}
        url = f"{base}/seg"
        wrk(url, 2, 16, wrk_env)  # warm-up
        rows = []
        for round_ in range(args.rounds):
            for phase in args.phases:
                loop = None
                if phase == "reports":
                    loop = Loop(base, report_work(report))
                elif phase in ("bad-batch", "good-batch"):
                    path = bad if phase == "bad-batch" else good
                    loop = Loop(base, batch_work(path, member_id))
                elif phase == "logins":
                    loop = Loop(base, login_work, clients=args.logins)
                if loop is not None:
                    loop.start()
                    time.sleep(0.5)  # the work under way before the pixel is measured
                load_before = os.getloadavg()[0]
                spies = []
                if args.profile_dir:
                    runner_now = runner_pid(server)
                    for pid in [*worker_pids(server), *([runner_now] if runner_now else [])]:
                        name = f"{store}-{round_ + 1}-{phase}-{pid}.txt"
                        spies.append(profile(pid, args.duration, args.profile_dir / name))
                load = wrk_at_rate(url, args.rate, args, wrk_env)
                for spy in spies:
                    spy.wait()
                load_after = os.getloadavg()[0]
                if loop is not None:
                    loop.finish()
                seconds = loop.seconds if loop is not None else []
                rows.append(
                    {
                        "round": round_ + 1,
                        "phase": phase,
                        "pixel_req_s": round(load.requests_per_s),
                        "p50_ms": load.p50_ms,
                        "p99_ms": load.p99_ms,
                        "errors": load.errors,
                        "work_done": len(seconds),
                        "work_median_s": round(statistics.median(seconds), 2) if seconds else None,
                        "work_outcomes": loop.outcomes if loop is not None else {},
                        "load_avg_1m": [round(load_before, 2), round(load_after, 2)],
                    }
                )
                print(json.dumps({"store": store, **rows[-1]}), flush=True)
        return rows
    finally:
        stop(server)
        if store == "redis":
            clear_redis(args.redis_url, prefix)


def table(results: dict[str, list[dict]]) -> None:
    print(
        f"\n{'store':7} {'round':>5}  {'phase':11} {'req/s':>6} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'p99 x alone':>11} {'work':>5} {'median s':>8}  load avg"
    )
    for store, rows in results.items():
        alone: dict[int, float] = {}
        for row in rows:
            if row["phase"] == "alone":
                alone[row["round"]] = row["p99_ms"]
            base = alone.get(row["round"])
            ratio = f"{row['p99_ms'] / base:>11.2f}" if base else f"{'-':>11}"
            median = row["work_median_s"] if row["work_median_s"] is not None else "-"
            print(
                f"{store:7} {row['round']:>5}  {row['phase']:11} {row['pixel_req_s']:>6} "
                f"{row['p50_ms']:>7.2f} {row['p99_ms']:>7.2f} {ratio} "
                f"{row['work_done']:>5} {median:>8}  {row['load_avg_1m']}"
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
    parser.add_argument("--phases", default=",".join(PHASES))
    parser.add_argument("--bad-mib", type=int, default=200)
    parser.add_argument("--good-lines", type=int, default=1_000_000)
    parser.add_argument("--logins", type=int, default=16, help="concurrent login clients")
    parser.add_argument("--runner-cpus", default=None, help="pin the job runner (taskset list)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument(
        "--profile-dir",
        type=Path,
        default=None,
        help="py-spy each phase's worker and runner into this folder (collapsed stacks)",
    )
    args = parser.parse_args()
    args.phases = [p for p in args.phases.split(",") if p]
    unknown = set(args.phases) - set(PHASES)
    if unknown or "alone" not in args.phases:
        parser.error(f"--phases: one of {', '.join(PHASES)}, alone included (got {unknown})")
    if args.profile_dir is not None:
        if shutil.which("py-spy") is None:
            parser.error("--profile-dir needs py-spy on PATH (.venv/bin/pip install py-spy)")
        args.profile_dir.mkdir(parents=True, exist_ok=True)
    random.seed(7)
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
    levers = {k: v for k, v in os.environ.items() if k.startswith("SEGPIXEL_")}
    out.write_text(
        json.dumps({"results": results, "args": vars(args), "env": levers}, indent=2, default=str)
    )
    print(f"results written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
