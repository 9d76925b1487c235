"""Real-browser fixtures: Debian's headless Chromium driven by Playwright, `segpixel serve` as users
run it, and two tiny local web servers (a piggyback partner and a publisher's page).

Never `playwright install` (it downloads a browser; this machine cannot): Playwright launches
/usr/bin/chromium, which scripts/install-system-deps installs. When it is missing the tests FAIL
with a sentence saying so — never a skip.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import redis
from playwright.sync_api import Browser, sync_playwright

from tests.conftest import ServerProcess
from tests.helpers import ApiClient

CHROMIUM = Path("/usr/bin/chromium")
# Chromium's own background connections (updates, sync, QUIC probes) are refused by this machine's
# closed network; these flags keep it quiet and fast.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
REDIS_URL = os.environ.get("SEGPIXEL_TEST_REDIS", "redis://127.0.0.1:6379/0")


# Module scope, not session: sync Playwright keeps an event loop running in this thread while it
# is open, and the async tests of other modules could not start their own.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"The browser tests need Debian's Chromium at {CHROMIUM}, which is missing. "
            "Run scripts/install-system-deps to install it (never `playwright install`).",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


# -- tiny local web servers ----------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    path: str  # with the query string
    headers: dict[str, str]


@dataclass
class LocalSite:
    """A stdlib web server in a thread that serves fixed routes and records every request."""

    routes: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # path -> (type, body)
    hits: list[Hit] = field(default_factory=list)

    def __post_init__(self) -> None:
        site = self
        self._lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                with site._lock:
                    site.hits.append(Hit(self.path, headers))
                route = site.routes.get(urlsplit(self.path).path)
                if route is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                content_type, body = route
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass  # quiet

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.origin = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def requests_to(self, path: str) -> list[Hit]:
        with self._lock:
            return [h for h in self.hits if urlsplit(h.path).path == path]

    def wait_for(self, path: str, count: int = 1, timeout: float = 5.0) -> list[Hit]:
        deadline = time.monotonic() + timeout
        while True:
            found = self.requests_to(path)
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.origin}{path} got {len(found)} of {count} requests")
            time.sleep(0.02)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="module")
def partner() -> Iterator[LocalSite]:
    """The piggyback partner: another origin that a segment's pixels chain to."""
    site = LocalSite()
    yield site
    site.close()


@pytest.fixture(scope="module")
def publisher() -> Iterator[LocalSite]:
    """The publisher whose page carries the segment pixels (a third origin)."""
    site = LocalSite()
    yield site
    site.close()


# -- segpixel as a real server -------------------------------------------------------------------


@dataclass
class Segpixel:
    server: ServerProcess
    data_dir: Path
    admin: ApiClient

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def catalog_version(self) -> int:
        """The catalog database's version (the server's default SQLite catalog in its folder)."""
        with sqlite3.connect(self.data_dir / "catalog.db") as conn:
            return conn.execute("SELECT version FROM catalog_version").fetchone()[0]

    def wait_for_snapshot(self, timeout: float = 10.0) -> None:
        """Until the pixel server's catalog snapshot has caught up with every change made so far."""
        wanted = self.catalog_version()
        deadline = time.monotonic() + timeout
        while True:
            health = httpx.get(f"{self.base_url}/health", timeout=2).json()
            if health["catalog"]["version"] >= wanted:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"catalog snapshot stuck below version {wanted}: {health}")
            time.sleep(0.05)


def redis_or_fail() -> redis.Redis:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(
            f"Redis is required at {REDIS_URL} and cannot be reached ({exc}). "
            "Start it with scripts/ensure-services.",
            pytrace=False,
        )
    return client


@pytest.fixture(scope="module", params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def segpixel(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Segpixel]:
    """`segpixel serve` on its default SQLite catalog, with each profile store."""
    data_dir = tmp_path_factory.mktemp(f"segpixel-{request.param}")
    env = {"SEGPIXEL_CATALOG_POLL_SECONDS": "0.1"}
    client: redis.Redis | None = None
    prefix = f"sp-browser-{os.getpid()}-{secrets.token_hex(4)}:"
    if request.param == "redis":
        client = redis_or_fail()
        env |= {"SEGPIXEL_PROFILE_URL": REDIS_URL, "SEGPIXEL_REDIS_PREFIX": prefix}
    server = ServerProcess(env, data_dir)
    try:
        with httpx.Client(base_url=server.base_url, timeout=30) as http:
            admin = ApiClient(http).login()
            health = http.get("/health").json()
            assert health["profile_store"]["backend"].startswith(request.param), health
            yield Segpixel(server, data_dir, admin)
    finally:
        server.stop()
        if client is not None:
            keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
            if keys:
                client.delete(*keys)
            client.close()
