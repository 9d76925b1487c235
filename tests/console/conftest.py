"""The console over real HTTP, against `segpixel serve` on each catalog (SQLite, PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from segpixel.catalog.db import Catalog
from tests.conftest import ServerProcess
from tests.console.helpers import Console
from tests.helpers import ApiClient


@dataclass
class Tenants:
    """Two members; the first with two advertisers (Cars, Bikes), the second with one."""

    member: dict[str, Any]
    cars: dict[str, Any]
    bikes: dict[str, Any]
    other_member: dict[str, Any]
    other_advertiser: dict[str, Any]


@pytest.fixture
def server(catalog: Catalog, http_server: ServerProcess) -> ServerProcess:
    return http_server  # `catalog` has emptied the database and made the admin


@pytest.fixture
def admin_api(server: ServerProcess) -> Iterator[ApiClient]:
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        yield ApiClient(client).login()


@pytest.fixture
def tenants(admin_api: ApiClient) -> Tenants:
    member = admin_api.make_member("Acme Media")
    other = admin_api.make_member("Other Co")
    return Tenants(
        member=member,
        cars=admin_api.make_advertiser(member["id"], "Cars"),
        bikes=admin_api.make_advertiser(member["id"], "Bikes"),
        other_member=other,
        other_advertiser=admin_api.make_advertiser(other["id"], "Rival"),
    )


@pytest.fixture
def console(server: ServerProcess) -> Iterator[Callable[..., Console]]:
    """console() → a logged-in admin; console("user", "password") → that user."""
    made: list[Console] = []

    def make(*login: str) -> Console:
        client = Console(server.base_url)
        made.append(client)
        return client.login(*login)

    yield make
    for client in made:
        client.close()
