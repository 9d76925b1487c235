"""CPU per `/seg` call, in-process: the ASGI app driven directly, no socket, no HTTP server.

    .venv/bin/python bench/pixel_inproc.py [--calls 20000] [--rounds 5] [--stores sqlite,redis]
                                           [--builds compiled,pure]

The steadiest figure on a shared machine: the process's CPU time (every thread's: the loop, the
SQLite reader/upkeep threads) divided by the calls, so other work on the machine does not count.
Each store is `segpixel init`ed in a temporary folder, its segments made through the API (the same
app, in-process), then `/seg` calls are sent with 64 in flight (asyncio tasks building the ASGI
scope by hand): the request mix of bench/pixel.py (pixel_mix.lua: 1–3 of 50 segments, 30 % new
visitors, returning cookies from a pool of 100,000) — almost every query string is new — and a
second, realistic mix: a handful of tags, each always the same query string. A raw-ASGI GIF app
(bench/baseline_app.py) driven the same way shows what the driver itself costs.
After a warm-up, several rounds; prints the min / median / max µs per call and the spread.
Redis' own CPU (another process) is not in the figure.
`--builds compiled,pure` measures the mypyc build of the hot modules against their plain-Python
sources (SEGPIXEL_PURE_PYTHON=1; README "The compiled pixel path"): each build in an interpreter
of its own, taking turns (`--turns`, 2 by default) so that a slow spell of the machine falls on
both, each turn a full run of the figures above.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from baseline_app import app as baseline_app  # noqa: E402

from pixel import ADMIN_PASSWORD, SEGMENT_COUNT, clear_redis, init_segpixel  # noqa: E402

IN_FLIGHT = 64
NEW_SHARE = 0.3
USERS = 100_000
REALISTIC_TAGS = 8  # a handful of tags on a site's pages, each its own fixed query string

App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


@dataclass
class Figure:
    name: str
    mix: str
    per_call_us: list[float]

    def line(self) -> str:
        values = sorted(self.per_call_us)
        low, mid, high = values[0], statistics.median(values), values[-1]
        spread = 100 * (high - low) / low if low else 0.0
        return (
            f"{self.name:38} {self.mix:10} {low:8.1f} {mid:8.1f} {high:8.1f} {spread:7.0f}%"
            f"  ({len(values)} rounds)"
        )


def random_mix(segment_ids: list[str], seed: int) -> Iterator[tuple[bytes, bytes | None]]:
    """pixel_mix.lua's requests: (query string, cookie header or None)."""
    rng = random.Random(seed)
    while True:
        picked = [rng.choice(segment_ids) for _ in range(rng.randint(1, 3))]
        yield f"add={','.join(picked)}&t=2".encode(), _cookie(rng)


def realistic_mix(segment_ids: list[str], seed: int) -> Iterator[tuple[bytes, bytes | None]]:
    """A few tags fired again and again, each the same query string every time."""
    rng = random.Random(seed)
    tags = [
        f"add={','.join(rng.sample(segment_ids, rng.randint(1, 3)))}&t=2".encode()
        for _ in range(REALISTIC_TAGS)
    ]
    while True:
        yield rng.choice(tags), _cookie(rng)


def _cookie(rng: random.Random) -> bytes | None:
    if rng.random() < NEW_SHARE:
        return None
    return f"uuid2={1_000_000_000 + rng.randint(1, USERS)}".encode()


def scope_of(query: bytes, cookie: bytes | None) -> dict[str, Any]:
    headers = [(b"host", b"127.0.0.1"), (b"user-agent", b"bench")]
    if cookie is not None:
        headers.append((b"cookie", cookie))
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/seg",
        "raw_path": b"/seg",
        "query_string": query,
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def drive(app: App, requests: Iterator[tuple[bytes, bytes | None]], calls: int) -> None:
    """`calls` requests through `app`, IN_FLIGHT at a time; fails on an unexpected status."""
    left = calls
    statuses: dict[int, int] = {}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses[message["status"]] = statuses.get(message["status"], 0) + 1

    async def one_connection() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            query, cookie = next(requests)
            await app(scope_of(query, cookie), _receive, send)

    await asyncio.gather(*(one_connection() for _ in range(IN_FLIGHT)))
    bad = {s: n for s, n in statuses.items() if s not in (200, 302)}
    if bad:
        raise RuntimeError(f"unexpected answers: {bad}")


async def cpu_per_call(
    app: App, requests: Iterator[tuple[bytes, bytes | None]], args: argparse.Namespace
) -> list[float]:
    await drive(app, requests, args.warmup)
    figures = []
    for _ in range(args.rounds):
        started = time.process_time()
        await drive(app, requests, args.calls)
        figures.append(1e6 * (time.process_time() - started) / args.calls)
    return figures


