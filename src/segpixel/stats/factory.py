"""The load-stats reader for a profile store URL: counters live where the profiles do."""

from __future__ import annotations

from pathlib import Path

from segpixel.stats.base import LoadStats

_SQLITE = "sqlite:///"


def make_load_stats(url: str, *, redis_prefix: str = "sp:", timeout: float = 5.0) -> LoadStats:
    """`url` is SEGPIXEL_PROFILE_URL (profiles.factory checks its form; this follows it).

    Reads may take longer than the pixel's writes (a year of a thousand segments), hence a
    timeout of their own. Backends are imported on demand, as for the profile store.
    """
    if url.startswith(_SQLITE) and len(url) > len(_SQLITE):
        from segpixel.stats.sqlite import SqliteLoadStats

        return SqliteLoadStats(Path(url.removeprefix(_SQLITE)), busy_timeout=timeout)
    if url.startswith(("redis://", "rediss://", "redis+cluster://", "rediss+cluster://")):
        from segpixel.stats.redis import RedisLoadStats

        return RedisLoadStats(url, prefix=redis_prefix, timeout=timeout)
    scheme = url.partition("://")[0] if "://" in url else url[:20]  # never echo a password
    raise ValueError(
        "SEGPIXEL_PROFILE_URL must be sqlite:///PATH, redis://HOST:PORT/DB or "
        f"redis+cluster://HOST:PORT[,HOST:PORT…]; got {scheme!r}…"
    )
