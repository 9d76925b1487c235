"""Jobs the API runs after answering (reports, batch uploads): tasks of this worker's event loop.

The job's row in the catalog says how far it got; this only keeps the tasks referenced (asyncio
holds tasks weakly) and cancels them when the worker stops, before the stores close, so that a
job ends as "error: interrupted" instead of failing on a closed store.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger("segpixel.jobs")


class Background:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, job: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.get_running_loop().create_task(job, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("job %s failed", task.get_name(), exc_info=task.exception())

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def wait(self) -> None:
        """Until every job started so far has ended (tests, the CLI)."""
        await asyncio.gather(*self._tasks, return_exceptions=True)
