"""Redis Cluster plumbing shared by the profile store and the load-stats reader.

URL: `redis+cluster://[USER:PASSWORD@]HOST:PORT[,HOST:PORT…]` (`rediss+cluster://` for TLS): the
startup nodes; the client learns the rest of the cluster from them and follows MOVED / ASK and
failovers by itself (redis-py's `redis.asyncio.cluster.RedisCluster`).

A Lua script on Cluster may touch keys of one node only, so the profile store splits a batch by
node, and inside a node's call keeps one idempotency marker per *slot* (profiles/redis_cluster.py).
Keys that must sit in a given slot get a hash tag made for that slot: `slot_tag(s)` is a short
string whose CRC16 lands in slot s (a table of 16,384, found once per process, ~0.3 s).

The load log (stats/redis_log.py) is a list per *log slot*: LOG_SLOTS are every 128th slot, and a
node's batches append to the log of the first log slot it serves (a node that serves no log slot —
more than 128 masters, or uneven ranges — uses its lowest slot, which the fold also visits). The
fold pops every log (LPOP with a count: each entry goes to exactly one folder), groups the popped
loads by segment and applies them with one FOLD_SEGMENT_LUA call per segment. Popping and applying
are two steps here (on a single Redis they are one script): a folder that dies between them loses
those counts (never profiles), and a folder whose apply fails pushes the groups it could not apply
back. Folders of one process take turns (a lock), so a report read in a process sees everything
that process's own fold loop had popped.
"""

from __future__ import annotations

import asyncio
import binascii
import contextlib
import weakref
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote

from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from segpixel.stats.redis_log import FOLD_ROUNDS, FOLD_SEGMENT_LUA

SLOTS = 16_384
LOG_SLOT_EVERY = 128
LOG_SLOTS = tuple(range(0, SLOTS, LOG_SLOT_EVERY))
FOLD_ENTRIES = 200  # entries popped from each log per round
CLUSTER_SCHEMES = ("redis+cluster://", "rediss+cluster://")

_tags: list[str] | None = None


def is_cluster_url(url: str) -> bool:
    return url.startswith(CLUSTER_SCHEMES)


def parse_cluster_url(url: str) -> dict[str, Any]:
    """The RedisCluster keyword arguments a `redis+cluster://` URL names."""
    scheme, _, rest = url.partition("://")
    auth, _, hosts = rest.rpartition("@")
    hosts = hosts.split("/", 1)[0].split("?", 1)[0]
    nodes = []
    for item in filter(None, (h.strip() for h in hosts.split(","))):
        host, sep, port = item.rpartition(":")
        if not sep or not port.isdigit() or not host:
            raise ValueError(
                "SEGPIXEL_PROFILE_URL: a redis+cluster:// URL lists HOST:PORT startup nodes "
                f"separated by commas; {item!r} is not HOST:PORT"
            )
        nodes.append(ClusterNode(host.strip("[]"), int(port)))
    if not nodes:
        raise ValueError("SEGPIXEL_PROFILE_URL: a redis+cluster:// URL needs HOST:PORT nodes")
    kwargs: dict[str, Any] = {"startup_nodes": nodes, "ssl": scheme == "rediss+cluster"}
    if auth:
        user, sep, password = auth.partition(":")
        kwargs["username"] = unquote(user) or None
        kwargs["password"] = unquote(password) if sep else None
    return kwargs


def make_cluster_client(url: str, timeout: float) -> RedisCluster:
    """No retries of our own (as for a single Redis, profiles/redis.py make_client); the client
    still follows MOVED / ASK, and refreshes its slot map after a node fails."""
    return RedisCluster(
        **parse_cluster_url(url),
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
        decode_responses=False,
    )


