"""The scaling profile store: Redis ≥ 7.0 / Valkey, one hash per user.

Layout (key `{prefix}{uid in base 62}`, e.g. `sp:8Faf66QvRbq`, so every operation on a user touches
one key, one Cluster slot, and no call spans keys; a user key never holds a ':', so other keys
under the prefix can use one):

- field `<segment id>` (decimal) → a membership record, little-endian. The full record is u32
  `expires_at, first_added, value (0 = none), last_added, count` followed by up to 15 earlier add
  times, newest first, each a u16 count of minutes before last_added's minute. Redis keeps a
  small hash as one compact listpack only while every value is ≤ 64 bytes
  (hash-max-listpack-value), and converts it for good to a hash table 3–4 times larger
  otherwise: with u16 offsets the largest record is 50 bytes (with u32 minutes it would be 80).
  Should an earlier add be more than 65,535 minutes (45 days) older than the last one, or carry
  a later clock (two processes, a minute boundary), it has no u16 offset: then the top bit of
  `count` is set and the times are u32 epoch minutes instead.
  A membership added once (count 1, so last_added = first_added and no earlier adds) keeps only
  `expires_at, first_added[, value]`: 8 or 12 bytes instead of 20. So a user with five such
  memberships costs about 146 bytes (MEMORY USAGE, Redis 7.0) against 232 with fixed 20-byte
  records.
  The uid in base 62 (11 characters, against 19 in decimal) puts the key string in a smaller
  allocation: 186 bytes of `used_memory` per user with five memberships, against 204.
- field `t<segment id>` → the text value a text query-string segment kept from the ad call
  (SPEC §5.1), lower-cased, at most 60 bytes; it lives and dies with its membership, and only
  those segments have one (so a pixel user pays nothing for it).
- field `s<usersync id>` → u32 time of the last sync with that partner (kept 7 days).
- field `p:<partner>` → u32 time it was set, then the partner's id for this user (kept 180 days).

Redis 7.0 has no per-field TTL, so a Lua script applies each mutation server-side: it prunes what
has expired, writes what changed, and sets the key's EXPIREAT to the latest expiry it holds. A
whole batch goes in one script call (its numbers packed in one binary argument), so the client
packs one command per batch instead of one per mutation. The script mirrors
`domain.profile.apply_add` / `apply_mutation`; the contract tests compare the two. The same
call logs the batch's segment loads (one RPUSH, under the batch's marker), and a task folds the
log into the load counters every second (stats/redis_log.py).
"""

from __future__ import annotations

import asyncio
import logging
import struct
import time
from collections.abc import Awaitable, Sequence
from typing import TypeVar

import redis.asyncio as aioredis
from hiredis import pack_command
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import NoScriptError, RedisError

from segpixel.closing import cancel_within, close_redis
from segpixel.domain.profile import (
    RECENT_ADDS_KEPT,
    Membership,
    Mutation,
    Profile,
)
from segpixel.errors import StoreUnavailable
from segpixel.metrics import Registry
from segpixel.profiles.base import TOKENS_KEPT_SECONDS, BatchToken
from segpixel.profiles.redis_durability import EmptiedWatch, persistence_warnings, read_persistence
from segpixel.stats.redis_log import FOLD_LUA, LoadLogger, fold_all, log_key

MARKER_KEPT_SECONDS = TOKENS_KEPT_SECONDS
SYNC_KEPT_SECONDS = 7 * 86_400  # SPEC §4.3: a partner is re-synced after 7 days
PARTNER_UID_KEPT_SECONDS = 180 * 86_400  # as long as our own cookie lives
FOLD_SECONDS = 1.0
log = logging.getLogger("segpixel.profiles")

_SHORT = struct.Struct("<II")  # expires_at, added_at (count 1, no value)
_SHORT_VALUE = struct.Struct("<III")  # expires_at, added_at, value (count 1)
_FULL = struct.Struct("<IIIII")  # expires_at, first_added, value, last_added, count
_U32 = struct.Struct("<I")
_WIDE = 1 << 31  # flag in `count`: earlier adds stored as u32 epoch minutes, not u16 offsets

