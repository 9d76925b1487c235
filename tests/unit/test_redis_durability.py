"""Which Redis persistence settings keep the promise of a 200 (profiles/redis_durability.py)."""

from __future__ import annotations

import pytest

from segpixel.profiles.redis_durability import persistence_warnings


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        pytest.param({"appendonly": "yes", "appendfsync": "everysec", "save": ""}, [], id="aof-1s"),
        pytest.param({"appendonly": "yes", "appendfsync": "always"}, [], id="aof-always"),
        pytest.param({"aof_enabled": "1"}, [], id="info-aof"),
        pytest.param(
            {"appendonly": "yes", "appendfsync": "no"}, ["appendfsync is 'no'"], id="aof-no-fsync"
        ),
        pytest.param(
            {"appendonly": "no", "save": ""},
            ["without an append-only file", "every acknowledged add (no RDB snapshots"],
            id="nothing",
        ),
        pytest.param(
            {"appendonly": "no", "save": "3600 1 300 100"},
            ["since its last RDB snapshot (save '3600 1 300 100')"],
            id="rdb-only",
        ),
        pytest.param(
            {"aof_enabled": "0"}, ["without an append-only file", "if it takes any"], id="info-no"
        ),
        pytest.param({}, ["cannot read Redis's persistence settings"], id="unreadable"),
        pytest.param(
            {"appendonly": "yes", "appendfsync": "everysec", "maxmemory": "1gb"},
            [],
            id="bounded-noeviction",
        ),
        pytest.param(
            {
                "appendonly": "yes",
                "appendfsync": "everysec",
                "maxmemory": "1073741824",
                "maxmemory-policy": "allkeys-lru",
            },
            ["maxmemory-policy is allkeys-lru"],
            id="evicting",
        ),
        pytest.param(
            {"appendonly": "yes", "maxmemory": "0", "maxmemory-policy": "allkeys-lru"},
            [],
            id="unbounded-memory",
        ),
    ],
)
def test_persistence_warnings(config: dict[str, str], expected: list[str]) -> None:
    warnings = persistence_warnings(config)
    text = " | ".join(warnings)
    assert all(part in text for part in expected), warnings
    assert bool(warnings) == bool(expected), warnings
    if warnings:
        assert all(
            "appendonly yes" in w or "noeviction" in w or "appendfsync" in w for w in warnings
        )
