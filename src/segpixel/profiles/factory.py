"""The profile store a URL names (setting SEGPIXEL_PROFILE_URL)."""

from __future__ import annotations

from pathlib import Path

from segpixel.profiles.base import ProfileStore

_SQLITE = "sqlite:///"


def make_profile_store(
    url: str,
    *,
    redis_prefix: str = "sp:",
    timeout: float = 0.25,
    sqlite_synchronous: str = "NORMAL",
    redis_min_replicas: int | None = None,
    sqlite_fold_takeover: float = 0.0,
    sqlite_upkeep: bool = True,
) -> ProfileStore:
    """`sqlite:///PATH` (`sqlite:////abs/path.db` for an absolute path), `redis://HOST:PORT/DB`
    or `redis+cluster://HOST:PORT[,HOST:PORT…]` (Redis Cluster, profiles/redis_cluster.py).

    `timeout` bounds each Redis call; `sqlite_synchronous` is SQLite's PRAGMA synchronous;
    `redis_min_replicas` the replicas that must acknowledge a Cluster write (None: 1);
    `sqlite_fold_takeover` when a SQLite store folds the load log, `sqlite_upkeep` whether it
    keeps the file at all (SqliteProfileStore).
    Backends are imported on demand, so a SQLite deployment never imports redis.
    """
    if url.startswith(_SQLITE) and len(url) > len(_SQLITE):
        from segpixel.profiles.sqlite import SqliteProfileStore

        # A lock wait must give up before the writer's timeout does: the writer cannot cancel a
        # SQLite call, and a pixel waiting on a lock past it waits for nothing (its batch would
        # be journaled anyway, and skipped by its token when replayed).
        return SqliteProfileStore(
            Path(url.removeprefix(_SQLITE)),
            synchronous=sqlite_synchronous,
            busy_timeout=timeout * 0.6,
            fold_takeover=sqlite_fold_takeover,
            upkeep=sqlite_upkeep,
        )
    if url.startswith(("redis+cluster://", "rediss+cluster://")):
        from segpixel.profiles.redis_cluster import RedisClusterProfileStore

        replicas = 1 if redis_min_replicas is None else redis_min_replicas
        return RedisClusterProfileStore(
            url, prefix=redis_prefix, timeout=timeout, min_replicas=replicas
        )
    if url.startswith(("redis://", "rediss://")):
        from segpixel.profiles.redis import RedisProfileStore

        return RedisProfileStore(url, prefix=redis_prefix, timeout=timeout)
    scheme = url.partition("://")[0] if "://" in url else url[:20]  # never echo a password
    raise ValueError(
        "SEGPIXEL_PROFILE_URL must be sqlite:///PATH, redis://HOST:PORT/DB or "
        f"redis+cluster://HOST:PORT[,HOST:PORT…]; got {scheme!r}…"
    )
