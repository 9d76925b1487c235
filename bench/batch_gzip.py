"""A gzip batch file that inflates to 1 GB, through the Batch Segment Service, memory flat.

    nice .venv/bin/python bench/batch_gzip.py [--bytes 1000000000] [--line-bytes 400]
                                              [--segments 100] [--store sqlite]

A `segpixel serve`-like setup (granian, one worker, and a `segpixel jobs` runner beside it, as
bench/reporting.py runs them) on a fresh data folder; a gzip file is generated as it is
compressed (never held, never on disk uncompressed): `--bytes` of lines `UID,CODE;CODE:60:V`
padded with trailing blanks to `--line-bytes` (so 1 GB is reached with a few million users, the
store's writes a couple a line), then uploaded in the reference's three steps (empty POST →
upload_url → GET ?job_id= until completed). Printed: the file's sizes, lines/s, users/s, and the
job runner's RSS at the start, its peak (sampled every 50 ms) and the end, with samples along
the way; the runner inflates the file as it reads it, so its RSS must not follow the file's size.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reporting import Sampler, admin, make_catalog, rss_mib

from pixel import free_port, granian, init_segpixel, job_runner, stop, wait_up

JOB = "batch_segment_upload_job"


def write_gzip(path: Path, total: int, line_bytes: int, segments: int) -> tuple[int, int]:
    """(lines, inflated bytes) of a gzip file of about `total` inflated bytes."""
    rnd = random.Random(7)
    packer = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    lines = written = 0
    with path.open("wb") as out:
        while written < total:
            block = []
            for _ in range(10_000):
                a, b = rnd.sample(range(segments), 2)
                line = f"{10**12 + lines},seg{a};seg{b}:60:{lines % 999 + 1}"
                block.append(line.ljust(line_bytes - 1) + "\n")
                lines += 1
            data = "".join(block).encode()
            written += len(data)
            out.write(packer.compress(data))
        out.write(packer.flush())
    return lines, written


def upload(client, member_id: int, path: Path, runner_pid: int) -> dict:
    start_rss = rss_mib(runner_pid)
    sampler = Sampler(runner_pid)
    sampler.start()
    started = time.perf_counter()
    job = client.post(f"/batch-segment?member_id={member_id}", content=b"").json()["response"][JOB]
    with path.open("rb") as body:
        answer = client.post(
            job["upload_url"], content=body, headers={"content-type": "application/octet-stream"}
        )
    answer.raise_for_status()
    uploaded = time.perf_counter() - started
    samples = []
    while True:
        status = client.get(f"/batch-segment?member_id={member_id}&job_id={job['job_id']}")
        status = status.json()["response"][JOB]
        samples.append((status["lines_read"], round(rss_mib(runner_pid), 1)))
        if status["phase"] in ("completed", "error"):
            break
        time.sleep(0.5)
    elapsed = time.perf_counter() - started
    sampler.running = False
    sampler.join()
    shown = sorted({0, len(samples) // 4, len(samples) // 2, 3 * len(samples) // 4, -1})
    return {
        "phase": status["phase"],
        "error": status.get("error"),
        "lines_read": status["lines_read"],
        "num_valid_user": status["num_valid_user"],
        "rejected_lines": status["rejected_lines"],
        "upload_s": round(uploaded, 1),
        "total_s": round(elapsed, 1),
        "lines_per_s": round(status["lines_read"] / elapsed),
        "users_per_s": round(status["num_valid_user"] / elapsed),
        "runner_rss_start_mib": round(start_rss, 1),
        "runner_rss_peak_mib": round(sampler.peak, 1),
        "runner_rss_end_mib": round(rss_mib(runner_pid), 1),
        "runner_rss_at_lines_read": dict(samples[i] for i in shown),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bytes", type=int, default=1_000_000_000)
    parser.add_argument("--line-bytes", type=int, default=400)
    parser.add_argument("--segments", type=int, default=100)
    parser.add_argument("--store", default="sqlite", choices=["sqlite", "redis"])
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="segpixel-bench-gzip-"))
    try:
        path = workdir / "users.txt.gz"
        made = time.perf_counter()
        lines, inflated = write_gzip(path, args.bytes, args.line_bytes, args.segments)
        result = {
            "lines": lines,
            "inflated_bytes": inflated,
            "gzip_bytes": path.stat().st_size,
            "generate_s": round(time.perf_counter() - made, 1),
        }
        print(json.dumps(result), flush=True)
        env = init_segpixel(args.store, workdir / "data", "benchgz:", args.redis_url)
        env["SEGPIXEL_BATCH_MAX_BYTES"] = str(max(2 * inflated, 1 << 30))
        port = free_port()
        server = granian("segpixel.app:create_app", port, 1, env, factory=True)
        runner = job_runner(env)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_up(f"{base}/health")
            client = admin(base)
            member_id = make_catalog(client, args.segments)
            result.update(upload(client, member_id, path, runner.pid))
            client.close()
        finally:
            stop(runner)
            stop(server)
        print(json.dumps(result, indent=2))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