def slot_tag(slot: int) -> str:
    """A hash tag whose key slot is `slot`: `f"…{{{slot_tag(s)}}}"` lives in slot s."""
    global _tags
    if _tags is None:
        tags: list[str | None] = [None] * SLOTS
        left, n = SLOTS, 0
        while left:
            text = format(n, "x")
            found = binascii.crc_hqx(text.encode(), 0) % SLOTS
            if tags[found] is None:
                tags[found] = text
                left -= 1
            n += 1
        _tags = tags  # type: ignore[assignment]
    return _tags[slot]  # type: ignore[index]


def cluster_log_key(prefix: str, slot: int) -> str:
    return f"{prefix}l:log{{{slot_tag(slot)}}}"


def log_slot_of(client: RedisCluster, node_name: str) -> int:
    """The slot of the log that `node_name`'s batches append to (see the module's doc)."""
    slots = client.nodes_manager.slots_cache
    for slot in LOG_SLOTS:
        owners = slots.get(slot)
        if owners and owners[0].name == node_name:
            return slot
    return min(s for s, owners in slots.items() if owners and owners[0].name == node_name)


def all_log_slots(client: RedisCluster) -> list[int]:
    """Every slot a log may live in: LOG_SLOTS and each master's fallback."""
    slots = client.nodes_manager.slots_cache
    with_log = {slots[s][0].name for s in LOG_SLOTS if slots.get(s)}
    extra: dict[str, int] = {}
    for slot, owners in slots.items():
        if owners and owners[0].name not in with_log:
            name = owners[0].name
            extra[name] = min(slot, extra.get(name, slot))
    return [*LOG_SLOTS, *extra.values()]


_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


def _fold_lock(prefix: str) -> asyncio.Lock:
    per_loop = _locks.setdefault(asyncio.get_running_loop(), {})
    return per_loop.setdefault(prefix, asyncio.Lock())


async def fold_cluster(client: RedisCluster, prefix: str, rounds: int = FOLD_ROUNDS) -> None:
    """Fold every log into the counters until the logs are empty (or `rounds` rounds)."""
    async with _fold_lock(prefix):
        await client.initialize()
        for _ in range(rounds):
            keys = [cluster_log_key(prefix, s) for s in all_log_slots(client)]
            pipe = client.pipeline(transaction=False)
            for key in keys:
                pipe.execute_command("LPOP", key, FOLD_ENTRIES)
            popped = await pipe.execute()
            by_segment: dict[bytes, list[bytes]] = {}
            full = False
            for entries in popped:
                if not entries:
                    continue
                full = full or len(entries) == FOLD_ENTRIES
                for entry in entries:
                    for group in entry.split(b";"):
                        if group:
                            by_segment.setdefault(group.split(b",", 1)[0], []).append(group)
            if by_segment:
                await _apply(client, prefix, by_segment)
            if not full:
                return


async def _apply(client: RedisCluster, prefix: str, by_segment: dict[bytes, list[bytes]]) -> None:
    segments = list(by_segment)
    pipe = client.pipeline(transaction=False)
    for sid in segments:
        base = f"{prefix}l{{{sid.decode()}}}:"
        pipe.execute_command("EVAL", FOLD_SEGMENT_LUA, 1, base, prefix, b";".join(by_segment[sid]))
    try:
        results: Sequence[Any] = await pipe.execute(raise_on_error=False)
    except Exception:
        results = [None] * len(segments)  # nothing is known to be applied
    failed = [sid for sid, r in zip(segments, results, strict=True) if r != 0]
    if not failed:
        return
    # Give back what was not applied (a segment's call is all or nothing, but one whose reply
    # was lost may have been applied: its loads then count twice rather than never).
    back = b";".join(b";".join(by_segment[sid]) for sid in failed)
    with contextlib.suppress(RedisError, OSError):
        await client.execute_command("RPUSH", cluster_log_key(prefix, LOG_SLOTS[0]), back)
    error = next((r for r in results if isinstance(r, BaseException)), None)
    raise ConnectionError(f"folding {len(failed)} segments' loads failed: {error}")
