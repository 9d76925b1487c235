"""Fixtures for the pixel tests: a real segpixel over real sockets, on both profile stores.

The server is the real ASGI app (`segpixel.app.create_app`) served by uvicorn in a thread on a free
port, so tests speak HTTP with real cookies while the test keeps a hand on the clock (usersync's
7-day rule). Each profile store (SQLite, the default; Redis at 127.0.0.1:6379) gets one server for
the session. The catalog (SQLite) is emptied once per session, not per test: every test makes its
own members, segments and browsers, so ids are never reused and tests cannot see each other's data.

Redis must run on 127.0.0.1:6379; when it cannot be reached the Redis cases fail with a sentence
that says how to start it — never a skip. Every Redis key this run writes starts with RUN_PREFIX and
is deleted at the end.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlencode

import httpx
import pytest
import redis
import uvicorn

from segpixel.app import create_app
from segpixel.catalog.db import Catalog
from segpixel.catalog.migrate import upgrade
from segpixel.catalog.passwords import hash_password
from segpixel.catalog.repo import utcnow
from segpixel.catalog.tables import User
from segpixel.settings import Settings
from tests.conftest import free_port, wipe
from tests.helpers import ADMIN_PASSWORD, ApiClient
from tests.support.job_runner import RunnerThread

REDIS_URL = os.environ.get("SEGPIXEL_TEST_REDIS", "redis://127.0.0.1:6379/0")
RUN_PREFIX = f"sptest-pixel:{os.getpid()}:{secrets.token_hex(3)}:"
TCF = json.loads((Path(__file__).parents[1] / "fixtures" / "tcf" / "strings.json").read_text())
TC_STRINGS = {f["id"]: f["tc_string"] for f in TCF["fixtures"]}
GIF_LENGTH = 43
DAY = 86_400


def redis_start_hint(problem: str) -> str:
    return (
        f"Redis is required at {REDIS_URL} and cannot be reached ({problem}). Start it with "
        "scripts/ensure-services (or: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 "
        '--save "" --appendonly yes --appendfsync everysec).'
    )


def delete_prefix(client: redis.Redis, prefix: str) -> None:
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    for start in range(0, len(keys), 500):
        client.delete(*keys[start : start + 500])


# -- the clock -------------------------------------------------------------------------------------


class Clock:
    """The server's clock: real time plus an offset the test may move (never into the past, as Redis
    expires keys by its own clock)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds

    def reset(self) -> None:
        self.offset = 0.0


# -- an in-process server on a real socket ---------------------------------------------------------


class InProcessServer:
    """create_app(settings, clock=…) served by uvicorn in a thread on 127.0.0.1:<free port>, and
    a job runner beside it (as `segpixel serve` starts one), on the same clock."""

    def __init__(self, settings: Settings, clock: Clock, jobs: bool = True):
        self.settings = settings
        self.clock = clock
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.app = create_app(settings, clock=clock)
        self.jobs: RunnerThread | None = None
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            lifespan="on",
            log_level="warning",
            access_log=False,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name=f"segpixel-{self.port}")
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"segpixel did not start on port {self.port}")
            time.sleep(0.02)
        self.jobs = RunnerThread(settings, clock) if jobs else None

    def stop(self) -> None:
        if self.jobs is not None:
            self.jobs.stop()
        self.server.should_exit = True
        self.thread.join(timeout=20)


@pytest.fixture(scope="session")
def pixel_catalog_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One migrated SQLite catalog for the pixel tests (wiped before each test)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('pixel-catalog') / 'catalog.db'}"
    catalog = Catalog(url)
    upgrade(catalog.engine)
    catalog.dispose()
    return url


@pytest.fixture(scope="session")
def redis_client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=5)
    try:
        client.ping()
        problem = None
    except redis.RedisError as exc:
        problem = str(exc)
    if problem is not None:
        client.close()
        pytest.fail(redis_start_hint(problem), pytrace=False)
    yield client
    delete_prefix(client, RUN_PREFIX)
    client.close()


