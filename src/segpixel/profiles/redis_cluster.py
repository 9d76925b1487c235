"""Profiles on Redis Cluster: the layout of profiles/redis.py, a batch split by node.

URL `redis+cluster://HOST:PORT[,HOST:PORT…]` (stats/redis_cluster.py parses it). A user is one
key (`{prefix}{uid in base 62}`), so one slot, as on a single Redis. What changes is the batch:

- **One script call per node.** The batch's mutations are grouped by the node that serves their
  user's slot, and by slot inside a node. Each node gets one EVALSHA of the same Lua functions as
  the single-Redis script, with a driver that walks the slot groups; the script is flagged
  `allow-cross-slot-keys` (Redis ≥ 7.0), so it may touch keys of several slots as long as they
  live on that node. KEYS[1] is the node's load log (it routes the call); user keys and markers
  are arguments. All nodes' calls go out at once (a cluster pipeline: a connection per node).
- **A marker per slot.** The batch's (writer, seq) token is checked and recorded per slot group:
  key `{prefix}w:<writer>{<tag of the slot>}` holds the last seq applied to that slot. A batch
  that failed on one node and succeeded on another is journaled whole and replayed with the same
  token: the slots that took it skip it, the others apply it. Slots do not move when a replica
  takes over, so a replay finds the markers wherever the slot now lives. Cost: up to 16,384
  small keys per writer (each `segpixel serve` process is a writer), kept 30 days.
- **Loads** go to the node's log in the same call, only for the slot groups applied
  (stats/redis_cluster.py folds the logs).
- **Durability: WAIT.** Replication is asynchronous: a master that dies right after answering
  takes the write with it. After a node's call, `WAIT <min replicas> <timeout>` on the same
  connection; fewer acknowledgements than SEGPIXEL_REDIS_MIN_REPLICAS (default 1) and the batch
  counts as not stored — StoreUnavailable, so the writer journals it and replays it (idempotently)
  once the store answers again. Consequence: while a master has no live replica (e.g. after its
  replica took over and before the old master rejoins), writes go to the journal.
- Any error, a redirect (MOVED / ASK: a slot moved under the call) or a missing script makes the
  client refresh its slot map; the batch is reported unstored and is replayed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from typing import Any, TypeVar

from redis.asyncio.cluster import RedisCluster
from redis.crc import key_slot
from redis.exceptions import NoScriptError, RedisClusterException, RedisError

from segpixel.closing import close_redis
from segpixel.domain.profile import Mutation
from segpixel.errors import StoreUnavailable
from segpixel.profiles.base import BatchToken
from segpixel.profiles.redis import (
    _LUA_FUNCTIONS,
    FOLD_SECONDS,
    RedisProfileStore,
    pack_batch,
)
from segpixel.profiles.redis import log as profiles_log
from segpixel.profiles.redis_durability import persistence_warnings, read_persistence
from segpixel.stats.redis_cluster import (
    cluster_log_key,
    fold_cluster,
    log_slot_of,
    make_cluster_client,
    parse_cluster_url,
    slot_tag,
)

# KEYS[1]: the node's load log. ARGV[1]: the batch's seq (0: no token). ARGV[2]: slot groups.
# Then per group: marker key, numbers blob (as the single-Redis ARGV[1]), load entry ('' if
# none), #users, #strings, the users' keys, the partner-id strings.
_CLUSTER_APPLY_LUA = (
    "#!lua flags=allow-cross-slot-keys\n"
    + _LUA_FUNCTIONS
    + """
local seq = tonumber(ARGV[1])
local i, applied, entries = 3, 0, {}
for _ = 1, tonumber(ARGV[2]) do
  local marker, gblob, entry = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local users, strings = tonumber(ARGV[i + 3]), tonumber(ARGV[i + 4])
  local first = i + 5
  i = first + users + strings
  local done = false
  if seq > 0 then done = seq <= tonumber(redis.call('GET', marker) or '0') end
  if not done then
    blob, pos, sarg = gblob, 1, first + users
    for k = first, first + users - 1 do apply_user(ARGV[k]) end
    if #entry > 0 then entries[#entries + 1] = entry end
    if seq > 0 then redis.call('SET', marker, seq, 'EX', MARKER_KEPT) end
    applied = applied + users
  end