async def make_segments(app: App) -> list[str]:
    """The bench's segments, made through the app's own API (no socket either)."""
    import httpx

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        auth = {"auth": {"username": "admin", "password": ADMIN_PASSWORD}}
        token = (await client.post("/auth", json=auth)).json()["response"]["token"]
        headers = {"Authorization": token}
        member = await client.post("/member", json={"member": {"name": "Bench"}}, headers=headers)
        member_id = member.json()["response"]["member"]["id"]
        ids = []
        for i in range(SEGMENT_COUNT):
            body = {"segment": {"short_name": f"Bench {i}", "code": f"bench{i}"}}
            r = await client.post(f"/segment?member_id={member_id}", json=body, headers=headers)
            ids.append(str(r.json()["response"]["segment"]["id"]))
    return ids


async def bench_store(store: str, args: argparse.Namespace, workdir: Path) -> list[Figure]:
    from segpixel.app import create_app
    from segpixel.settings import Settings

    prefix = f"benchin{os.getpid()}:"
    env = init_segpixel(store, workdir / store, prefix, args.redis_url)
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        app = create_app(Settings())
    finally:
        os.environ.clear()
        os.environ.update(saved)
    runtime = app.runtime
    await runtime.start()
    try:
        segment_ids = await make_segments(app)
        deadline = time.monotonic() + 10
        while not all(int(s) in runtime.snapshot.current.segments for s in segment_ids):
            if time.monotonic() > deadline:
                raise RuntimeError("the catalog snapshot did not pick the segments up")
            await asyncio.sleep(0.1)
        name = f"segpixel, {store} store"
        return [
            Figure(name, mix, await cpu_per_call(app, make_mix(segment_ids, 1), args))
            for mix, make_mix in (("random", random_mix), ("realistic", realistic_mix))
        ]
    finally:
        await runtime.stop()
        if store == "redis":
            clear_redis(args.redis_url, prefix)


async def run(args: argparse.Namespace) -> list[Figure]:
    ids = [str(i) for i in range(1, SEGMENT_COUNT + 1)]
    figures = [
        Figure(
            "baseline (raw ASGI GIF)",
            "random",
            await cpu_per_call(baseline_app, random_mix(ids, 1), args),
        )
    ]
    with tempfile.TemporaryDirectory(prefix="segpixel-inproc-") as tmp:
        for store in args.stores.split(","):
            figures += await bench_store(store, args, Path(tmp))
    return figures


BUILD_ENV = {"compiled": {}, "pure": {"SEGPIXEL_PURE_PYTHON": "1"}}


def run_builds(args: argparse.Namespace) -> list[Figure]:
    """run() once per build and turn, each in a fresh interpreter; figures named by build."""
    builds = args.builds.split(",")
    unknown = set(builds) - set(BUILD_ENV)
    if unknown:
        sys.exit(f"--builds: unknown {sorted(unknown)}; known: {', '.join(BUILD_ENV)}")
    merged: dict[tuple[str, str], Figure] = {}
    for _ in range(args.turns):
        for build in builds:
            env = {k: v for k, v in os.environ.items() if k != "SEGPIXEL_PURE_PYTHON"}
            cmd = [sys.executable, __file__, "--emit-json", "--stores", args.stores]
            cmd += ["--redis-url", args.redis_url, "--calls", str(args.calls)]
            cmd += ["--rounds", str(args.rounds), "--warmup", str(args.warmup)]
            out = subprocess.run(
                cmd, env=env | BUILD_ENV[build], capture_output=True, text=True, check=True
            )
            status = ""
            for item in json.loads(out.stdout.splitlines()[-1]):
                status = item.pop("status")
                key = (f"{item['name']} [{build}]", item["mix"])
                figure = merged.setdefault(key, Figure(key[0], item["mix"], []))
                figure.per_call_us += item["per_call_us"]
            print(f"  turn of the {build} build done: pixel path {status}", file=sys.stderr)
    return list(merged.values())


def report(figures: list[Figure], args: argparse.Namespace) -> None:
    print(
        f"\nCPU µs per /seg call, in-process ({IN_FLIGHT} in flight, {args.calls} calls a round, "
        f"{args.warmup} warm-up)"
    )
    print(f"{'app':38} {'mix':10} {'min':>8} {'median':>8} {'max':>8} {'spread':>8}")
    for figure in figures:
        print(figure.line())


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_arguments(p)
    p.add_argument("--stores", default="sqlite,redis")
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    p.add_argument("--emit-json", action="store_true", help=argparse.SUPPRESS)  # run_builds' child
    return p


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options bench/pixel.py shares for its --inproc run."""
    p.add_argument("--calls", type=int, default=40_000, help="calls per round (in-process)")
    p.add_argument("--rounds", type=int, default=5, help="rounds per figure (in-process)")
    p.add_argument("--warmup", type=int, default=10_000, help="warm-up calls (in-process)")
    p.add_argument(
        "--builds",
        default="",
        help="compiled,pure: each build of the hot modules in its own interpreter, taking turns",
    )
    p.add_argument("--turns", type=int, default=2, help="turns per build with --builds")


def main() -> None:
    args = parser().parse_args()
    if args.emit_json:
        from segpixel import native

        figures = asyncio.run(run(args))
        rows = [vars(f) | {"status": native.status()} for f in figures]
        print(json.dumps(rows))
        return
    report(run_builds(args) if args.builds else asyncio.run(run(args)), args)


if __name__ == "__main__":
    main()
