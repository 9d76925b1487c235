"""A job runner as a process of its own: `segpixel jobs`, or the one `segpixel serve` starts.

The runner is niced (`SEGPIXEL_JOB_NICE`) so that, on a machine it shares with pixel workers, the
scheduler gives the pixels the CPU first; SIGTERM or SIGINT hand its jobs back and end it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys

from segpixel.catalog.db import Catalog
from segpixel.jobs.context import JobContext
from segpixel.jobs.runner import JobRunner
from segpixel.settings import Settings

log = logging.getLogger("segpixel.jobs")
PARENT_ENV = "SEGPIXEL_JOBS_PARENT"  # set by serve: the runner ends when that process is gone


def run_jobs(settings: Settings) -> None:
    """Run a job runner in this process until SIGTERM/SIGINT."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if settings.job_nice:
        os.nice(settings.job_nice)
    parent = os.environ.get(PARENT_ENV)
    asyncio.run(_main(settings, int(parent) if parent and parent.isdigit() else None))


async def _main(settings: Settings, parent_pid: int | None) -> None:
    catalog = Catalog(settings.catalog_url or "")
    runner = JobRunner(JobContext(settings, catalog), parent_pid=parent_pid)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, runner.stop)
    try:
        await runner.run()
    finally:
        catalog.dispose()


def start_runner_process(env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """`segpixel jobs` as a child of this process (which `serve` is), with its environment."""
    child_env = {**os.environ, **(env or {}), PARENT_ENV: str(os.getpid())}
    return subprocess.Popen([sys.executable, "-m", "segpixel", "jobs"], env=child_env)
