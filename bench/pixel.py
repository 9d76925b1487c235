"""Pixel throughput and latency against a raw-ASGI baseline and nginx, measured in the same run.

    .venv/bin/python bench/pixel.py [--duration 10] [--stores sqlite,redis] [--workers 1] [--inproc]
                                    [--builds compiled,pure]

For nginx's `empty_gif` (the machine's ceiling: C, no Python), the baseline (bench/baseline_app.py:
a GIF and a cookie, nothing else) and then segpixel on each profile store, the last two served by
granian with the same settings: wrk loads 127.0.0.1 for a bounded time with a mix of new visitors
and returning cookies adding 1–3 segments (bench/pixel_mix.lua)
— first flat out (max req/s, p50, p99), then throttled to about half the maximum (a pause per
request, calibrated by a short run) to read p99 there.
Prints a table with the ratios to the baseline and to nginx and writes
bench/results/pixel-<time>.json. Also measures Redis memory per user holding 5 segments.
`--inproc` adds bench/pixel_inproc.py's figures: CPU µs per /seg call with the app driven
in-process, the steadiest figure on a shared machine. `--builds compiled,pure` measures segpixel
once per build of its hot modules (mypyc's, and the plain-Python sources), in and out of process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ADMIN_PASSWORD = "bench-admin-password"
SEGMENT_COUNT = 50


@dataclass
class Load:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int


@dataclass
class Row:
    name: str
    max: Load
    half: Load | None = None


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


_LATENCY = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(
    url: str,
    duration: int,
    connections: int,
    env: dict[str, str],
    delay_ms: float = 0,
    script: Path = HERE / "pixel_mix.lua",
) -> Load:
    cmd = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{duration}s",
        "--latency",
        "--timeout",
        "5s",
        "-s",
        str(script),
        url,
    ]
    out = subprocess.run(
        cmd,
        env={**os.environ, **env, "DELAY_MS": str(delay_ms)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    latency = {p: float(v) * _UNITS[u] for p, v, u in _LATENCY.findall(out)}
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    n_err = int(errors.group(1)) if errors else 0
    if socket_errors:
        n_err += sum(int(x) for x in socket_errors.groups())
    return Load(rps, latency.get("50", 0.0), latency.get("99", 0.0), n_err, total)


def measure(name: str, base_url: str, args: argparse.Namespace, env: dict[str, str]) -> Row:
    url = f"{base_url}/seg"
    wrk(url, 2, args.connections, env)  # warm-up: caches, connection pools, SQLite pages
    flat_out = wrk(url, args.duration, args.connections, env)
    half = wrk_at_rate(url, flat_out.requests_per_s / 2, args, env)
    return Row(name, flat_out, half)


def wrk_at_rate(url: str, rate: float, args: argparse.Namespace, env: dict[str, str]) -> Load:
    """Load `url` at about `rate` req/s: each connection pauses between its requests (a random
    pause, pixel_mix.lua).

    wrk has no rate option, only a pause per request, so a connection's cycle is its pause plus
    the latency at that load, which is not known beforehand. A short calibration run with the
    pause alone measures the latency; the real run pauses that much less. (The flat-out latency
    cannot stand in for it: at full load it is mostly queueing, and the "half" load came out
    at 80-90 % of the maximum.) wrk counts pauses in whole milliseconds, so there are enough
    connections for a cycle of about 20 ms: the rounding then costs at most 5 %.
    """
    connections = min(256, max(4, round(rate / 50)))
    cycle_ms = 1000.0 * connections / rate
    probe = wrk(url, 2, connections, env, cycle_ms)
    latency_ms = max(0.0, 1000.0 * connections / probe.requests_per_s - cycle_ms)
    return wrk(url, args.duration, connections, env, max(0.0, cycle_ms - latency_ms))


def granian(
    target: str, port: int, workers: int, env: dict[str, str], factory: bool = False
) -> subprocess.Popen:
    cmd = [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "asgi",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        target,
    ]
    if factory:
        cmd.insert(-1, "--factory")
    return subprocess.Popen(
        cmd,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        cwd=HERE,
    )


def job_runner(env: dict[str, str]) -> subprocess.Popen:
    """`segpixel jobs` on the same data and stores: what `segpixel serve` starts beside its
    workers (batch uploads and reports run there, not in a worker)."""
    return subprocess.Popen(
        [sys.executable, "-m", "segpixel", "jobs"],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        cwd=HERE,
    )


NGINX_CONF = """daemon off;
worker_processes {workers};
pid {dir}/nginx.pid;
error_log {dir}/error.log;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{ empty_gif; }}
    }}
}}
"""


def run_nginx(args: argparse.Namespace, env: dict[str, str], workdir: Path) -> Row | None:
    """nginx's empty_gif with as many workers: what this machine serves with no Python at all."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        print("nginx is missing (scripts/install-system-deps installs it): no ceiling row")
        return None
    folder = workdir / "nginx"
    folder.mkdir()
    port = free_port()
    conf = folder / "nginx.conf"
    conf.write_text(NGINX_CONF.format(workers=args.workers, dir=folder, port=port))
    proc = subprocess.Popen(
        [nginx, "-p", str(folder), "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_up(f"http://127.0.0.1:{port}/")
        return measure("nginx empty_gif (ceiling)", f"http://127.0.0.1:{port}", args, env)
    finally:
        stop(proc)


def run_baseline(args: argparse.Namespace, env: dict[str, str]) -> Row:
    port = free_port()
    proc = granian("baseline_app:app", port, args.workers, {})
    try:
        wait_up(f"http://127.0.0.1:{port}/")
        return measure("baseline (raw ASGI GIF)", f"http://127.0.0.1:{port}", args, env)
    finally:
        stop(proc)


def init_segpixel(store: str, data_dir: Path, prefix: str, redis_url: str) -> dict[str, str]:
    """`segpixel init` of a data folder for `store` ("sqlite" or "redis", keys under `prefix`);
    the environment a `segpixel serve` of it runs with."""
    env = {
        "SEGPIXEL_DATA_DIR": str(data_dir),
        "SEGPIXEL_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "SEGPIXEL_REDIS_PREFIX": prefix,
    }
    if store == "redis":
        env["SEGPIXEL_PROFILE_URL"] = redis_url
    subprocess.run(
        [sys.executable, "-m", "segpixel", "init"],
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )
    return env


def run_segpixel(
    store: str, args: argparse.Namespace, workdir: Path, build: str = ""
) -> tuple[Row, dict]:
    """One store's figures; `build` (compiled, pure) picks the hot modules' build."""
    from pixel_inproc import BUILD_ENV

    prefix = f"bench{os.getpid()}:"
    env = init_segpixel(store, workdir / f"{store}{build}", prefix, args.redis_url)
    env |= BUILD_ENV[build] if build else {}
    port = free_port()
    proc = granian("segpixel.app:create_app", port, args.workers, env, factory=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_up(f"{base}/health")
        segment_ids = make_segments(base)
        name = f"segpixel, {store} store" + (f" [{build}]" if build else "")
        row = measure(name, base, args, {"SEGMENTS": ",".join(segment_ids)})
        metrics = httpx.get(f"{base}/metrics").text
        return row, {"metrics": summarize_metrics(metrics)}
    finally:
        stop(proc)
        if store == "redis":
            clear_redis(args.redis_url, prefix)


def make_segments(base: str) -> list[str]:
    with httpx.Client(base_url=base, timeout=10) as client:
        token = client.post(
            "/auth", json={"auth": {"username": "admin", "password": ADMIN_PASSWORD}}
        ).json()["response"]["token"]
        headers = {"Authorization": token}
        member = client.post("/member", json={"member": {"name": "Bench"}}, headers=headers).json()
        member_id = member["response"]["member"]["id"]
        ids = []
        for i in range(SEGMENT_COUNT):
            body = {"segment": {"short_name": f"Bench {i}", "code": f"bench{i}"}}
            r = client.post(f"/segment?member_id={member_id}", json=body, headers=headers).json()
            ids.append(str(r["response"]["segment"]["id"]))
    time.sleep(1.5)  # the catalog snapshot picks the segments up within a second
    return ids


def summarize_metrics(text: str) -> dict[str, float]:
    wanted = (
        "segpixel_write_batch_size_sum",
        "segpixel_write_batch_size_count",
        "segpixel_pixel_fires_total",
        "segpixel_segment_adds_total",
    )
    out: dict[str, float] = {}
    for line in text.splitlines():
        for name in wanted:
            if line.startswith(name):
                out[name] = out.get(name, 0) + float(line.rsplit(" ", 1)[1])
    if out.get("segpixel_write_batch_size_count"):
        out["mean_batch_size"] = (
            out["segpixel_write_batch_size_sum"] / out["segpixel_write_batch_size_count"]
        )
    return out


def clear_redis(url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    keys = []
    for key in client.scan_iter(match=f"{prefix}*", count=10_000):
        keys.append(key)
        if len(keys) == 1000:  # a thousand keys a command: one round trip a key took minutes
            client.unlink(*keys)
            keys = []
    if keys:
        client.unlink(*keys)


def redis_memory_per_user(url: str, users: int = 20_000, segments: int = 5) -> dict[str, float]:
    """Write `users` profiles of `segments` segments each through the store; bytes per user.

    Realistic ids: random 63-bit user ids, 5-digit segment ids, one add each, no value, and a
    short prefix like the default `sp:`. `used_memory` counts everything Redis spends (the key,
    the hash, the keyspace and expiry dictionaries); MEMORY USAGE counts the key alone.
    """
    import random

    import redis

    from segpixel.domain.profile import Add, Mutation
    from segpixel.profiles.redis import RedisProfileStore

    prefix = "bm:"  # as short as the default `sp:`: a longer prefix costs 16 bytes a user more
    client = redis.Redis.from_url(url)
    clear_redis(url, prefix)

    async def fill() -> None:
        store = RedisProfileStore(url, prefix=prefix)
        await store.open()
        now = int(time.time())
        batch = []
        for _ in range(users):
            ids = random.sample(range(10_000, 100_000), segments)
            adds = tuple(Add(s, now + 86400 * 30, None) for s in ids)
            batch.append(Mutation(random.getrandbits(63) or 1, now, adds))
            if len(batch) == 1000:
                await store.apply(batch)
                batch = []
        await store.close()

    before = client.info("memory")["used_memory"]
    asyncio.run(fill())
    # Profiles only: the load log and counters (per segment, not per user) are not this figure.
    for key in client.scan_iter(match=f"{prefix}l[:{{]*", count=10_000):
        client.delete(key)
    after = client.info("memory")["used_memory"]
    sample = [
        k
        for _, k in zip(range(500), client.scan_iter(match=f"{prefix}*", count=1000), strict=False)
    ]
    usage = [client.memory_usage(k) or 0 for k in sample]
    clear_redis(url, prefix)
    return {
        "users": users,
        "segments_per_user": segments,
        "used_memory_delta_per_user": round((after - before) / users, 1),
        "memory_usage_per_key": round(sum(usage) / max(len(usage), 1), 1),
    }


def main() -> None:
    import pixel_inproc  # (here: it imports this module's helpers)

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per load phase (max 60)")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--stores", default="sqlite,redis")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument(
        "--inproc", action="store_true", help="also CPU µs per call in-process (pixel_inproc.py)"
    )
    pixel_inproc.add_arguments(parser)
    args = parser.parse_args()
    args.duration = min(args.duration, 60)
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: scripts/install-system-deps installs it")

    workdir = Path(tempfile.mkdtemp(prefix="segpixel-bench-"))
    first_ids = ",".join(str(i) for i in range(1, SEGMENT_COUNT + 1))
    ceiling = run_nginx(args, {"SEGMENTS": first_ids}, workdir)
    rows = [run_baseline(args, {"SEGMENTS": first_ids})]
    extras: dict[str, dict] = {}
    for store in args.stores.split(","):
        for build in args.builds.split(",") if args.builds else [""]:
            row, extra = run_segpixel(store, args, workdir, build)
            rows.append(row)
            extras[store + (f" [{build}]" if build else "")] = extra
    if "redis" in args.stores:
        extras["redis_memory"] = redis_memory_per_user(args.redis_url)
    shutil.rmtree(workdir, ignore_errors=True)
    inproc: list[pixel_inproc.Figure] = []
    if args.inproc and args.builds:
        inproc = pixel_inproc.run_builds(args)
    elif args.inproc:
        inproc = asyncio.run(pixel_inproc.run(args))
    if inproc:
        extras["inproc_cpu_us_per_call"] = {f"{f.name} / {f.mix}": f.per_call_us for f in inproc}
    report(rows, ceiling, extras, args)
    if inproc:
        pixel_inproc.report(inproc, args)


def report(
    rows: list[Row], ceiling: Row | None, extras: dict[str, dict], args: argparse.Namespace
) -> None:
    base = rows[0].max.requests_per_s
    top = ceiling.max.requests_per_s if ceiling else 0.0
    print(
        f"\nsegpixel pixel benchmark — {args.duration}s per phase, {args.connections} connections, "
        f"{args.workers} worker(s), wrk -t1, 127.0.0.1; ratios to the raw-ASGI baseline and nginx"
    )
    print(
        f"{'server':42} {'req/s':>9} {'×base':>6} {'×nginx':>6} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'errors':>7} | {'half-load req/s':>15} {'p99 ms':>7}"
    )
    for row in ([ceiling] if ceiling else []) + rows:
        half, rps = row.half, row.max.requests_per_s
        print(
            f"{row.name:42} {rps:9.0f} {rps / base:6.2f} {rps / top if top else 0:6.2f} "
            f"{row.max.p50_ms:7.2f} {row.max.p99_ms:7.2f} {row.max.errors:7d} | "
            f"{half.requests_per_s if half else 0:15.0f} {half.p99_ms if half else 0:7.2f}"
        )
    for store, extra in extras.items():
        print(f"{store}: {json.dumps(extra)}")
    out_dir = HERE / "results"
    out_dir.mkdir(exist_ok=True)
    path = out_dir / f"pixel-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(
        json.dumps(
            {
                "ceiling": asdict(ceiling) if ceiling else None,
                "rows": [asdict(r) for r in rows],
                "extras": extras,
                "args": vars(args),
            },
            indent=2,
        )
    )
    print(f"results written to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
