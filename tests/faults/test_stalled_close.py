"""A close that the peer never lets finish still ends within its bound (segpixel.closing).

The fault: a Redis that stops reading its sockets (here: the private server, or every master of a
private Redis Cluster, frozen with SIGSTOP) while a large write sits in the client's send buffer.
redis-py's disconnect then waits for that buffer to drain (redis/redis-py#3941) — for as long as
the client's own connect timeout, which these tests set to 60 s so that only segpixel's bound can
end the close. Without the bound each close below would take a minute; the tests allow 20 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from segpixel.closing import CLOSE_TIMEOUT
from segpixel.domain.profile import Add, Mutation
from segpixel.edge.runtime import EdgeRuntime
from segpixel.errors import StoreUnavailable
from segpixel.profiles.factory import make_profile_store
from segpixel.profiles.redis import RedisProfileStore
from segpixel.settings import Settings
from tests.pixel.test_store_fault import PrivateRedis
from tests.support.redis_cluster import LocalCluster, free_base_port

DRIVER_TIMEOUT = 60.0  # redis-py's own bound on a disconnect: far beyond what the tests wait
WAIT_AT_MOST = 20.0  # a close that takes longer has not been bounded by segpixel
BIG = "x" * (48 << 20)  # more than the kernel's socket buffers hold: the rest stays queued


def big_write(user_id: int) -> list[Mutation]:
    now = int(time.time())
    return [Mutation(user_id, now, (Add(1, now + 3600),), partner_uids=(("big", BIG),))]


@contextlib.contextmanager
def frozen(pids: list[int]) -> Iterator[None]:
    """The processes stop reading their sockets (SIGSTOP) until the block ends (SIGCONT)."""
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)


async def stuck_in_send(store: RedisProfileStore, user_id: int) -> asyncio.Task[None]:
    """A write that the frozen server will never take, started and given time to fill the
    socket buffers; it is still running when returned."""
    task = asyncio.create_task(store.apply(big_write(user_id)))
    await asyncio.sleep(1.0)
    assert not task.done(), "the write to a frozen Redis should still be waiting"
    return task


async def closes_in_bound(close, what: str) -> float:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    try:
        await asyncio.wait_for(close(), WAIT_AT_MOST)
    except TimeoutError:
        pytest.fail(f"{what} did not close within {WAIT_AT_MOST} s: the close is not bounded")
    return time.monotonic() - started


@pytest.fixture
def frozen_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def private_cluster(tmp_path: Path) -> Iterator[LocalCluster]:
    cluster = LocalCluster(tmp_path / "cluster", free_base_port())
    try:
        cluster.start()
    except (RuntimeError, OSError) as exc:
        cluster.stop()
        pytest.fail(f"the private Redis Cluster did not start: {exc}", pytrace=False)
    yield cluster
    cluster.stop()


async def test_redis_store_closes_within_its_bound_while_redis_reads_nothing(
    frozen_redis: PrivateRedis,
) -> None:
    store = RedisProfileStore(frozen_redis.url, prefix="stall:", timeout=DRIVER_TIMEOUT)
    await store.open()
    await store.apply([Mutation(1, int(time.time()))])  # connected, and it works
    assert frozen_redis.proc is not None
    with frozen([frozen_redis.proc.pid]):
        write = await stuck_in_send(store, 2)
        took = await closes_in_bound(store.close, "the Redis profile store")
        # The sockets were dropped: the stuck write fails instead of waiting for its timeout.
        with pytest.raises(StoreUnavailable):
            await asyncio.wait_for(write, WAIT_AT_MOST)
    assert took < CLOSE_TIMEOUT + 5, f"closing took {took:.1f} s"


async def test_cluster_store_closes_within_its_bound_while_masters_read_nothing(
    private_cluster: LocalCluster,
) -> None:
    url = f"redis+cluster://{private_cluster.startup_nodes}"
    store = make_profile_store(
        url, redis_prefix="stall:", timeout=DRIVER_TIMEOUT, redis_min_replicas=0
    )
    await store.open()
    await store.apply([Mutation(1, int(time.time()))])
    masters = [private_cluster._pid(port) for port in private_cluster.masters()]
    with frozen([pid for pid in masters if pid]):
        write = await stuck_in_send(store, 2)  # type: ignore[arg-type]
        took = await closes_in_bound(store.close, "the Redis Cluster profile store")
        write.cancel()
        await asyncio.gather(write, return_exceptions=True)
    assert took < CLOSE_TIMEOUT + 5, f"closing took {took:.1f} s"


async def test_a_worker_stops_within_the_stop_timeout_while_redis_reads_nothing(
    frozen_redis: PrivateRedis, tmp_path: Path
) -> None:
    """The whole worker (writer, stores, catalog) stops within SEGPIXEL_STOP_TIMEOUT_S while a
    batch is stuck in the socket (that batch's request gets no answer: nothing was claimed)."""
    from segpixel.catalog.db import Catalog
    from segpixel.catalog.migrate import upgrade

    settings = Settings(
        data_dir=tmp_path / "data",
        profile_url=frozen_redis.url,
        redis_prefix="stall:",
        store_timeout_ms=int(DRIVER_TIMEOUT * 1000),
        stop_timeout_s=3,
    ).resolved()
    catalog = Catalog(settings.catalog_url or "")
    upgrade(catalog.engine)
    runtime = EdgeRuntime(settings, catalog)
    await runtime.start()
    assert frozen_redis.proc is not None
    with frozen([frozen_redis.proc.pid]):
        pending = asyncio.create_task(runtime.writer.submit(big_write(3)[0]))
        await asyncio.sleep(1.0)
        assert not pending.done()
        took = await closes_in_bound(runtime.stop, "the worker")
        pending.cancel()
        await asyncio.gather(pending, return_exceptions=True)
    assert took < settings.stop_timeout_s + 2, f"stopping took {took:.1f} s"
