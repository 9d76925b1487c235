"""Password hashing with scrypt (a slow, memory-hard KDF from the standard library), and the
bounded pool every check and hash of a server runs in.

scrypt costs tens of milliseconds and 16 MiB a call: run on a worker's event loop it holds every
pixel of that worker, and run on an unbounded pool a flood of logins costs 16 MiB a login at
once. A `PasswordPool` runs at most `threads` at a time and queues at most `queue` more; a check
beyond that is refused at once (429) rather than queued without end.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import os
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from segpixel.errors import RateLimited

T = TypeVar("T")

_N, _R, _P = 2**14, 8, 1  # ~16 MiB and tens of milliseconds per guess


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
            maxmem=128 * 1024 * 1024,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def _nice_thread(nice: int) -> None:
    """Lower this thread's CPU priority (Linux keeps one per thread): the worker's event loop,
    which serves pixels, runs before a hash when both want the CPU."""
    if nice and hasattr(os, "setpriority"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)


def generate_password() -> str:
    return secrets.token_urlsafe(15)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


class PasswordPool:
    def __init__(self, threads: int = 2, queue: int = 64, nice: int = 0):
        self.limit = threads + queue
        self._executor = ThreadPoolExecutor(
            threads,
            thread_name_prefix="segpixel-passwords",
            initializer=_nice_thread,
            initargs=(nice,),
        )
        self._lock = threading.Lock()
        self.in_flight = 0  # checks running or queued

    def _admit(self) -> None:
        with self._lock:
            if self.in_flight >= self.limit:
                raise RateLimited("too many password checks at once; retry after 1 s", 1)
            self.in_flight += 1

    def _done(self) -> None:
        with self._lock:
            self.in_flight -= 1

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        """`fn(*args)` on the pool, awaited from the event loop."""
        self._admit()
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)
        finally:
            self._done()

    def call(self, fn: Callable[..., T], *args: object) -> T:
        """`fn(*args)` on the pool, from a thread that may block (a sync route's)."""
        self._admit()
        try:
            return self._executor.submit(fn, *args).result()
        finally:
            self._done()

    def hash(self, password: str) -> str:
        return self.call(hash_password, password)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
