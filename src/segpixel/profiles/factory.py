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
) -> ProfileStore:
    """`sqlite:///PATH` (`sqlite:////abs/path.db` for an absolute path) or `redis://HOST:PORT/DB`.

    `timeout` bounds each Redis call; `sqlite_synchronous` is SQLite's PRAGMA synchronous.
    Backends are imported on demand, so a SQLite deployment never imports redis.
    """
    if url.startswith(_SQLITE) and len(url) > len(_SQLITE):
        from segpixel.profiles.sqlite import SqliteProfileStore

        # A lock wait must give up before the writer's timeout does: the writer cannot cancel a
        # SQLite call in its thread, and a batch committed after being journaled would be
        # applied twice when the journal is replayed.
        return SqliteProfileStore(
            Path(url.removeprefix(_SQLITE)),
            synchronous=sqlite_synchronous,
            busy_timeout=timeout * 0.6,
        )
    if url.startswith(("redis://", "rediss://")):
        from segpixel.profiles.redis import RedisProfileStore

        return RedisProfileStore(url, prefix=redis_prefix, timeout=timeout)
    scheme = url.partition("://")[0] if "://" in url else url[:20]  # never echo a password
    raise ValueError(
        f"SEGPIXEL_PROFILE_URL must be sqlite:///PATH or redis://HOST:PORT/DB; got {scheme!r}…"
    )