@dataclass
class ServerFactory:
    """Starts servers on one profile store kind; every one is stopped at teardown."""

    store: str  # "sqlite" | "redis"
    catalog_url: str
    root: Path
    made: list[InProcessServer]

    def settings(self, **overrides: Any) -> Settings:
        n = len(self.made)
        data_dir = self.root / f"server{n}"
        fields: dict[str, Any] = {
            "data_dir": data_dir,
            "catalog_url": self.catalog_url,
            "catalog_poll_seconds": 0.05,
            "job_poll_seconds": 0.05,
            "login_success_limit": 0,  # (tested on a server of its own)
            "redis_prefix": RUN_PREFIX,
        }
        if self.store == "redis":
            fields["profile_url"] = REDIS_URL
        else:
            fields["profile_url"] = f"sqlite:///{data_dir / 'profiles.db'}"
        fields.update(overrides)
        return Settings(**fields)

    def start(self, clock: Clock | None = None, **overrides: Any) -> InProcessServer:
        server = InProcessServer(self.settings(**overrides), clock or Clock())
        self.made.append(server)
        return server

    def stop_all(self) -> None:
        while self.made:
            self.made.pop().stop()


def _factory(
    request: pytest.FixtureRequest, store: str, catalog_url: str, root: Path
) -> ServerFactory:
    if store == "redis":
        request.getfixturevalue("redis_client")  # fails with a sentence when Redis is down
    return ServerFactory(store, catalog_url, root, [])


