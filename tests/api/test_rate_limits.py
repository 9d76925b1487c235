"""Rate and size limits (SPEC §2: `LIMIT` is 429 with `Retry-After`; issue 7 item 5).

The app is built in-process with a clock the test moves, so "after the wait it passes" is checked by
moving the clock by exactly `Retry-After` seconds rather than by sleeping. Each limit is a token
bucket per client IP and per worker process (segpixel.limits).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from segpixel.app import create_app
from segpixel.catalog.db import Catalog
from segpixel.settings import Settings
from tests.console.helpers import csrf_of
from tests.helpers import ADMIN_PASSWORD


class Clock:
    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@pytest.fixture
def limited(catalog: Catalog, catalog_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A factory: the app with these settings, served in-process; yields (client, clock)."""
    opened: list[TestClient] = []

    def make(**settings: Any) -> tuple[TestClient, Clock]:
        clock = Clock()
        app = create_app(
            Settings(catalog_url=catalog_url, data_dir=tmp_path / str(len(opened)), **settings),
            clock=clock,
        )
        client = TestClient(app)
        client.__enter__()
        opened.append(client)
        return client, clock

    yield make
    for client in opened:
        client.__exit__(None, None, None)


def login(client: TestClient, password: str = ADMIN_PASSWORD, **headers: str):  # type: ignore[no-untyped-def]
    body = {"auth": {"username": "admin", "password": password}}
    return client.post("/auth", json=body, headers=headers)


def assert_limited(response: Any, retry_after: int) -> dict[str, Any]:
    assert response.status_code == 429, (response.status_code, response.text)
    assert response.headers["retry-after"] == str(retry_after)
    body = response.json()["response"]
    assert body["status"] == "error" and body["error_id"] == "LIMIT", body
    # what the reference's clients (appnexus-client and others) back off on (SPEC §2)
    assert body["error_code"] == "RATE_EXCEEDED", body
    assert "retry after" in body["error"], body
    return body


def test_the_api_limit_answers_429_limit_then_lets_the_client_through(limited) -> None:
    client, clock = limited(api_rate_limit=5, trusted_proxies="*")
    token = login(client).json()["response"]["token"]  # 1 of 5
    auth = {"Authorization": token}
    for _ in range(4):  # 2..5 of 5
        assert client.get("/segment", headers=auth).status_code == 200
    body = assert_limited(client.get("/segment", headers=auth), retry_after=12)  # 60 s / 5
    print(f"\nover the API limit: {body}")
    # The pixel paths are not behind the API limit.
    for _ in range(10):
        assert client.get("/seg?add=1").status_code == 200
    assert client.get("/health").status_code == 200
    # Another client (named by a trusted proxy's X-Forwarded-For) has its own bucket.
    other = {**auth, "X-Forwarded-For": "203.0.113.7"}
    assert client.get("/segment", headers=other).status_code == 200
    clock.offset += 11
    assert_limited(client.get("/segment", headers=auth), retry_after=1)
    clock.offset += 1
    assert client.get("/segment", headers=auth).status_code == 200


def test_failed_logins_are_limited_per_ip_and_successes_cost_nothing(limited) -> None:
    client, clock = limited(login_rate_limit=3)
    for _ in range(6):  # successful logins never count
        assert login(client).status_code == 200
    for _ in range(3):
        assert login(client, "wrong-password").status_code == 401
    # Spent: even the right password is refused now, so guessing learns nothing.
    body = assert_limited(login(client), retry_after=20)  # 60 s / 3
    print(f"\nover the login limit: {body}")
    # The console's login form shares the bucket.
    form = client.get("/console/login")
    page = client.post(
        "/console/login",
        data={"username": "admin", "password": ADMIN_PASSWORD, "csrf_token": csrf_of(form.text)},
        follow_redirects=False,
    )
    assert page.status_code == 429 and page.headers["retry-after"] == "20"
    assert "too many failed logins" in page.text
    clock.offset += 20
    assert login(client).status_code == 200
    # One token back: one more wrong guess, then limited again.
    assert login(client, "wrong-password").status_code == 401
    assert_limited(login(client, "wrong-password"), retry_after=20)


def test_console_login_failures_count_too(limited) -> None:
    client, _clock = limited(login_rate_limit=2)
    for _ in range(2):
        form = client.get("/console/login")
        page = client.post(
            "/console/login",
            data={"username": "admin", "password": "nope-nope", "csrf_token": csrf_of(form.text)},
            follow_redirects=False,
        )
        assert page.status_code == 401
    assert_limited(login(client), retry_after=30)


def test_limits_off(limited) -> None:
    client, _clock = limited(api_rate_limit=0, login_rate_limit=0)
    for _ in range(30):
        assert login(client, "wrong-password").status_code == 401
    assert login(client).status_code == 200


def test_the_body_limit_is_a_setting(limited) -> None:
    client, _clock = limited(max_body_bytes=2048)
    auth = {"Authorization": login(client).json()["response"]["token"]}
    big = {"segment": {"short_name": "x", "description": "d" * 3000}}
    response = client.post("/segment?member_id=1", json=big, headers=auth)
    assert response.status_code == 413, response.text
    body = response.json()["response"]
    assert body["error_id"] == "SYNTAX" and "2048 bytes" in body["error"]


def test_the_pixel_limit_still_answers_a_pixel_and_stores_nothing(limited, catalog) -> None:
    client, clock = limited(pixel_rate_limit=3, catalog_poll_seconds=0.05)
    auth = {"Authorization": login(client).json()["response"]["token"]}
    member = client.post("/member", json={"member": {"name": "M"}}, headers=auth).json()
    mid = member["response"]["member"]["id"]
    segment = client.post(
        f"/segment?member_id={mid}", json={"segment": {"short_name": "S"}}, headers=auth
    ).json()["response"]["segment"]
    wanted, deadline = catalog.version(), time.monotonic() + 5
    while client.get("/health").json()["catalog"]["version"] < wanted:
        assert time.monotonic() < deadline, "the segment never reached the pixel's snapshot"
        time.sleep(0.02)
    cookie = {"Cookie": "uuid2=123456789"}
    for _ in range(3):
        response = client.get("/seg?add=1", headers=cookie)
        assert response.status_code == 200
        assert "rate limited" not in response.headers.get("x-segpixel-warning", "")
    over = client.get(f"/seg?add={segment['id']}", headers=cookie)
    assert over.status_code == 200
    assert over.headers["content-type"] == "image/gif" and len(over.content) == 43
    assert "rate limited: nothing stored" in over.headers["x-segpixel-warning"]
    assert "set-cookie" not in over.headers
    script = client.get(f"/seg?add={segment['id']}&t=1", headers=cookie)
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("application/javascript")
    metrics = client.get("/metrics").text
    assert "segpixel_pixel_rate_limited_total 2" in metrics, metrics
    clock.offset += 20  # one call a 20 s
    debug = client.get(f"/seg?add={segment['id']}&debug=1", headers=cookie).json()
    assert [m["segment_id"] for m in debug["memberships"]] == [segment["id"]], debug