# KEYS[1]: the writer's marker, `{prefix}w:<writer>`, holding the last batch seq it applied.
# KEYS[2]: the load log, `{prefix}l:log` (stats/redis_log.py).
# KEYS[3…]: the users' hashes, one per mutation, in batch order (a user may appear twice).
# ARGV[1]: the numbers of every mutation, little-endian u32, in batch order: at, #adds,
#   (segment, expires_at, value or 0)…, #removes, segment…, #syncs, usersync id…, #partner ids,
#   #text values, segment….
# ARGV[2]: the batch's seq in its writer's sequence (0: no token).
# ARGV[3]: the batch's loads, as one log entry ('' when it has none).
# ARGV[4…]: each mutation's strings in batch order: its partner ids (partner, id)…, then its
#   text values.
# A batch whose seq the marker already holds was applied (its reply was lost): it is skipped, so
# replaying the journal never applies a batch twice.
# One call applies a whole batch on a single Redis; Redis Cluster has a driver of its own around
# the same functions (profiles/redis_cluster.py: one call per node, a marker per slot).
_LUA_CONSTANTS = (
    f"local KEPT = {RECENT_ADDS_KEPT}\n"
    f"local SYNC_KEPT, PUID_KEPT = {SYNC_KEPT_SECONDS}, {PARTNER_UID_KEPT_SECONDS}\n"
    f"local WIDE = {_WIDE}\n"
    f"local MARKER_KEPT = {MARKER_KEPT_SECONDS}\n"
)
_LUA_FUNCTIONS = (
    _LUA_CONSTANTS
    + """
local blob, pos, sarg = ARGV[1], 1, 4
local function u32()
  local v
  v, pos = struct.unpack('<I4', blob, pos)
  return v
end
local function str()
  sarg = sarg + 1
  return ARGV[sarg - 1]
end

local function decode(rec)
  local n = #rec
  if n == 8 then
    local exp, first = struct.unpack('<I4I4', rec)
    return {exp = exp, first = first, val = 0, last = first, count = 1, recent = {}}
  elseif n == 12 then
    local exp, first, val = struct.unpack('<I4I4I4', rec)
    return {exp = exp, first = first, val = val, last = first, count = 1, recent = {}}
  end
  local exp, first, val, last, count = struct.unpack('<I4I4I4I4I4', rec)
  local recent = {}
  if count >= WIDE then
    count = count - WIDE
    for p = 21, n, 4 do recent[#recent + 1] = struct.unpack('<I4', rec, p) * 60 end
  else
    local base = last - last % 60
    for p = 21, n, 2 do recent[#recent + 1] = base - struct.unpack('<I2', rec, p) * 60 end
  end
  return {exp = exp, first = first, val = val, last = last, count = count, recent = recent}
end

local function encode(m)
  if m.count == 1 then
    if m.val == 0 then return struct.pack('<I4I4', m.exp, m.first) end
    return struct.pack('<I4I4I4', m.exp, m.first, m.val)
  end
  local base, wide = m.last - m.last % 60, 0
  for _, t in ipairs(m.recent) do
    -- An earlier add with a later clock, or 45+ days older: no u16 offset; keep it exactly.
    if t > base or base - t > 65535 * 60 then wide = WIDE end
  end
  local parts = {struct.pack('<I4I4I4I4I4', m.exp, m.first, m.val, m.last, m.count + wide)}
  for i, t in ipairs(m.recent) do
    if wide > 0 then parts[i + 1] = struct.pack('<I4', t / 60)
    else parts[i + 1] = struct.pack('<I2', (base - t) / 60) end
  end
  return table.concat(parts)
end

-- domain.profile.apply_add
local function apply_add(old, at, exp, val)
  if old == nil or old.exp <= at then
    return {exp = exp, first = at, val = val, last = at, count = 1, recent = {}}
  end
  local recent = {old.last - old.last % 60}
  for _, t in ipairs(old.recent) do
    if #recent < KEPT then recent[#recent + 1] = t - t % 60 end
  end
  return {
    exp = math.max(old.exp, exp), first = old.first, val = (val ~= 0) and val or old.val,
    last = at, count = old.count + 1, recent = recent,
  }
end

-- domain.profile.apply_mutation for one user: adds, then removes, then prune the expired.
local function apply_user(key)
  local at = u32()
  -- What is stored. Memberships are decoded only when the mutation touches them.
  local records, expiry, syncs, puids, texts = {}, {}, {}, {}, {}
  local flat = redis.call('HGETALL', key)
  for i = 1, #flat, 2 do
    local f, v = flat[i], flat[i + 1]
    local c = string.byte(f, 1)
    if c == 115 then syncs[f] = struct.unpack('<I4', v)            -- 's'
    elseif c == 112 then puids[f] = struct.unpack('<I4', v)        -- 'p'
    elseif c == 116 then texts[string.sub(f, 2)] = true            -- 't'
    else records[f] = v; expiry[f] = struct.unpack('<I4', v) end
  end

  local changed, deleted, sets, fresh, gone = {}, {}, {}, {}, {}
  for _ = 1, u32() do
    local sid = tostring(u32())
    local exp, val = u32(), u32()
    local current = changed[sid]
    if current == nil and records[sid] then current = decode(records[sid]) end
    if current == nil or current.exp <= at then fresh[sid] = true end  -- (re)started
    changed[sid] = apply_add(current, at, exp, val)
  end
  for _ = 1, u32() do
    local sid = tostring(u32())
    if records[sid] then deleted[#deleted + 1] = sid end
    changed[sid] = nil
    records[sid] = nil
    gone[sid] = true
  end
  local latest = 0
  for sid, exp in pairs(expiry) do
    if records[sid] and not changed[sid] then
      if exp <= at then deleted[#deleted + 1] = sid; gone[sid] = true
      elseif exp > latest then latest = exp end
    end
  end
  for sid, m in pairs(changed) do
    sets[#sets + 1] = sid; sets[#sets + 1] = encode(m)
    if m.exp > latest then latest = m.exp end
  end

  -- Partner syncs and partner ids: set the new, forget the old.
  local stamp = struct.pack('<I4', at)
  for _ = 1, u32() do
    local f = 's' .. tostring(u32())
    syncs[f] = at; sets[#sets + 1] = f; sets[#sets + 1] = stamp
  end
  for _ = 1, u32() do
    local f = 'p:' .. str()
    puids[f] = at; sets[#sets + 1] = f; sets[#sets + 1] = stamp .. str()
  end
  -- Text values: a new one replaces the kept one; a membership that (re)started without one,
  -- or is gone, loses it (domain.profile.apply_add).
  for _ = 1, u32() do
    local sid = tostring(u32())
    local text = str()
    if changed[sid] then
      sets[#sets + 1] = 't' .. sid; sets[#sets + 1] = text
      texts[sid] = nil
    end
  end
  for sid in pairs(texts) do
    if gone[sid] or fresh[sid] or not (records[sid] or changed[sid]) then
      deleted[#deleted + 1] = 't' .. sid
    end
  end
  for f, t in pairs(syncs) do
    if t + SYNC_KEPT <= at then deleted[#deleted + 1] = f
    elseif t + SYNC_KEPT > latest then latest = t + SYNC_KEPT end
  end
  for f, t in pairs(puids) do
    if t + PUID_KEPT <= at then deleted[#deleted + 1] = f
    elseif t + PUID_KEPT > latest then latest = t + PUID_KEPT end
  end

  if latest == 0 then
    if #flat > 0 then redis.call('DEL', key) end
    return
  end
  if #deleted > 0 then redis.call('HDEL', key, unpack(deleted)) end
  if #sets > 0 then redis.call('HSET', key, unpack(sets)) end
  redis.call('EXPIREAT', key, latest)
end
"""
)
_APPLY_LUA = (
    _LUA_FUNCTIONS
    + """
local seq = tonumber(ARGV[2])
if seq > 0 then
  local last = tonumber(redis.call('GET', KEYS[1]) or '0')
  if seq <= last then return -1 end
end
for k = 3, #KEYS do apply_user(KEYS[k]) end
if #ARGV[3] > 0 then redis.call('RPUSH', KEYS[2], ARGV[3]) end
if seq > 0 then redis.call('SET', KEYS[1], seq, 'EX', MARKER_KEPT) end
return #KEYS - 2
"""
)