@pytest.fixture(scope="session", params=["sqlite", "redis"])
def pixel_server(
    request: pytest.FixtureRequest,
    pixel_catalog_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[InProcessServer]:
    """The session's server on each profile store."""
    factory = _factory(
        request, request.param, pixel_catalog_url, tmp_path_factory.mktemp(request.param)
    )
    server = factory.start()
    server.store_kind = request.param  # type: ignore[attr-defined]
    yield server
    factory.stop_all()


@pytest.fixture
def extra_servers(
    request: pytest.FixtureRequest, pixel_server: InProcessServer, pixel_catalog_url: str, tmp_path
) -> Iterator[ServerFactory]:
    """More servers (other settings) on the same store kind as `pixel_server`, for one test."""
    factory = _factory(request, pixel_server.store_kind, pixel_catalog_url, tmp_path)  # type: ignore[attr-defined]
    yield factory
    factory.stop_all()


# -- a browser ------------------------------------------------------------------------------------


class Browser:
    """One browser: its own cookie jar, no automatic redirects (tests look at every 302)."""

    def __init__(self, base_url: str, cookie_name: str = "uuid2"):
        self.client = httpx.Client(base_url=base_url, follow_redirects=False, timeout=15)
        self.cookie_name = cookie_name

    def get(self, path: str, params: dict[str, Any] | str | None = None, **kw: Any):
        if isinstance(params, dict):
            path = f"{path}?{urlencode(params)}"
        elif isinstance(params, str):
            path = f"{path}?{params}"
        return self.client.get(path, **kw)

    def seg(self, params: dict[str, Any] | str = "", **kw: Any) -> httpx.Response:
        return self.get("/seg", params, **kw)

    def debug(
        self, params: dict[str, Any] | str = "", member: dict | None = None, **kw: Any
    ) -> dict[str, Any]:
        """`debug=1` of the call; with `member` (a member as the API returns it) the call also
        carries its dongle, so that the answer shows the member's stored memberships (without,
        only what the call itself added: SPEC §3.6)."""
        if isinstance(params, dict):
            params = {**params, "debug": "1"}
            if member is not None:
                params = {"member": member["id"], **params, "dongle": member["dongle"]}
        else:
            params = f"{params}&debug=1" if params else "debug=1"
            if member is not None:
                if "member=" not in params:
                    params += f"&member={member['id']}"
                params += f"&dongle={member['dongle']}"
        response = self.seg(params, **kw)
        assert response.status_code == 200, (response.status_code, response.text)
        assert response.headers["content-type"].startswith("application/json"), response.headers
        body = response.json()
        body["_headers"] = response.headers
        return body

    @property
    def uid(self) -> str | None:
        return self.client.cookies.get(self.cookie_name)

    def set_cookie(self, value: str) -> None:
        self.client.cookies.set(self.cookie_name, value, domain="127.0.0.1", path="/")

    def close(self) -> None:
        self.client.close()


def warning_of(response: httpx.Response) -> str:
    return response.headers.get("x-segpixel-warning", "")


def assert_gif(response: httpx.Response) -> None:
    assert response.status_code == 200, (response.status_code, response.headers)
    assert response.headers["content-type"] == "image/gif"
    assert len(response.content) == GIF_LENGTH
    assert response.content.startswith(b"GIF89a")
    assert "no-store" in response.headers["cache-control"]


def membership(body: dict[str, Any], segment_id: int) -> dict[str, Any] | None:
    return next((m for m in body["memberships"] if m["segment_id"] == segment_id), None)


def item(body: dict[str, Any], **match: Any) -> dict[str, Any]:
    found = [i for i in body["items"] if all(i.get(k) == v for k, v in match.items())]
    assert len(found) == 1, (match, body["items"])
    return found[0]


def chained(body: dict[str, Any], **match: Any) -> list[dict[str, Any]]:
    return [c for c in body["chained"] if all(c.get(k) == v for k, v in match.items())]


_METRIC_LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$")


def parse_metrics(text: str) -> dict[str, float]:
    """`name{labels}` → value, labels exactly as rendered (sorted by the server)."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = _METRIC_LINE.match(line)
        assert match, f"not a Prometheus sample line: {line!r}"
        out[match.group(1) + (match.group(2) or "")] = float(match.group(3))
    return out


# -- the per-test environment ---------------------------------------------------------------------


class AdminApi(ApiClient):
    """The admin's API client; logs in once per server and again when the token lapsed (a test
    that moves the clock by days outlives the 24-hour token)."""

    _tokens: ClassVar[dict[str, str]] = {}

    def _login(self) -> str:
        response = self.client.post(
            "/auth", json={"auth": {"username": "admin", "password": ADMIN_PASSWORD}}
        )
        assert response.status_code == 200, response.text
        token = response.json()["response"]["token"]
        self.client.cookies.delete("segpixel_token")  # this client sends it as a header instead
        self._tokens[str(self.client.base_url)] = token
        return token

    def request(self, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        self.token = self.token or self._tokens.get(str(self.client.base_url)) or self._login()
        headers = kw.pop("headers", {})
        # A fresh headers dict each time: ApiClient writes the token into the one it is given.
        response = super().request(method, path, body, **kw, headers=dict(headers))
        if response.status_code == 401:
            self.token = self._login()
            response = super().request(method, path, body, **kw, headers=dict(headers))
        return response


class Pixel:
    """Everything a pixel test needs: the server, an admin API client, browsers, catalog sync."""

    def __init__(self, server: InProcessServer, catalog: Catalog):
        self.server = server
        self.catalog = catalog
        self.clock = server.clock
        self.base_url = server.base_url
        self.store_kind: str = server.store_kind  # type: ignore[attr-defined]
        self._http = httpx.Client(base_url=server.base_url, timeout=30)
        self.api = AdminApi(self._http)
        self._browsers: list[Browser] = []

    def close(self) -> None:
        for b in self._browsers:
            b.close()
        self._http.close()

    def browser(self, server: InProcessServer | None = None, cookie_name: str = "uuid2") -> Browser:
        b = Browser((server or self.server).base_url, cookie_name)
        self._browsers.append(b)
        return b

    # catalog -------------------------------------------------------------------------------

    def member(self, name: str = "Acme", **fields: Any) -> dict[str, Any]:
        return self.api.make_member(name, **fields)

    def segment(self, member_id: int, name: str = "Visitors", **fields: Any) -> dict[str, Any]:
        return self.api.make_segment(f"member_id={member_id}", name, **fields)

    def update_segment(self, segment_id: int, **fields: Any) -> dict[str, Any]:
        body = {"segment": fields}
        return self.api.ok("PUT", f"/segment?id={segment_id}", body)["segment"]

    def update_member(self, member_id: int, **fields: Any) -> dict[str, Any]:
        return self.api.ok("PUT", f"/member?id={member_id}", {"member": fields})["member"]

    def usersync(self, member_id: int, url: str, name: str = "Partner", **fields: Any):
        body = {"usersync-pixel": {"name": name, "url": url, **fields}}
        return self.api.ok("POST", f"/usersync-pixel?member_id={member_id}", body)["usersync-pixel"]

    def sync(self, server: InProcessServer | None = None, timeout: float = 5.0) -> int:
        """Wait until the server's catalog snapshot has every change made so far."""
        wanted = self.catalog.version()
        base = (server or self.server).base_url
        deadline = time.monotonic() + timeout
        while True:
            version = httpx.get(f"{base}/health", timeout=5).json()["catalog"]["version"]
            if version >= wanted:
                return version
            assert time.monotonic() < deadline, f"catalog snapshot stuck at {version} < {wanted}"
            time.sleep(0.01)

    # edge --------------------------------------------------------------------------------

    def health(self, server: InProcessServer | None = None) -> dict[str, Any]:
        response = httpx.get(f"{(server or self.server).base_url}/health", timeout=5)
        assert response.status_code == 200, response.text
        return response.json()

    def metrics(self) -> dict[str, float]:
        response = httpx.get(f"{self.base_url}/metrics", timeout=5)
        assert response.status_code == 200, response.text
        return parse_metrics(response.text)

    def cookie_view(self, browser: Browser, member: dict[str, Any], dongle: str | None = None):
        return browser.get(
            "/cookie", {"member_id": member["id"], "dongle": dongle or member["dongle"]}
        )

    def read_store(self, user_id: int | str) -> Any:
        """The profile as the store holds it, read through the store's own class."""
        from segpixel.profiles.factory import make_profile_store

        settings = self.server.settings.resolved()
        store = make_profile_store(
            settings.profile_url or "", redis_prefix=settings.redis_prefix, timeout=2.0
        )

        async def read() -> Any:
            await store.open()
            try:
                return await store.read(int(user_id), self.clock())
            finally:
                await store.close()

        return asyncio.run(read())


