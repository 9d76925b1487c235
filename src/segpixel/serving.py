"""What `segpixel serve` does around the HTTP server: one server per port, a job runner beside it.

- The port is checked before the server starts: granian's workers bind with SO_REUSEPORT, which
  would let a second server share a port already in use and split its traffic (with other users
  and data) without a word.
- The job runner (segpixel.jobs) is a child process started before the workers and restarted if
  it dies; it is stopped after them, and stops by itself if this process disappears.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import socket
import subprocess
import threading
from collections.abc import Iterator

from segpixel.jobs.process import start_runner_process

log = logging.getLogger("segpixel.serve")
RESTART_DELAY = 1.0  # seconds before a job runner that died is started again
KILL_MARGIN = 2.0  # past SEGPIXEL_STOP_TIMEOUT_S, a runner still there is killed


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


class RunnerSupervisor:
    """Keeps one `segpixel jobs` child running while the server serves."""

    def __init__(self, stop_timeout: float) -> None:
        self.stop_timeout = stop_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._watch: threading.Thread | None = None

    def start(self) -> None:
        self.process = start_runner_process()
        self._watch = threading.Thread(target=self._keep_running, name="job-runner", daemon=True)
        self._watch.start()

    def _keep_running(self) -> None:
        while not self._stopping.is_set():
            process = self.process
            assert process is not None
            code = process.wait()
            if self._stopping.wait(RESTART_DELAY):
                return
            log.error("the job runner (pid %d) exited with %s; starting another", process.pid, code)
            self.process = start_runner_process()

    def stop(self) -> None:
        self._stopping.set()
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(self.stop_timeout + KILL_MARGIN)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def runner_beside(enabled: bool, stop_timeout: float) -> Iterator[RunnerSupervisor | None]:
    if not enabled:
        yield None
        return
    supervisor = RunnerSupervisor(stop_timeout)
    supervisor.start()
    try:
        yield supervisor
    finally:
        supervisor.stop()
