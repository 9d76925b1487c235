"""What only Redis Cluster has: a batch split by node, a marker per slot, WAIT, the URL.

The contract every store keeps (tests/integration/test_profile_stores.py) runs on the cluster too.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import secrets
import time
from collections.abc import AsyncIterator

import pytest
from redis.crc import key_slot

from segpixel.domain.loads import day_number, utc_day
from segpixel.domain.profile import Add, Mutation
from segpixel.errors import StoreUnavailable
from segpixel.profiles.base import BatchToken
from segpixel.profiles.factory import make_profile_store
from segpixel.profiles.redis_cluster import RedisClusterProfileStore
from segpixel.stats.redis import RedisLoadStats
from segpixel.stats.redis_cluster import parse_cluster_url

pytestmark = pytest.mark.asyncio(loop_scope="session")

PREFIX = f"spc:{os.getpid()}:{secrets.token_hex(3)}:"
T0 = (int(time.time()) // 60 + 24 * 60) * 60 + 17  # a day ahead, as in the contract tests
_uids = itertools.count(10_000)
_prefixes = itertools.count()


@pytest.fixture
async def cluster_store(redis_cluster: str) -> AsyncIterator[RedisClusterProfileStore]:
    made = RedisClusterProfileStore(redis_cluster, prefix=f"{PREFIX}{next(_prefixes)}:", timeout=2)
    await made.open()
    yield made
    await made.close()


def node_of(store: RedisClusterProfileStore, uid: int) -> str:
    slots = store._cluster().nodes_manager.slots_cache
    return slots[key_slot(store.key(uid).encode())][0].name


async def test_a_batch_replayed_after_a_partial_write_applies_only_what_was_missing(
    cluster_store: RedisClusterProfileStore,
) -> None:
    """The writer journals a batch that failed on one node and replays it whole with the same
    token: the slots that took it skip it (their markers), the rest apply it — once each."""
    users = [next(_uids) for _ in range(60)]
    batch = [Mutation(u, T0, (Add(7, T0 + 3600),)) for u in users]
    nodes = {node_of(cluster_store, u) for u in users}
    assert len(nodes) == 3, "60 users should spread over the 3 masters"
    first = sorted(nodes)[0]
    token = BatchToken("partial", 1)
    # What a failure on the other two nodes leaves behind: only `first`'s part applied.
    await cluster_store.apply(
        [m for m in batch if node_of(cluster_store, m.user_id) == first], token
    )

    await cluster_store.apply(batch, token)  # the replay
    await cluster_store.apply(batch, token)  # and a replay whose reply was lost

    counts = [
        {m.segment_id: m.count for m in (await cluster_store.read(u, T0)).memberships}.get(7)
        for u in users
    ]
    assert counts == [1] * len(users)
    stats = RedisLoadStats(cluster_store.url, prefix=cluster_store.prefix)
    await stats.open()
    try:
        facts = await stats.facts([7], utc_day(T0), utc_day(T0), daily_uniques=True)
    finally:
        await stats.close()
    assert facts.loads == {(7, day_number(utc_day(T0)), "pixel"): len(users)}
    assert facts.daily_uniques == {(7, day_number(utc_day(T0))): len(users)}


async def test_a_write_fewer_replicas_acknowledge_is_not_stored(redis_cluster: str) -> None:
    """Each master has one replica: asking for two makes every WAIT fall short."""
    store = RedisClusterProfileStore(
        # WAIT gives up at 0.8 × the timeout: 2 s leaves a busy machine 0.4 s for the reply, so
        # the store's own sentence is what fails, not the socket
        redis_cluster,
        prefix=f"{PREFIX}{next(_prefixes)}:",
        timeout=2.0,
        min_replicas=2,
    )
    await store.open()
    try:
        with pytest.raises(StoreUnavailable, match="1 of 2 replicas acknowledged"):
            await store.apply([Mutation(next(_uids), T0, (Add(7, T0 + 3600),))])
    finally:
        await store.close()


async def test_a_master_that_forgot_the_script_gets_its_text(
    cluster_store: RedisClusterProfileStore,
) -> None:
    """A replica that takes over never saw SCRIPT LOAD (it is not replicated)."""
    cluster_store._sha = "0" * 40
    users = [next(_uids) for _ in range(30)]
    await cluster_store.apply([Mutation(u, T0, (Add(7, T0 + 3600),)) for u in users])
    for u in users:
        assert len((await cluster_store.read(u, T0)).memberships) == 1


async def test_an_unreachable_cluster_is_store_unavailable_not_a_hang() -> None:
    store = RedisClusterProfileStore("redis+cluster://127.0.0.1:1,127.0.0.1:2", timeout=0.25)
    async with asyncio.timeout(5):
        with pytest.raises(StoreUnavailable):
            await store.open()
        with pytest.raises(StoreUnavailable):
            await store.apply([Mutation(1, T0, (Add(7, T0 + 3600),))])
        with pytest.raises(StoreUnavailable):
            await store.ping()
    await store.close()


async def test_the_factory_reads_a_cluster_url() -> None:
    made = make_profile_store(
        "redis+cluster://u:s3cret@10.0.0.1:7000,10.0.0.2:7001", redis_prefix="x:", timeout=0.5
    )
    assert isinstance(made, RedisClusterProfileStore)
    assert (made.prefix, made.timeout, made.min_replicas) == ("x:", 0.5, 1)
    assert make_profile_store("redis+cluster://h:1", redis_min_replicas=0).min_replicas == 0  # type: ignore[attr-defined]
    kwargs = parse_cluster_url("rediss+cluster://u:s3cret@10.0.0.1:7000,[::1]:7001")
    assert [(n.host, n.port) for n in kwargs["startup_nodes"]] == [
        ("10.0.0.1", 7000),
        ("::1", 7001),
    ]
    assert (kwargs["username"], kwargs["password"], kwargs["ssl"]) == ("u", "s3cret", True)


@pytest.mark.parametrize("url", ["redis+cluster://", "redis+cluster://u:s3cret@host"])
async def test_a_bad_cluster_url_names_the_setting(url: str) -> None:
    with pytest.raises(ValueError, match="SEGPIXEL_PROFILE_URL") as info:
        make_profile_store(url)
    assert "s3cret" not in str(info.value)
