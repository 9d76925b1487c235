"""Shared fixtures: real catalogs (SQLite, PostgreSQL), the API in-process and over real HTTP.

Every backend is real. PostgreSQL must run on 127.0.0.1:5432 (scripts/test starts it when down);
when it cannot be reached the tests that need it fail with a sentence that says so — never a skip.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.exc import OperationalError

from segpixel.catalog.db import Catalog
from segpixel.catalog.migrate import upgrade
from segpixel.catalog.passwords import hash_password
from segpixel.catalog.repo import utcnow
from segpixel.catalog.tables import Base, CatalogVersion, User
from tests.helpers import ADMIN_PASSWORD, ApiClient

PG_ADMIN = os.environ.get("SEGPIXEL_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The run's wall time with the installs scripts/test made first (it sets the start)."""
    started = os.environ.get("SEGPIXEL_TEST_STARTED", "")
    if started.isdigit():
        took = int(time.time()) - int(started)
        terminalreporter.write_line(
            f"wall time of scripts/test, installs included: {took // 60} min {took % 60} s"
        )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `last` run after all others: they check what the others observed."""
    items.sort(key=lambda item: item.get_closest_marker("last") is not None)


def pg_connect_admin() -> psycopg.Connection:
    try:
        return psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL is required at {PG_ADMIN} and cannot be reached ({exc}). Start it with "
            "'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start'.",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run, dropped at the end."""
    name = f"segpixel_test_{os.getpid()}_{secrets.token_hex(3)}"
    with pg_connect_admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with pg_connect_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def new_pg_database() -> Iterator[callable]:
    """Make more fresh databases on demand (migration tests want an empty one)."""
    made: list[str] = []

    def make() -> str:
        name = f"segpixel_test_{os.getpid()}_{secrets.token_hex(4)}"
        with pg_connect_admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        made.append(name)
        return f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}"

    yield make
    with pg_connect_admin() as conn:
        for name in made:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def catalog_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated catalog database of each kind, shared by the session and wiped between tests."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('catalog') / 'catalog.db'}"
    else:
        url = request.getfixturevalue("pg_database").replace(
            "postgresql://", "postgresql+psycopg://"
        )
    catalog = Catalog(url)
    upgrade(catalog.engine)
    catalog.dispose()
    return url


@pytest.fixture(scope="session")
def admin_hash() -> str:
    return hash_password(ADMIN_PASSWORD)


@pytest.fixture
def catalog(catalog_url: str, admin_hash: str) -> Iterator[Catalog]:
    """The catalog, emptied, with one admin user (password tests.helpers.ADMIN_PASSWORD)."""
    catalog = Catalog(catalog_url)
    wipe(catalog)
    with catalog.session() as session:
        session.add(
            User(
                username="admin",
                password_hash=admin_hash,
                role="admin",
                active=True,
                last_modified=utcnow(),
            )
        )
    yield catalog
    catalog.dispose()


def wipe(catalog: Catalog, attempts: int = 5) -> None:
    """Empty every table (ids restart) and move the catalog version so watchers reload.

    On PostgreSQL a running server's snapshot load holds share locks on some tables while it
    reads the next, and TRUNCATE takes its exclusive locks one table at a time: the two can
    deadlock, and PostgreSQL then aborts one of them. The snapshot retries on its own; so does this.
    """
    for attempt in range(attempts):
        try:
            _wipe(catalog)
            return
        except OperationalError as exc:
            if "deadlock detected" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.05)


def _wipe(catalog: Catalog) -> None:
    with catalog.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(
                t.name for t in Base.metadata.sorted_tables if t.name != "catalog_version"
            )
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                if table.name != "catalog_version":
                    conn.execute(delete(table))
            conn.execute(text("DELETE FROM sqlite_sequence")) if _has_sequence(conn) else None
        conn.execute(update(CatalogVersion).values(version=CatalogVersion.version + 1))


def _has_sequence(conn) -> bool:  # type: ignore[no-untyped-def]
    return bool(
        conn.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'")).first()
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """`segpixel serve` in a subprocess on a free port, the way users run it."""

    def __init__(
        self, env: dict[str, str], data_dir: Path, workers: int = 1, log: Path | None = None
    ):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log = log or data_dir / "server.log"  # `log`: elsewhere (a data folder's disk is full)
        data_dir.mkdir(parents=True, exist_ok=True)
        full_env = {
            **os.environ,
            "SEGPIXEL_DATA_DIR": str(data_dir),
            "SEGPIXEL_ADMIN_PASSWORD": ADMIN_PASSWORD,
            # tests log in far more often than a person: the per-user login limit has its own
            "SEGPIXEL_LOGIN_SUCCESS_LIMIT": "0",
            **env,
        }
        self._log_file = self.log.open("w")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "segpixel",
                "serve",
                "--port",
                str(self.port),
                "--workers",
                str(workers),
            ],
            env=full_env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"segpixel serve exited early:\n{self.log.read_text()}")
            try:
                httpx.get(f"{self.base_url}/auth", timeout=1.0)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"segpixel serve did not start in {timeout}s:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log_file.close()


@pytest.fixture(scope="session")
def http_server(
    catalog_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    server = ServerProcess({"SEGPIXEL_CATALOG_URL": catalog_url}, tmp_path_factory.mktemp("server"))
    yield server
    server.stop()


@pytest.fixture(params=["inprocess", "http"])
def api(request: pytest.FixtureRequest, catalog: Catalog, catalog_url: str, tmp_path: Path):
    """The API, in-process (Starlette's TestClient) and over real HTTP to `segpixel serve`."""
    if request.param == "inprocess":
        from starlette.testclient import TestClient

        from segpixel.app import create_app
        from segpixel.settings import Settings

        app = create_app(Settings(catalog_url=catalog_url, data_dir=tmp_path))
        with TestClient(app) as client:
            yield ApiClient(client)
    else:
        server = request.getfixturevalue("http_server")
        with httpx.Client(base_url=server.base_url, timeout=30) as client:
            yield ApiClient(client)


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A 3-master / 3-replica Redis Cluster on free ports (tests/support/redis_cluster.py), for
    the session: its `redis+cluster://` URL. Fails, never skips, without redis-server."""
    from tests.support.redis_cluster import LocalCluster, free_base_port

    cluster = LocalCluster(tmp_path_factory.mktemp("redis-cluster"), free_base_port())
    try:
        cluster.start()
    except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
        cluster.stop()
        pytest.fail(f"the local Redis Cluster did not start: {exc}", pytrace=False)
    yield f"redis+cluster://{cluster.startup_nodes}"
    cluster.stop()
