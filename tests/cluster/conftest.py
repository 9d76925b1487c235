"""Redis Cluster tests: the session's local cluster (tests/conftest.py `redis_cluster`), and the
pixel suite's fixtures with a server whose profile store is that cluster."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from segpixel.settings import Settings
from tests.pixel.conftest import (  # noqa: F401 (fixtures, used by name)
    RUN_PREFIX,
    Clock,
    InProcessServer,
    acme,
    pixel_catalog,
    pixel_catalog_url,
    px,
)


@pytest.fixture(scope="session")
def pixel_server(
    redis_cluster: str,
    pixel_catalog_url: str,  # noqa: F811 (the fixture imported above)
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[InProcessServer]:
    """One in-process server on the cluster (the pixel suite's `pixel_server`, cluster only)."""
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("cluster-server"),
        catalog_url=pixel_catalog_url,
        catalog_poll_seconds=0.05,
        redis_prefix=RUN_PREFIX,
        profile_url=redis_cluster,
    )
    server = InProcessServer(settings, Clock())
    server.store_kind = "redis-cluster"  # type: ignore[attr-defined]
    yield server
    server.stop()
