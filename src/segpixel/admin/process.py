"""The admin process: `segpixel serve` starts it beside its workers (SEGPIXEL_ADMIN_PROCESS).

One granian worker on a local socket serves the full app (API, console, /docs) to the pixel
workers, which pass it every request that is not a pixel (admin.forward). It is niced
(SEGPIXEL_ADMIN_NICE) so that on a machine it shares with pixel workers the scheduler gives the
pixels the CPU first, and it ends when the serving process disappears.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from segpixel.admin.link import SOCKET_ENV, arrived
from segpixel.edge.http import Receive, Scope, Send
from segpixel.settings import Settings

PARENT_ENV = "SEGPIXEL_ADMIN_PARENT"
PARENT_CHECK_SECONDS = 1.0


class FromPixelWorker:
    """Pure ASGI, outermost in the admin process: the scope the pixel worker saw."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope = arrived(scope)
        await self.app(scope, receive, send)


def create_admin_app() -> FromPixelWorker:
    """The admin process' app (granian's factory, in its worker): the whole app, answering for
    the pixel workers, leaving the stores' upkeep to them; the worker ends if the admin
    process' main dies under it."""
    from segpixel.app import create_app

    app = create_app(upkeep=False)
    _end_with_parent(os.getppid(), app.runtime.settings.stop_timeout_s)
    return FromPixelWorker(app)


def start_admin_process(socket_path: Path, server: str) -> subprocess.Popen[bytes]:
    """The admin process as a child of this one (`serve`), with its environment."""
    env = {k: v for k, v in os.environ.items() if k != SOCKET_ENV}  # it answers, never forwards
    env[PARENT_ENV] = str(os.getpid())
    command = [sys.executable, "-m", "segpixel.admin.process", str(socket_path), server]
    return subprocess.Popen(command, env=env)


def _end_with_parent(parent: int, grace: float) -> None:
    """SIGTERM to this process once `parent` is gone (killed), and an exit `grace` seconds later
    if that did not end it: no orphan server left on a socket nobody reaches."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(grace + PARENT_CHECK_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def run_admin(socket_path: Path, server: str) -> None:
    settings = Settings()
    if settings.admin_nice:
        os.nice(settings.admin_nice)
    parent = os.environ.get(PARENT_ENV, "")
    if parent.isdigit():
        _end_with_parent(int(parent), settings.stop_timeout_s)
    socket_path.unlink(missing_ok=True)  # a socket left by an admin process that died
    from segpixel.serving import run_server

    run_server("segpixel.admin.process:create_admin_app", settings, server, uds=socket_path)


if __name__ == "__main__":
    run_admin(Path(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "granian")
