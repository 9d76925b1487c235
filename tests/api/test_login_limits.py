"""Logins under a flood (ISSUE 14 item 2), over HTTP to `segpixel serve` (granian, one worker).

The login limit is taken before the password is hashed, so a burst of wrong passwords sent all at
once gets at most the limit's allowance of 401s; successful logins are limited per user (10 in 5
minutes, as the reference); the hashing runs on a bounded pool off the event loop, so the pixel
keeps answering while logins wait there; and tokens do not pile up in the catalog. Each test
speaks from an address of its own (X-Forwarded-For from a trusted proxy), so the per-address
buckets of one test do not touch another's.
"""

from __future__ import annotations

import itertools
import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.conftest import ServerProcess
from tests.helpers import ADMIN_PASSWORD, ApiClient

LIMIT = 10
PASSWORD = "password-123"
_addresses = itertools.count(1)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("logins")
    env = {
        "SEGPIXEL_CATALOG_URL": f"sqlite:///{root / 'catalog.db'}",
        "SEGPIXEL_LOGIN_RATE_LIMIT": str(LIMIT),
        "SEGPIXEL_LOGIN_SUCCESS_LIMIT": "10",
        "SEGPIXEL_TRUSTED_PROXIES": "127.0.0.1",
        "SEGPIXEL_PASSWORD_THREADS": "2",
        "SEGPIXEL_PASSWORD_QUEUE": "400",
        "SEGPIXEL_JOBS": "false",
    }
    made = ServerProcess(env, root / "data")
    made.catalog = root / "catalog.db"  # type: ignore[attr-defined]
    yield made
    made.stop()


def address() -> dict[str, str]:
    return {"X-Forwarded-For": f"198.51.100.{next(_addresses)}"}


def login(base_url: str, password: str, headers: dict[str, str], username: str = "admin"):
    body = {"auth": {"username": username, "password": password}}
    return httpx.post(f"{base_url}/auth", json=body, headers=headers, timeout=60)


def test_a_burst_of_wrong_passwords_gets_at_most_the_limit_of_401s(server: ServerProcess) -> None:
    headers = address()
    with ThreadPoolExecutor(40) as pool:
        answers = list(pool.map(lambda n: login(server.base_url, f"wrong-{n}", headers), range(40)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(401) <= LIMIT, statuses
    assert statuses.count(401) + statuses.count(429) == 40, statuses
    refused = next(a for a in answers if a.status_code == 429)
    assert refused.json()["response"]["error_id"] == "LIMIT"
    assert int(refused.headers["retry-after"]) >= 1
    # the right password is refused too while the address's bucket is empty
    assert login(server.base_url, ADMIN_PASSWORD, headers).status_code == 429


def test_successful_logins_are_limited_per_user(server: ServerProcess) -> None:
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        admin = ApiClient(http).login()
        # (make_user logs the new user in: its first successful login)
        admin.make_user("scripted", "member", PASSWORD, member_id=admin.make_member("M")["id"])
    statuses = [
        login(server.base_url, PASSWORD, address(), "scripted").status_code for _ in range(12)
    ]
    assert statuses == [200] * 9 + [429] * 3, statuses
    refused = login(server.base_url, PASSWORD, address(), "scripted").json()["response"]
    assert "at most 10 in 5 minutes" in refused["error"]
    # another user is not held up, and a successful login does not spend the address's bucket
    headers = address()
    assert all(login(server.base_url, ADMIN_PASSWORD, headers).status_code == 200 for _ in range(3))
    tokens = _tokens_of(server, "scripted")
    assert tokens == 10


def test_the_pixel_answers_while_a_login_flood_waits_for_the_password_pool(
    server: ServerProcess,
) -> None:
    """200 concurrent logins (scrypt: tens of ms each, two at a time) keep the pool busy for
    seconds; pixels fired meanwhile are answered while logins are still waiting."""
    waiting = 0
    lock = threading.Lock()
    done = threading.Event()
    headers = address()

    def one_login(n: int) -> int:
        nonlocal waiting
        with lock:
            waiting += 1
        try:
            # distinct users that do not exist: no limit of ours applies, every one is hashed
            return login(server.base_url, "x", {**address()}, f"nobody-{n}").status_code
        finally:
            with lock:
                waiting -= 1

    pixels_during: list[int] = []

    def fire_pixels() -> None:
        with httpx.Client(base_url=server.base_url, timeout=30) as http:
            while not done.is_set():
                response = http.get("/seg?add=1", headers=headers)
                assert response.status_code == 200
                with lock:
                    if waiting:
                        pixels_during.append(waiting)

    shooter = threading.Thread(target=fire_pixels)
    with ThreadPoolExecutor(200) as pool:
        futures = [pool.submit(one_login, n) for n in range(200)]
        shooter.start()
        statuses = [f.result() for f in futures]
    done.set()
    shooter.join(timeout=30)
    assert statuses.count(401) == 200, sorted(set(statuses))
    assert len(pixels_during) >= 10, pixels_during  # answered while logins were held
    assert max(pixels_during) >= 50, max(pixels_during)


def test_a_full_password_pool_refuses_at_once(tmp_path: Path) -> None:
    env = {
        "SEGPIXEL_CATALOG_URL": f"sqlite:///{tmp_path / 'catalog.db'}",
        "SEGPIXEL_LOGIN_RATE_LIMIT": "0",
        "SEGPIXEL_PASSWORD_THREADS": "1",
        "SEGPIXEL_PASSWORD_QUEUE": "2",
        "SEGPIXEL_JOBS": "false",
    }
    server = ServerProcess(env, tmp_path / "data")
    try:
        with ThreadPoolExecutor(30) as pool:
            answers = list(pool.map(lambda n: login(server.base_url, "x", {}), range(30)))
        statuses = [a.status_code for a in answers]
        assert 401 in statuses and 429 in statuses, statuses
        busy = next(a for a in answers if a.status_code == 429).json()["response"]
        assert busy["error"].startswith("too many password checks at once")
    finally:
        server.stop()


def _tokens_of(server: ServerProcess, username: str) -> int:
    with sqlite3.connect(server.catalog) as conn:  # type: ignore[attr-defined]
        (count,) = conn.execute(
            "SELECT count(*) FROM api_tokens JOIN users ON users.id = api_tokens.user_id "
            "WHERE users.username = ?",
            (username,),
        ).fetchone()
    return count
