"""A job runner (segpixel.jobs) on a thread of the test process, beside an in-process server.

The same runner `segpixel jobs` runs, with the test server's settings and clock, on its own event
loop; `segpixel serve` tests run the real child process instead.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from segpixel.catalog.db import Catalog
from segpixel.jobs.context import JobContext
from segpixel.jobs.runner import JobRunner
from segpixel.settings import Settings


class RunnerThread:
    def __init__(self, settings: Settings, clock: Callable[[], float]):
        settings = settings.resolved()
        self.catalog = Catalog(settings.catalog_url or "")
        self.runner = JobRunner(JobContext(settings, self.catalog, clock))
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="job-runner", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._loop.run_until_complete(self.runner.run())
        finally:
            self._loop.close()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self.runner.stop)
            self._thread.join(timeout=20)
        self.catalog.dispose()
