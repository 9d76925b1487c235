"""Closing network clients within a bound, whatever the peer does.

A close can wait forever: redis-py's `disconnect()` awaits the stream's `wait_closed()`, which
never returns while unsent bytes sit in a socket the peer no longer reads (redis/redis-py#3941),
and RedisCluster's `aclose()` first waits for a lock that a stalled slot-map refresh may hold. A
worker that stops must exit all the same, so every close of a network client goes through
`close_within`: it waits up to a bound, then abandons the close (cancelled, not awaited) and
drops the sockets by force, and says so in the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

log = logging.getLogger("segpixel.closing")

CLOSE_TIMEOUT = 2.0  # seconds one client's close may take before its sockets are dropped


async def close_within(
    what: str,
    close: Callable[[], Awaitable[object]],
    timeout: float = CLOSE_TIMEOUT,
    force: Callable[[], object] | None = None,
) -> bool:
    """Run `close()` for at most `timeout` seconds; True when it completed cleanly.

    On a timeout the close is cancelled and left behind (a close that ignores cancellation
    cannot hold the caller), then `force()` drops what is left; an error is logged likewise.
    """
    task = asyncio.ensure_future(close())
    try:
        done, _ = await asyncio.wait({task}, timeout=max(timeout, 0.0))
    except asyncio.CancelledError:  # the caller's own bound ran out first: drop it all now
        task.cancel()
        _force(what, force)
        raise
    if not done:
        task.cancel()
        log.warning("%s did not close within %.1f s: abandoned", what, timeout)
    elif task.cancelled():
        log.warning("closing %s was cancelled", what)
    elif (exc := task.exception()) is not None:
        log.warning("closing %s failed: %s", what, exc or type(exc).__name__)
    else:
        return True
    _force(what, force)
    return False


def _force(what: str, force: Callable[[], object] | None) -> None:
    if force is None:
        return
    try:
        force()
    except Exception as exc:  # forcing is the last resort: never let it raise
        log.warning("dropping %s by force failed: %s", what, exc)


async def cancel_within(
    what: str, tasks: Iterable[asyncio.Task[Any]], timeout: float = CLOSE_TIMEOUT
) -> bool:
    """Cancel background tasks and wait at most `timeout` for them to end; True when all did.
    A task that outlives its cancellation (stuck in a close) is left behind, and logged."""
    tasks = [t for t in tasks if not t.done()]
    for task in tasks:
        task.cancel()
    if not tasks:
        return True
    _, pending = await asyncio.wait(tasks, timeout=max(timeout, 0.0))
    if pending:
        names = ", ".join(sorted(t.get_name() for t in pending))
        log.warning("%s: %s did not stop within %.1f s: abandoned", what, names, timeout)
    return not pending


async def in_daemon_thread(what: str, call: Callable[[], object], timeout: float) -> bool:
    """Run a blocking close (a database pool's dispose) in a daemon thread, waiting at most
    `timeout`: a thread stuck on a dead socket can neither hold the caller nor the exit."""
    finished = asyncio.get_running_loop().create_future()

    def run() -> None:
        error: BaseException | None = None
        try:
            call()
        except BaseException as exc:  # reported to the waiting task below
            error = exc
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            finished.get_loop().call_soon_threadsafe(_settle, finished, error)

    threading.Thread(target=run, name=f"close {what}", daemon=True).start()
    return await close_within(what, lambda: finished, timeout)


def _settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)


async def close_redis(what: str, client: Any, timeout: float = CLOSE_TIMEOUT) -> bool:
    """Close a redis-py asyncio client (`Redis` or `RedisCluster`) within `timeout`, then abort
    whatever sockets it still had. The sockets are taken before the close begins: redis-py
    (8.x) forgets a connection's stream before it waits on it, so afterwards a socket stuck
    with unsent bytes could no longer be found, and the call waiting on it would wait forever."""
    held = _RedisSockets(client)
    return await close_within(what, client.aclose, timeout, force=held.abort)


class _RedisSockets:
    """The connections of a redis-py asyncio client and their sockets (asyncio transports),
    as they were when taken. Duck-typed on redis-py's internals, so a version that renames them
    finds none (the sockets then close with the process)."""

    def __init__(self, client: Any):
        self.client = client
        self.transports = [
            transport
            for connection in _redis_connections(client)
            if (transport := _transport(connection)) is not None
        ]

    def abort(self) -> None:
        """Drop every socket taken, and every connection's stream now: a connection whose own
        disconnect was cancelled before it began still holds one (and warns when collected)."""
        connections = list(_redis_connections(self.client))
        self.transports += [t for c in connections if (t := _transport(c)) is not None]
        for transport in self.transports:
            with contextlib.suppress(Exception):
                transport.abort()
        for connection in connections:
            with contextlib.suppress(Exception):
                connection._close()  # the stream's close on an aborted socket does not wait


def _transport(connection: Any) -> Any:
    return getattr(getattr(connection, "_writer", None), "transport", None)


def _redis_connections(client: Any) -> Iterable[Any]:
    pool = getattr(client, "connection_pool", None)
    if pool is not None:  # a single Redis
        yield from list(getattr(pool, "_available_connections", ()))
        yield from list(getattr(pool, "_in_use_connections", ()))
    nodes_manager = getattr(client, "nodes_manager", None)
    if nodes_manager is not None:  # Redis Cluster: a pool of connections per node
        for cache in ("nodes_cache", "startup_nodes"):
            for node in list(getattr(nodes_manager, cache, {}).values()):
                yield from list(getattr(node, "_connections", ()))


class Deadline:
    """One time budget shared by the steps of a shutdown."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._end = clock() + seconds

    def left(self) -> float:
        return max(self._end - self._clock(), 0.0)
