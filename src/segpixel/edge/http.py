"""Just enough HTTP for raw ASGI handlers: read the query and headers, send prebuilt responses."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from segpixel.domain.pixel import parse_query

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]

# 1×1 transparent GIF, 43 bytes.
GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
NO_STORE = (b"cache-control", b"no-store, no-cache, must-revalidate, max-age=0")
GIF_TYPE = (b"content-type", b"image/gif")
JS_TYPE = (b"content-type", b"application/javascript; charset=utf-8")
JSON_TYPE = (b"content-type", b"application/json")
HTML_TYPE = (b"content-type", b"text/html; charset=utf-8")
TEXT_TYPE = (b"content-type", b"text/plain; version=0.0.4; charset=utf-8")
NOSNIFF = (b"x-content-type-options", b"nosniff")  # on every answer: no content sniffing
MAX_WARNING_HEADER = 1024
MAX_QUERY_BYTES = 16384


def query_bytes(scope: Scope) -> bytes:
    """The query string as parsed: its first MAX_QUERY_BYTES (a pixel needs far fewer)."""
    return scope.get("query_string", b"")[:MAX_QUERY_BYTES]


class Request:
    """The parts of an ASGI scope a hot-path handler reads."""

    __slots__ = ("query", "scope")

    def __init__(self, scope: Scope, query: dict[str, str] | None = None):
        """`query`: the parameters when the caller has them already (the /seg plan cache)."""
        self.scope = scope
        self.query = parse_query(query_bytes(scope)) if query is None else query

    def header(self, name: bytes) -> bytes | None:
        """A header's value; repeated Cookie headers are joined as a browser would send one."""
        found = None
        for key, value in self.scope.get("headers", ()):
            if key == name:
                if found is None:
                    found = value
                elif name == b"cookie":
                    found += b"; " + value
        return found

    @property
    def https(self) -> bool:
        if self.scope.get("scheme") == "https":
            return True
        forwarded = self.header(b"x-forwarded-proto")
        return forwarded is not None and forwarded.split(b",")[0].strip().lower() == b"https"

    @property
    def method(self) -> str:
        return self.scope.get("method", "GET")


async def respond(send: Send, status: int, headers: Headers, body: bytes = b"") -> None:
    headers.append((b"content-length", str(len(body)).encode()))
    headers.append(NOSNIFF)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def warning_header(warnings: list[str]) -> tuple[bytes, bytes] | None:
    """`X-Segpixel-Warning`: why items were skipped, ASCII-safe and bounded."""
    if not warnings:
        return None
    text = "; ".join(warnings)
    text = text.encode("ascii", "replace").decode().replace("\r", " ").replace("\n", " ")
    return (b"x-segpixel-warning", text[:MAX_WARNING_HEADER].encode())


class Nosniff:
    """Pure ASGI: `X-Content-Type-Options: nosniff` on every answer of the app it wraps (the
    raw handlers add it in `respond`)."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_nosniff(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                if not any(k.lower() == NOSNIFF[0] for k, _ in headers):
                    headers.append(NOSNIFF)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_nosniff)