end
if #entries > 0 then redis.call('RPUSH', KEYS[1], table.concat(entries, ';')) end
return applied
"""
)


_ERRORS = (RedisError, RedisClusterException, OSError)
T = TypeVar("T")


class RedisClusterProfileStore(RedisProfileStore):
    """Profiles in Redis Cluster: one script call per node per batch, a marker per slot."""

    name = "redis-cluster"

    def __init__(self, url: str, prefix: str = "sp:", timeout: float = 0.25, min_replicas: int = 1):
        super().__init__(url, prefix, timeout)
        parse_cluster_url(url)  # a malformed URL fails here, with a sentence
        self.min_replicas = min_replicas
        # WAIT must give up within the caller's timeout, leaving time for the reply.
        self.wait_ms = max(1, int(timeout * 800))

    async def open(self) -> None:
        self._client = make_cluster_client(self.url, self.timeout)
        slot_tag(0)  # build the slot tag table now, not on the first pixel
        self._sha = await self._call(self._client.script_load(_CLUSTER_APPLY_LUA))
        self._folds = asyncio.create_task(self._fold_loop(), name="redis-cluster-load-fold")

    async def apply(self, batch: Sequence[Mutation], token: BatchToken | None = None) -> None:
        if not batch:
            return
        client = self._cluster()
        try:
            await client.initialize()  # a no-op unless an error asked for a fresh slot map
            plan = self._plan(client, batch, token)
            results = dict(zip(plan, await self._run(client, plan, use_sha=True), strict=True))
            redo = {n: plan[n] for n, r in results.items() if isinstance(r, NoScriptError)}
            if redo:  # a master that took over never saw SCRIPT LOAD: send the text
                results.update(zip(redo, await self._run(client, redo, use_sha=False), strict=True))
            self._check(client, plan, results)
        except StoreUnavailable:
            await self._refresh(client)
            raise
        except _ERRORS as exc:
            await self._refresh(client)
            raise StoreUnavailable(f"profile store {self._where()}: {exc}") from exc

    def _plan(
        self, client: RedisCluster, batch: Sequence[Mutation], token: BatchToken | None
    ) -> dict[str, tuple[Any, str, list[Any]]]:
        """node name → (node, its log key, its call's ARGV)."""
        slots_cache = client.nodes_manager.slots_cache
        groups: dict[str, dict[int, list[tuple[Mutation, str]]]] = {}
        nodes: dict[str, Any] = {}
        for m in batch:
            key = self.key(m.user_id)
            slot = key_slot(key.encode())
            owners = slots_cache.get(slot)
            if not owners:
                raise StoreUnavailable(f"profile store {self._where()}: slot {slot} has no master")
            node = owners[0]
            nodes[node.name] = node
            groups.setdefault(node.name, {}).setdefault(slot, []).append((m, key))
        seq = token.seq if token else 0
        marker = f"{self.prefix}w:{token.writer if token else '-'}"
        plan = {}
        for name, by_slot in groups.items():
            args: list[Any] = [seq, len(by_slot)]
            for slot, items in by_slot.items():
                mutations = [m for m, _ in items]
                users = [k for _, k in items]
                blob, strings = pack_batch(mutations)
                args += (
                    f"{marker}{{{slot_tag(slot)}}}",
                    blob,
                    self._loads.entry(mutations, users),
                    len(users),
                    len(strings),
                    *users,
                    *strings,
                )
            log = cluster_log_key(self.prefix, log_slot_of(client, name))
            plan[name] = (nodes[name], log, args)
        return plan

    async def _run(
        self, client: RedisCluster, plan: dict[str, tuple[Any, str, list[Any]]], use_sha: bool
    ) -> list[Any]:
        """Every node's call (then its WAIT, on the same connection) in one cluster pipeline;
        one result per node: the call's reply, or the first error."""
        pipe = client.pipeline(transaction=False)
        for node, log, args in plan.values():
            if use_sha:
                pipe.execute_command("EVALSHA", self._sha, 1, log, *args)
            else:
                pipe.execute_command("EVAL", _CLUSTER_APPLY_LUA, 1, log, *args)
            if self.min_replicas:
                pipe.execute_command("WAIT", self.min_replicas, self.wait_ms, target_nodes=node)
        replies = await pipe.execute(raise_on_error=False)
        step = 2 if self.min_replicas else 1
        out = []
        for n in range(len(plan)):
            reply = replies[n * step]
            if not isinstance(reply, BaseException) and self.min_replicas:
                acked = replies[n * step + 1]
                if isinstance(acked, BaseException):
                    reply = acked
                elif int(acked) < self.min_replicas:
                    reply = StoreUnavailable(
                        f"{acked} of {self.min_replicas} replicas acknowledged the write"
                    )
            out.append(reply)
        return out

    def _check(
        self,
        client: RedisCluster,
        plan: dict[str, tuple[Any, str, list[Any]]],
        results: dict[str, Any],
    ) -> None:
        for name, reply in results.items():
            if isinstance(reply, BaseException):
                raise StoreUnavailable(f"profile store {self._where()} ({name}): {reply}")
        # A redirect was followed on another connection, where WAIT did not look: not confirmed.
        slots_cache = client.nodes_manager.slots_cache
        for name, (_, log, _) in plan.items():
            owners = slots_cache.get(key_slot(log.encode()))
            if not owners or owners[0].name != name:
                raise StoreUnavailable(f"profile store {self._where()}: slots moved during a write")

    async def ping(self) -> None:
        """Every master answers (a batch may need any of them)."""
        client = self._cluster()
        try:
            await client.initialize()
            await client.ping(target_nodes=RedisCluster.PRIMARIES)
        except _ERRORS as exc:
            await self._refresh(client)
            raise StoreUnavailable(f"profile store {self._where()}: {exc}") from exc

    async def durability_warnings(self) -> list[str]:
        """With replicas acknowledging every batch (WAIT), a master's crash loses nothing
        acknowledged; without (SEGPIXEL_REDIS_MIN_REPLICAS=0) each master's own persistence
        is all there is."""
        if self.min_replicas:
            return []
        client = self._cluster()
        warnings: dict[str, None] = {}  # the same text from several masters, once
        for node in client.get_primaries():
            settings = await self._call(read_persistence(_OnNode(client, node)))
            for warning in persistence_warnings(settings):
                warnings.setdefault(
                    f"SEGPIXEL_REDIS_MIN_REPLICAS is 0 (no replica acknowledges a batch), and on "
                    f"a master: {warning}"
                )
        return list(warnings)

    async def _fold_loop(self) -> None:
        client = self._cluster()
        while True:
            await asyncio.sleep(FOLD_SECONDS)
            try:
                await fold_cluster(client, self.prefix)
            except _ERRORS:
                continue  # the store is down: the writer journals; the logs wait
            except Exception:  # never let the loop die: the logs would only grow
                profiles_log.exception("folding the load logs failed")

    async def _refresh(self, client: RedisCluster) -> None:
        """Forget the slot map and connections: the next call asks the cluster again."""
        await close_redis(f"profile store {self._where()} (slot map refresh)", client)

    async def _call(self, awaitable: Awaitable[T]) -> T:
        """As for a single Redis; the cluster client has an error class of its own too."""
        try:
            return await awaitable
        except _ERRORS as exc:
            raise StoreUnavailable(f"profile store {self._where()}: {exc}") from exc

    def _where(self) -> str:
        return self.url.rpartition("@")[2]

    def _cluster(self) -> RedisCluster:
        return self._redis()  # type: ignore[return-value]


class _OnNode:
    """The cluster client's commands aimed at one node (what read_persistence calls)."""

    def __init__(self, client: RedisCluster, node: Any):
        self.client, self.node = client, node

    async def config_get(self, *patterns: str) -> Any:
        return await self.client.config_get(*patterns, target_nodes=self.node)

    async def info(self, section: str) -> Any:
        return await self.client.info(section, target_nodes=self.node)