T = TypeVar("T")


def make_client(url: str, timeout: float) -> aioredis.Redis:
    """The one place a client is made (swap in redis.asyncio.cluster.RedisCluster here).

    No retries: a pipeline of scripts is not idempotent (a retried add counts twice), and a
    store that is down must fail within `timeout` so the caller can journal the batch.
    """
    return aioredis.Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
        decode_responses=False,
    )


def decode_membership(segment_id: int, record: bytes) -> Membership:
    """The inverse of the script's `encode`."""
    if len(record) == 8:
        expires_at, added = _SHORT.unpack(record)
        return Membership(segment_id, expires_at, None, added, added, 1)
    if len(record) == 12:
        expires_at, added, value = _SHORT_VALUE.unpack(record)
        return Membership(segment_id, expires_at, value, added, added, 1)
    expires_at, first, value, last, count = _FULL.unpack_from(record)
    if count & _WIDE:
        minutes = struct.unpack_from(f"<{(len(record) - 20) // 4}I", record, 20)
        recent = tuple(t * 60 for t in minutes)
    else:
        base = last - last % 60
        offsets = struct.unpack_from(f"<{(len(record) - 20) // 2}H", record, 20)
        recent = tuple(base - d * 60 for d in offsets)
    return Membership(segment_id, expires_at, value or None, first, last, count & ~_WIDE, recent)


_DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


_PAIRS = [high + low for high in _DIGITS for low in _DIGITS]  # two digits a division


def base62(number: int) -> str:
    """A user id in 11 characters instead of 19: one jemalloc size class less per key."""
    if number < 62:
        return _DIGITS[number]
    out = []
    while number >= 3844:  # 62²: six divisions for a 63-bit id instead of eleven
        number, pair = divmod(number, 3844)
        out.append(_PAIRS[pair])
    out.append(_PAIRS[number] if number >= 62 else _DIGITS[number])
    return "".join(reversed(out))


def pack_batch(batch: Sequence[Mutation]) -> tuple[bytes, list[str]]:
    """The script's ARGV for these mutations: their numbers as one u32 blob, then strings."""
    numbers: list[int] = []
    strings: list[str] = []
    for m in batch:
        numbers += (m.at, len(m.adds))
        for add in m.adds:
            numbers += (add.segment_id, add.expires_at, add.value or 0)
        numbers.append(len(m.removes))
        numbers += m.removes
        numbers.append(len(m.synced_partners))
        numbers += m.synced_partners
        numbers.append(len(m.partner_uids))
        for partner, partner_uid in m.partner_uids:
            strings += (partner, partner_uid)
        texts = [(a.segment_id, a.text) for a in m.adds if a.text is not None]
        numbers.append(len(texts))
        for segment_id, text in texts:
            numbers.append(segment_id)
            strings.append(text)
    return struct.pack(f"<{len(numbers)}I", *numbers), strings


