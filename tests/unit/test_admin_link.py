"""ISSUE 14: what a pixel worker tells the admin process about a request (segpixel.admin.link and
the request the worker's forward builds), and its own answer when the admin process is away."""

from __future__ import annotations

import time
from pathlib import Path

import orjson

from segpixel.admin.forward import AdminForward, _request
from segpixel.admin.link import arrived, link_headers


def _scope(**extra: object) -> dict:
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/segment",
        "raw_path": b"/segment",
        "query_string": b"member_id=5",
        "scheme": "http",
        "client": ("203.0.113.7", 51000),
        "server": ("127.0.0.1", 8080),
        "headers": [(b"host", b"pixels.example"), (b"content-length", b"12")],
    }
    scope.update(extra)
    return scope


def test_the_admin_process_sees_the_scope_the_worker_saw() -> None:
    worker_side = _scope(client=("2001:db8::1", 443), scheme="https")
    request, has_body = _request(worker_side)
    assert has_body
    assert request.target == b"/segment?member_id=5"
    admin_side = arrived(
        {"type": "http", "headers": list(request.headers), "client": None, "scheme": "http"}
    )
    assert admin_side["client"] == ("2001:db8::1", 443)
    assert admin_side["scheme"] == "https"
    assert admin_side["server"] == ("127.0.0.1", 8080)
    assert not [name for name, _ in admin_side["headers"] if name.startswith(b"x-segpixel-")]
    assert (b"host", b"pixels.example") in admin_side["headers"]


def test_a_clients_own_link_headers_are_dropped() -> None:
    forged = _scope(
        headers=[
            (b"host", b"x"),
            (b"X-Segpixel-Client", b"10.0.0.1|1"),
            (b"x-segpixel-scheme", b"https"),
        ]
    )
    request, has_body = _request(forged)
    assert not has_body
    ours = [(k, v) for k, v in request.headers if k.startswith(b"x-segpixel-")]
    assert sorted(ours) == sorted(link_headers(forged))
    assert (b"x-segpixel-client", b"203.0.113.7|51000") in ours
    assert (b"x-segpixel-scheme", b"http") in ours


def test_hop_by_hop_headers_stay_and_a_chunked_body_is_sent_chunked() -> None:
    scope = _scope(
        headers=[
            (b"host", b"x"),
            (b"transfer-encoding", b"chunked"),
            (b"connection", b"keep-alive, x-secret"),
            (b"expect", b"100-continue"),
        ]
    )
    request, has_body = _request(scope)
    names = [k for k, _ in request.headers]
    assert has_body
    assert (b"transfer-encoding", b"chunked") in list(request.headers)
    assert b"connection" not in names and b"expect" not in names


def test_an_http_1_0_request_gets_a_host() -> None:
    request, _ = _request(_scope(headers=[]))
    assert (b"host", b"127.0.0.1:8080") in list(request.headers)


def test_an_unknown_scheme_is_plain_http() -> None:
    scope = {"type": "http", "headers": [(b"x-segpixel-scheme", b"gopher")], "client": None}
    assert arrived(scope)["scheme"] == "http"


async def test_no_admin_process_is_a_503_in_the_envelope_after_the_wait(tmp_path: Path) -> None:
    forward = AdminForward(str(tmp_path / "nobody.sock"), wait=0.3)
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    started = time.monotonic()
    await forward(_scope(method="GET", headers=[(b"host", b"x")]), receive, send)
    assert time.monotonic() - started >= 0.25  # it waited for the admin process to come
    start, body = sent
    headers = dict(start["headers"])
    assert start["status"] == 503
    assert headers[b"retry-after"] == b"2"
    assert headers[b"x-content-type-options"] == b"nosniff"
    answer = orjson.loads(body["body"])["response"]
    assert answer["status"] == "error" and answer["error_id"] == "SYSTEM"
    assert "admin process" in answer["error"]
