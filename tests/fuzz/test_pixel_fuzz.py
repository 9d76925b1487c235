"""The hot paths under hostile input: arbitrary query bytes, cookies and headers (hypothesis).

Straight at the ASGI app (no HTTP parser in between, so any bytes reach our code), with a real
SQLite profile store. The property: every answer is a well-formed HTTP response that is not a 5xx
(a 503 only where a write could not be kept, which cannot happen here), the pixel is always a
pixel, and nothing hangs.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segpixel.catalog.db import Catalog
from segpixel.catalog.members import MemberRepo
from segpixel.catalog.migrate import upgrade
from segpixel.catalog.segments import SegmentRepo
from segpixel.domain.access import Principal
from segpixel.settings import Settings

pytestmark = pytest.mark.asyncio(loop_scope="module")

HOT_PATHS = ["/seg", "/optout", "/optin", "/getuid", "/setuid", "/mapuid", "/cookie", "/health"]
PIXEL_WORDS = [
    b"add",
    b"add_code",
    b"remove",
    b"remove_code",
    b"member",
    b"value",
    b"other",
    b"t",
    b"redir",
    b"gdpr",
    b"gdpr_consent",
    b"consent",
    b"debug",
    b"seg",
    b"seg_code",
    b"user",
    b"partner",
    b"uid",
    b"member_id",
    b"dongle",
]


@pytest_asyncio.fixture(scope="module", loop_scope="module")  # the tests' loop: its writer runs
async def edge(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator:
    from segpixel.app import create_app

    root: Path = tmp_path_factory.mktemp("pixel-fuzz")
    settings = Settings(data_dir=root, catalog_poll_seconds=0.2)
    catalog = Catalog(settings.resolved().catalog_url or "")
    upgrade(catalog.engine)
    operator = Principal(0, "fuzz", "admin")
    with catalog.session() as session:
        MemberRepo(session, operator).create({"name": "Fuzz", "redirect_domains": ["ok.example"]})
        repo = SegmentRepo(session, operator)
        repo.create(1, None, {"short_name": "A", "code": "a"})
        repo.create(1, None, {"short_name": "B", "code": "B", "expire_minutes": 0})
        repo.create(
            1,
            None,
            {
                "short_name": "C",
                "max_usersync_pixels": 2,
                "piggyback_pixels": [{"url": "https://pb.example/p.js", "pixel_type": "js"}],
            },
        )
    catalog.dispose()
    app = create_app(settings)
    await app.runtime.start()
    yield app
    await app.runtime.stop()


_query = st.one_of(
    st.binary(max_size=600),
    st.lists(
        st.tuples(
            st.sampled_from(PIXEL_WORDS) | st.binary(max_size=12),
            st.binary(max_size=40)
            | st.sampled_from([b"1", b"2", b"3", b"1:5", b"a", b"B", b"-1", b"99999999999", b"%"]),
        ),
        max_size=12,
    ).map(lambda pairs: b"&".join(k + b"=" + v for k, v in pairs)),
)
_cookie = st.one_of(
    st.none(),
    st.binary(max_size=300),
    st.sampled_from([b"uuid2=-1", b"uuid2=0", b"uuid2=12345", b"uuid2=" + b"9" * 30]),
)
_headers = st.lists(
    st.tuples(
        st.sampled_from([b"x-forwarded-proto", b"host", b"user-agent", b"cookie"])
        | st.binary(max_size=20),
        st.binary(max_size=100),
    ),
    max_size=6,
)


async def call(
    app, path: str, query: bytes, headers: list[tuple[bytes, bytes]]
) -> tuple[int, dict, bytes]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "headers": headers,
        "client": ("127.0.0.1", 1234),
        "server": ("127.0.0.1", 80),
    }
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    await asyncio.wait_for(app(scope, receive, send), timeout=5)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], dict(start["headers"]), body


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(path=st.sampled_from(HOT_PATHS), query=_query, cookie=_cookie, extra=_headers)
async def test_hot_paths_never_fail_on_hostile_input(edge, path, query, cookie, extra) -> None:
    headers = list(extra) + ([(b"cookie", cookie)] if cookie is not None else [])
    status, response_headers, body = await call(edge, path, query, headers)
    assert status < 500, (path, query, headers, status, body[:200])
    if path == "/seg" and b"debug=1" not in query:
        assert status in (200, 302), (query, status)
        content_type = response_headers.get(b"content-type", b"")
        assert status == 302 or content_type in (
            b"image/gif",
            b"application/javascript; charset=utf-8",
            b"application/json",  # debug=1 spelled in a way our parser still reads
        ), (query, content_type)
    for name, value in response_headers.items():
        assert b"\r" not in value and b"\n" not in value, (name, value)  # no header injection