class RedisProfileStore:
    """Profiles in Redis: one hash per user, one Lua script call per batch."""

    name = "redis"

    def __init__(self, url: str, prefix: str = "sp:", timeout: float = 0.25):
        self.url = url
        self.prefix = prefix
        self.timeout = timeout
        self._client: aioredis.Redis | None = None
        self._sha = ""
        self._loads = LoadLogger(prefix)
        self._folds: asyncio.Task[None] | None = None
        self._emptied = EmptiedWatch(f"{prefix}alive")

    def key(self, user_id: int) -> str:
        return f"{self.prefix}{base62(user_id)}"

    async def open(self) -> None:
        self._client = make_client(self.url, self.timeout)
        self._folds = asyncio.create_task(self._fold_loop(), name="redis-load-fold")
        self._sha = await self._call(self._client.script_load(_APPLY_LUA))

    async def close(self) -> None:
        if self._folds is not None:
            await cancel_within("profile store", [self._folds])
            self._folds = None
        if self._client is not None:
            client, self._client = self._client, None
            await close_redis(f"profile store {self._where()}", client)

    async def apply(self, batch: Sequence[Mutation], token: BatchToken | None = None) -> None:
        """The whole batch in one script call: one command to pack, one reply to parse."""
        if not batch:
            return
        client = self._redis()
        marker = f"{self.prefix}w:{token.writer if token else '-'}"
        users = [self.key(m.user_id) for m in batch]
        keys = [marker, log_key(self.prefix), *users]
        blob, strings = pack_batch(batch)
        args = (blob, token.seq if token else 0, self._loads.entry(batch, users), *strings)
        try:
            await self._call(self._evalsha(client, keys, args))
        except StoreUnavailable as exc:
            if not isinstance(exc.__cause__, NoScriptError):
                raise
            # Redis restarted (or failed over) since open() and lost its script cache: the call
            # did nothing. EVAL sends the text (and caches it again).
            await self._call(client.eval(_APPLY_LUA, len(keys), *keys, *args))

    async def _evalsha(self, client: aioredis.Redis, keys: list[str], args: tuple) -> None:
        """The batch's script call on a connection of the client's own pool (its AUTH, SELECT,
        TLS and timeouts), packed by hiredis: redis-py's execute_command packs in Python and
        adds its retry and telemetry layers, ~190 µs of CPU a batch of 64 users against ~125
        (measured), paid by the pixels' loop. The connection drops itself on a timeout, a socket
        error or a cancel (its next reply would be another call's), as under execute_command.
        """
        pool = client.connection_pool
        conn = await pool.get_connection()
        try:
            command = ("EVALSHA", self._sha, len(keys), *keys, *args)
            await conn.send_packed_command(pack_command(command), check_health=False)
            await conn.read_response()
        finally:
            await pool.release(conn)

    async def read(self, user_id: int, now: float) -> Profile:
        fields = await self._call(self._redis().hgetall(self.key(user_id)))
        memberships: list[Membership] = []
        syncs: dict[int, int] = {}
        partner_uids: dict[str, str] = {}
        texts: dict[int, str] = {}
        for field, value in fields.items():
            if field[:1] == b"t":
                texts[int(field[1:])] = value.decode()
            elif field[:1] == b"s":
                (synced_at,) = _U32.unpack_from(value)
                if synced_at + SYNC_KEPT_SECONDS > now:
                    syncs[int(field[1:])] = synced_at
            elif field[:2] == b"p:":
                (set_at,) = _U32.unpack_from(value)
                if set_at + PARTNER_UID_KEPT_SECONDS > now:
                    partner_uids[field[2:].decode()] = value[4:].decode()
            else:
                m = decode_membership(int(field), value)
                if m.is_active(now):
                    memberships.append(m)
        memberships.sort(key=lambda m: m.segment_id)
        for m in memberships if texts else ():
            m.text = texts.get(m.segment_id)
        return Profile(user_id, tuple(memberships), syncs, partner_uids)

    async def delete_user(self, user_id: int, segment_ids: Sequence[int] | None = None) -> None:
        # The load counters hold no user (HyperLogLogs), and the log folds within a second.
        if segment_ids is None:
            await self._call(self._redis().delete(self.key(user_id)))
        elif segment_ids:
            await self.apply([Mutation(user_id, int(time.time()), removes=tuple(segment_ids))])

    async def ping(self) -> None:
        await self._call(self._redis().ping())

    async def reclaim(self, now: float, limit: int) -> int:
        return 0  # keys expire by themselves; the script prunes fields on every write

    def register_metrics(self, registry: Registry) -> None:
        pass  # Redis's own figures are Redis's (INFO)

    async def durability_warnings(self) -> list[str]:
        client = self._redis()
        settings = await self._call(read_persistence(client))
        return persistence_warnings(settings) + await self._call(self._emptied.check(client))

    async def _fold_loop(self) -> None:
        """Fold the load log into its counters every second (stats/redis_log.py)."""
        fold = self._redis().register_script(FOLD_LUA)
        entries_key = log_key(self.prefix)

        async def run(entries: int) -> object:
            return await fold(keys=[entries_key], args=[entries, self.prefix])

        while True:
            await asyncio.sleep(FOLD_SECONDS)
            try:
                await fold_all(run)
            except (RedisError, OSError):
                continue  # the store is down: the writer journals; the log waits
            except Exception:  # never let the loop die: the log would only grow
                log.exception("folding the load log failed")

    # -- plumbing ----------------------------------------------------------------------------

    def _redis(self) -> aioredis.Redis:
        if self._client is None:
            raise RuntimeError("RedisProfileStore used before open() or after close()")
        return self._client

    def _where(self) -> str:
        return self.url.rpartition("@")[2]  # never echo a password from the URL

    async def _call(self, awaitable: Awaitable[T]) -> T:
        """Await a redis-py call; any driver error (refused, timeout, OOM…) → StoreUnavailable."""
        try:
            return await awaitable
        except (RedisError, OSError) as exc:  # OSError: a socket error redis-py did not wrap
            raise StoreUnavailable(f"profile store {self._where()}: {exc}") from exc