@pytest.fixture(scope="session")
def pixel_catalog(pixel_catalog_url: str) -> Iterator[Catalog]:
    """The catalog, with one admin. Not wiped between tests: each test makes its own members,
    so ids are never reused and one test's browsers cannot meet another test's segments."""
    catalog = Catalog(pixel_catalog_url)
    wipe(catalog)
    with catalog.session() as session:
        session.add(
            User(
                username="admin",
                password_hash=hash_password(ADMIN_PASSWORD),
                role="admin",
                active=True,
                last_modified=utcnow(),
            )
        )
    yield catalog
    catalog.dispose()


@pytest.fixture
def px(pixel_server: InProcessServer, pixel_catalog: Catalog) -> Iterator[Pixel]:
    pixel_server.clock.reset()
    env = Pixel(pixel_server, pixel_catalog)
    yield env
    env.close()
    pixel_server.clock.reset()


@pytest.fixture
def acme(px: Pixel) -> dict[str, Any]:
    """A member with one active, pixel-type segment ("Visitors", code "visitors"), synced."""
    member = px.member("Acme")
    segment = px.segment(member["id"], "Visitors", code="visitors")
    px.sync()
    return {"member": member, "segment": segment}


def epoch(iso_time: str) -> int:
    """Seconds since the epoch of a debug/cookie time (ISO-8601 UTC, 'YYYY-MM-DDTHH:MM:SSZ')."""
    from datetime import UTC, datetime

    return int(datetime.strptime(iso_time, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp())
