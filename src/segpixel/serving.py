"""What `segpixel serve` does around the HTTP server: one server per port, a job runner and the
admin process beside it.

- The port is checked before the server starts: granian's workers bind with SO_REUSEPORT, which
  would let a second server share a port already in use and split its traffic (with other users
  and data) without a word.
- The job runner (segpixel.jobs) and the admin process (segpixel.admin) are child processes
  started before the workers and restarted if they die. A SIGTERM to this process is passed to
  them at once (with granian), so that they stop beside the workers, not after them, and the
  whole server is gone within SEGPIXEL_STOP_TIMEOUT_S; they stop by themselves if this process
  disappears.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import math
import os
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from segpixel.admin.link import SOCKET_ENV
from segpixel.admin.process import start_admin_process
from segpixel.jobs.process import start_runner_process
from segpixel.settings import Settings

log = logging.getLogger("segpixel.serve")
RESTART_DELAY = 1.0  # seconds before a job runner that died is started again
KILL_MARGIN = 2.0  # past SEGPIXEL_STOP_TIMEOUT_S, a runner still there is killed
WORKER_KILL_MARGIN_S = 5  # past a worker's own stop bound, before granian kills it


def worker_logging() -> dict:
    """Granian's logging, plus segpixel's own loggers at INFO on stderr (granian configures
    logging in each worker from this; without it only warnings would show, unformatted)."""
    from granian.log import LOGGING_CONFIG

    handler = {
        "formatter": "segpixel",
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stderr",
    }
    return {
        "formatters": {
            **LOGGING_CONFIG["formatters"],
            "segpixel": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        },
        "handlers": {**LOGGING_CONFIG["handlers"], "segpixel": handler},
        "loggers": {
            **LOGGING_CONFIG["loggers"],
            "segpixel": {"handlers": ["segpixel"], "level": "INFO", "propagate": False},
        },
    }


def run_server(
    factory: str,
    config: Settings,
    server: str = "granian",
    *,
    workers: int = 1,
    host: str = "127.0.0.1",
    port: int = 0,
    uds: Path | None = None,
    on_stop: Callable[[], None] | None = None,
) -> None:
    """Serve the ASGI app that `factory` ("module:function") builds, with granian (or uvicorn),
    on host:port or on the local socket `uds` (only its owner may connect), until SIGTERM;
    `on_stop` is called when granian's main process receives it, before its workers stop."""
    if server == "uvicorn":
        import uvicorn

        where: dict = {"uds": str(uds)} if uds else {"host": host, "port": port}
        uvicorn.run(
            factory,
            factory=True,
            workers=workers,
            log_level="warning",
            timeout_graceful_shutdown=math.ceil(config.stop_timeout_s),
            **where,
        )
        return
    from granian import Granian
    from granian.constants import Interfaces

    class Server(Granian):  # type: ignore[misc,valid-type]
        def signal_handler_interrupt(self, *args: object, **kwargs: object) -> None:
            if on_stop is not None:
                on_stop()
            super().signal_handler_interrupt(*args, **kwargs)

    where = {"uds": uds, "uds_permissions": 0o600} if uds else {"address": host, "port": port}
    Server(
        factory,
        workers=workers,
        interface=Interfaces.ASGI,
        factory=True,
        log_access=False,
        log_dictconfig=worker_logging(),
        # A worker's own stop is bounded by SEGPIXEL_STOP_TIMEOUT_S; one that overruns anyway
        # (stuck outside our code) is killed rather than left holding the port.
        workers_kill_timeout=math.ceil(config.stop_timeout_s) + WORKER_KILL_MARGIN_S,
        **where,
    ).serve()


def port_in_use(host: str, port: int) -> bool:
    """True when something already listens on host:port (a plain bind, no SO_REUSEPORT)."""
    for family, kind, proto, _, address in socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    ):
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is no owner
            try:
                probe.bind(address)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    return True
                raise
    return False


class ChildSupervisor:
    """Keeps one child process (`start` makes it) running while the server serves."""

    def __init__(
        self, name: str, start: Callable[[], subprocess.Popen[bytes]], stop_timeout: float
    ) -> None:
        self.name = name
        self._start = start
        self.stop_timeout = stop_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._watch: threading.Thread | None = None

    def start(self) -> None:
        self.process = self._start()
        self._watch = threading.Thread(target=self._keep_running, name=self.name, daemon=True)
        self._watch.start()

    def _keep_running(self) -> None:
        while not self._stopping.is_set():
            process = self.process
            assert process is not None
            code = process.wait()
            if self._stopping.wait(RESTART_DELAY):
                return
            log.error(
                "the %s (pid %d) exited with %s; starting another", self.name, process.pid, code
            )
            self.process = self._start()

    def terminate(self) -> None:
        """SIGTERM to the child, which is not started again; returns at once."""
        self._stopping.set()
        process = self.process
        if process is not None and process.poll() is None:
            process.terminate()

    def stop(self) -> None:
        """The child terminated and waited for (killed past its stop bound)."""
        self.terminate()
        process = self.process
        if process is None or process.poll() is not None:
            return
        try:
            process.wait(self.stop_timeout + KILL_MARGIN)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def _supervised(name: str, start: Callable[[], subprocess.Popen[bytes]], stop_timeout: float):
    supervisor = ChildSupervisor(name, start, stop_timeout)
    supervisor.start()
    try:
        yield supervisor
    finally:
        supervisor.stop()


@contextlib.contextmanager
def runner_beside(enabled: bool, stop_timeout: float) -> Iterator[ChildSupervisor | None]:
    if not enabled:
        yield None
        return
    with _supervised("job runner", start_runner_process, stop_timeout) as supervisor:
        yield supervisor


@contextlib.contextmanager
def admin_beside(config: Settings, server: str) -> Iterator[ChildSupervisor | None]:
    """The admin process (segpixel.admin) for the workers this process is about to start: its
    socket in a new folder only this user may enter, named to the workers in their environment."""
    if not config.admin_process:
        yield None
        return
    folder = Path(tempfile.mkdtemp(prefix="segpixel-admin-"))  # mode 0700
    socket_path = folder / "admin.sock"
    os.environ[SOCKET_ENV] = str(socket_path)
    try:
        with _supervised(
            "admin process",
            lambda: start_admin_process(socket_path, server),
            config.stop_timeout_s + WORKER_KILL_MARGIN_S,
        ) as supervisor:
            yield supervisor
    finally:
        os.environ.pop(SOCKET_ENV, None)
        shutil.rmtree(folder, ignore_errors=True)
