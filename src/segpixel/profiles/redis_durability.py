"""Does this Redis keep what it acknowledged? (DESIGN.md "What stored means, on every store".)

A pixel's 200 promises that its add survives a crash of segpixel and of its store. A single Redis
keeps that promise only with an append-only file: `appendfsync everysec` loses at most the last
second of writes on a Redis crash, `always` nothing; RDB snapshots alone lose everything since
the last one, and a Redis with neither forgets everything. (Redis Cluster keeps it with replicas
acknowledging each batch instead: SEGPIXEL_REDIS_MIN_REPLICAS.)

Every worker reads the setting at start and every minute — `CONFIG GET` where the server allows
it, else `INFO persistence` (managed services often rename CONFIG) — and turns it into warnings
for the log, /health and /metrics. It also notices a Redis that came back empty: a sentinel key
set at start is gone (and the server's run id changed, when it restarted), so the writes
acknowledged before that are lost.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from redis.exceptions import ResponseError

log = logging.getLogger("segpixel.profiles")

EMPTIED_SHOWN_SECONDS = 86_400  # how long /health keeps saying that Redis came back empty
AOF_ADVICE = "set appendonly yes with appendfsync everysec (loses ≤ 1 s) or always (nothing)"


def persistence_warnings(config: Mapping[str, str]) -> list[str]:
    """What Redis's persistence settings lose on a Redis crash; [] when they keep the promise.

    `config` holds what could be read: `appendonly`, `appendfsync`, `save`, `maxmemory` and
    `maxmemory-policy` from CONFIG GET, or only `aof_enabled` from INFO persistence.
    """
    warnings = []
    policy = config.get("maxmemory-policy", "noeviction")
    if config.get("maxmemory", "0") != "0" and policy != "noeviction":
        warnings.append(
            f"Redis maxmemory-policy is {policy}: when its memory is full it evicts profiles "
            "that were acknowledged as stored; use noeviction (a full Redis then refuses "
            "writes, and segpixel journals them)"
        )
    aof = config.get("appendonly", {"1": "yes", "0": "no"}.get(config.get("aof_enabled", "")))
    if aof is None:
        return [
            *warnings,
            f"cannot read Redis's persistence settings: it may lose acknowledged adds; "
            f"{AOF_ADVICE}",
        ]
    if aof == "yes":
        if config.get("appendfsync") == "no":
            warnings.append(
                "Redis appendfsync is 'no': a Redis crash loses the writes the OS has not "
                "flushed yet (up to ~30 s of acknowledged adds); set appendfsync everysec or always"
            )
        return warnings
    save = config.get("save")
    if save is None:
        lost = "every acknowledged add since its last snapshot, if it takes any"
    elif save.strip():
        lost = f"every acknowledged add since its last RDB snapshot (save '{save}')"
    else:
        lost = "every acknowledged add (no RDB snapshots either: save '')"
    no_aof = f"Redis runs without an append-only file: a Redis crash loses {lost}; {AOF_ADVICE}"
    return [*warnings, no_aof]


async def read_persistence(client: Any) -> dict[str, str]:
    """The persistence settings this client may read (see `persistence_warnings`)."""
    try:
        raw = await client.config_get(
            "appendonly", "appendfsync", "save", "maxmemory", "maxmemory-policy"
        )
        return {_text(k): _text(v) for k, v in raw.items()}
    except ResponseError as exc:  # CONFIG renamed or denied by an ACL: INFO says less, but enough
        log.debug("CONFIG GET refused (%s); reading INFO persistence", exc)
    try:
        info = await client.info("persistence")
    except ResponseError as exc:
        log.debug("INFO persistence refused: %s", exc)
        return {}
    return {"aof_enabled": str(info.get("aof_enabled", ""))}


class EmptiedWatch:
    """Notices a Redis that lost its data since the last look: the sentinel key is gone."""

    def __init__(self, sentinel: str, clock: Any = time.time):
        self.sentinel = sentinel
        self.clock = clock
        self._run_id: str | None = None
        self._set = False
        self._emptied: list[tuple[float, str]] = []  # when noticed, what to say

    async def check(self, client: Any) -> list[str]:
        """Look once; the warnings of what it saw in the last EMPTIED_SHOWN_SECONDS."""
        now = self.clock()
        try:
            run_id = _text((await client.info("server")).get("run_id", ""))
        except ResponseError:
            run_id = ""  # INFO denied: the sentinel alone tells
        restarted = bool(self._run_id and run_id and run_id != self._run_id)
        if self._set and not await client.exists(self.sentinel):
            how = "restarted empty" if restarted else "lost its keys (flushed or evicted)"
            text = (
                f"Redis {how} at {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(now))}: "
                "the adds it had acknowledged before then are lost"
            )
            log.error("%s (run id %s → %s)", text, self._run_id, run_id or "unknown")
            self._emptied.append((now, text))
            self._set = False
        elif restarted:
            log.warning("Redis restarted (run id %s → %s) with its data", self._run_id, run_id)
        if not self._set:
            await client.set(self.sentinel, str(int(now)), nx=True)
            self._set = True
        self._run_id = run_id or self._run_id
        self._emptied = [(t, w) for t, w in self._emptied if now - t < EMPTIED_SHOWN_SECONDS]
        return [w for _, w in self._emptied]


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
