"""Scale-out benchmark: 1 server + single Redis vs 2 servers + a 3-master Redis Cluster.

    .venv/bin/python bench/scale.py [--duration 10] [--connections 64] [--users 20000]

All on 127.0.0.1, in a bounded time (about 4 × duration + 40 s). In one run:

1. the raw-ASGI baseline (bench/baseline_app.py), wrk flat out;
2. one `segpixel serve` (granian, 1 worker) on the machine's Redis (--redis-url, 127.0.0.1:6379);
3. a private local Redis Cluster (3 masters + 3 replicas, tests/support/redis_cluster.py) and two
   `segpixel serve` processes on two ports sharing one catalog, with two wrk processes (half the
   connections each) loading both at once; requests/s are summed.

Each phase prints requests/s, p50/p99 and the ratio to the baseline, and the Redis CPU seconds
spent per 1,000 pixels (INFO cpu deltas of the Redis / the masters: the per-operation cost the
README's capacity model uses). Then the memory per user in the cluster: the sum of the masters'
`used_memory` deltas over --users users with 5 segments each (replicas hold as much again).
Results go to bench/results/scale-<time>.json. The load generator (wrk) runs on the same cores:
on this 2-core machine, 2 servers + 6 Redis processes measure the overhead of the cluster
path, not scale.
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
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path

import httpx
import redis

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT)]

from tests.support.redis_cluster import LocalCluster, free_base_port  # noqa: E402

import pixel  # noqa: E402 (bench/pixel.py: wrk, granian, segments, baseline)

NOTE = (
    "2 servers + a 6-process cluster + wrk on this machine's 2 cores measure the cluster path's "
    "overhead, not scale: on real hardware each server and each master has cores of its own."
)


def redis_cpu(ports: list[int]) -> float:
    total = 0.0
    for port in ports:
        info = redis.Redis(port=port).info("cpu")
        total += info["used_cpu_sys"] + info["used_cpu_user"]
    return total


def start_server(env: dict[str, str], init: bool) -> tuple[subprocess.Popen, str]:
    if init:
        subprocess.run(
            [sys.executable, "-m", "segpixel", "init"],
            env={**os.environ, **env},
            check=True,
            capture_output=True,
        )
    port = pixel.free_port()
    proc = pixel.granian("segpixel.app:create_app", port, 1, env, factory=True)
    base = f"http://127.0.0.1:{port}"
    pixel.wait_up(f"{base}/health")
    return proc, base


def load(bases: list[str], args: argparse.Namespace, segments: str, ports: list[int]) -> dict:
    """Warm up, then wrk flat out against every base at once (connections split evenly)."""
    env = {"SEGMENTS": segments}
    each = max(4, args.connections // len(bases))
    with ThreadPoolExecutor(len(bases)) as pool:
        list(pool.map(lambda b: pixel.wrk(f"{b}/seg", 2, each, env), bases))
        cpu_before = redis_cpu(ports) if ports else 0.0
        runs = list(pool.map(lambda b: pixel.wrk(f"{b}/seg", args.duration, each, env), bases))
        cpu = redis_cpu(ports) - cpu_before if ports else 0.0
    requests = sum(r.requests for r in runs)
    return {
        "requests_per_s": round(sum(r.requests_per_s for r in runs), 1),
        "p50_ms": max(r.p50_ms for r in runs),
        "p99_ms": max(r.p99_ms for r in runs),
        "errors": sum(r.errors for r in runs),
        "requests": requests,
        "redis_cpu_s_per_1000_fires": round(1000 * cpu / requests, 4) if ports else None,
        "per_server": [asdict(r) for r in runs],
    }


def single(args: argparse.Namespace, workdir: Path) -> dict:
    prefix = f"bscale{os.getpid()}:"
    env = {
        "SEGPIXEL_DATA_DIR": str(workdir / "single"),
        "SEGPIXEL_ADMIN_PASSWORD": pixel.ADMIN_PASSWORD,
        "SEGPIXEL_REDIS_PREFIX": prefix,
        "SEGPIXEL_PROFILE_URL": args.redis_url,
    }
    proc, base = start_server(env, init=True)
    try:
        segments = ",".join(pixel.make_segments(base))
        port = redis.Redis.from_url(args.redis_url).connection_pool.connection_kwargs["port"]
        result = load([base], args, segments, [port])
        result["metrics"] = pixel.summarize_metrics(httpx.get(f"{base}/metrics").text)
        return result
    finally:
        pixel.stop(proc)
        pixel.clear_redis(args.redis_url, prefix)


def clustered(args: argparse.Namespace, workdir: Path, cluster: LocalCluster) -> dict:
    url = f"redis+cluster://{cluster.startup_nodes}"
    catalog = f"sqlite:///{workdir / 'catalog.db'}"
    procs, bases = [], []
    try:
        for n in range(2):
            env = {
                "SEGPIXEL_DATA_DIR": str(workdir / f"server{n}"),
                "SEGPIXEL_CATALOG_URL": catalog,
                "SEGPIXEL_ADMIN_PASSWORD": pixel.ADMIN_PASSWORD,
                "SEGPIXEL_PROFILE_URL": url,
            }
            proc, base = start_server(env, init=n == 0)
            procs.append(proc)
            bases.append(base)
        segments = ",".join(pixel.make_segments(bases[0]))  # the other server polls the catalog
        result = load(bases, args, segments, cluster.masters())
        result["metrics"] = [pixel.summarize_metrics(httpx.get(f"{b}/metrics").text) for b in bases]
        return result
    finally:
        for proc in procs:
            pixel.stop(proc)


def cluster_memory_per_user(cluster: LocalCluster, users: int, segments: int = 5) -> dict:
    """As bench/pixel.py redis_memory_per_user, on the cluster: sum over the masters."""
    from segpixel.domain.profile import Add, Mutation
    from segpixel.profiles.redis_cluster import RedisClusterProfileStore

    masters = cluster.masters()
    clients = [redis.Redis(port=p) for p in masters]

    def used() -> tuple[int, int]:
        """used_memory, and without the replication buffers (a fixed cost of up to
        repl-backlog-size, 1 MB, per master: not a cost per user)."""
        infos = [c.info("memory") for c in clients]
        total = sum(i["used_memory"] for i in infos)
        return total, total - sum(i.get("mem_total_replication_buffers", 0) for i in infos)

    before = used()

    async def fill() -> None:
        store = RedisClusterProfileStore(
            f"redis+cluster://{cluster.startup_nodes}", prefix="bm:", timeout=5
        )
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

    asyncio.run(fill())
    for c in clients:  # profiles only: the load logs and counters are per segment
        for key in c.scan_iter(match="bm:l*", count=10_000):
            c.delete(key)
    after = used()
    keys = sum(c.dbsize() for c in clients)
    return {
        "users": users,
        "segments_per_user": segments,
        "masters": len(masters),
        "keys_on_masters": keys,
        "used_memory_delta_per_user": round((after[0] - before[0]) / users, 1),
        "without_replication_buffers_per_user": round((after[1] - before[1]) / users, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per load (max 60)")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--users", type=int, default=100_000, help="users for memory per user")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    args.duration = min(args.duration, 60)
    args.workers = 1  # bench/pixel.py's baseline reads it: one process, as each segpixel here
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: scripts/install-system-deps installs it")

    workdir = Path(tempfile.mkdtemp(prefix="segpixel-scale-"))
    cluster = LocalCluster(workdir / "cluster", free_base_port())
    try:
        first_ids = ",".join(str(i) for i in range(1, pixel.SEGMENT_COUNT + 1))
        baseline = pixel.run_baseline(args, {"SEGMENTS": first_ids}).max
        one = single(args, workdir)
        cluster.start()
        two = clustered(args, workdir, cluster)
        memory = cluster_memory_per_user(cluster, args.users)
    finally:
        cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    rows = [
        ("baseline (raw ASGI GIF), 1 process", asdict(baseline)),
        ("1 segpixel + single Redis", one),
        ("2 segpixel + 3-master cluster", two),
    ]
    print(f"\n{'setup':<36} {'req/s':>9} {'× base':>7} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'errors':>7} {'Redis CPU s/1k fires':>21}")  # fmt: skip
    for name, r in rows:
        cpu = r.get("redis_cpu_s_per_1000_fires")
        print(
            f"{name:<36} {r['requests_per_s']:>9.0f} "
            f"{r['requests_per_s'] / baseline.requests_per_s:>7.2f} {r['p50_ms']:>8.2f} "
            f"{r['p99_ms']:>8.2f} {r['errors']:>7} {'' if cpu is None else f'{cpu:.4f}':>21}"
        )
    ratio = two["requests_per_s"] / one["requests_per_s"]
    print(f"2 servers + cluster / 1 server + single Redis: {ratio:.2f}")
    print(
        f"cluster memory per user ({memory['users']:,} users, 5 segments, masters only): "
        f"{memory['without_replication_buffers_per_user']} bytes "
        f"({memory['used_memory_delta_per_user']} with the replication buffers' fixed "
        "growth); replicas hold as much again"
    )
    print(f"note: {NOTE}")

    out = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "args": vars(args),
        "cpus": os.cpu_count(),
        "baseline": asdict(baseline),
        "single_redis_1_server": one,
        "cluster_2_servers": two,
        "ratio_cluster_to_single": round(ratio, 3),
        "cluster_memory": memory,
        "note": NOTE,
    }
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    path = results / f"scale-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(out, indent=2))
    print(f"results: {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
