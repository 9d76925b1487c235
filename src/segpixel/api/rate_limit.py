"""Rate limits (SPEC §2 `LIMIT`: 429 with `Retry-After`): the API per client, logins per client.

Token buckets kept in memory by each worker process: a limit of N a minute lets a client spend N
at once, then one every 60/N seconds. With several workers (or servers) a client may get up to N
per worker — the limits are a brake on floods and password guessing, not a quota.

- `ApiRateLimit`: pure ASGI in front of the API and console (the pixel paths never reach it);
  `SEGPIXEL_API_RATE_LIMIT` requests a minute per client IP, 0 = off. Keyed by the IP, not the
  token: a made-up token per request would otherwise get a fresh bucket each time.
- Logins have limits of their own, taken before the password is checked: `api.logins`.

The client IP is the socket's peer, or — when the peer is one of `SEGPIXEL_TRUSTED_PROXIES` — the
last address in `X-Forwarded-For` that is not a trusted proxy.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from segpixel.api.envelope import RATE_EXCEEDED
from segpixel.limits import ClientAddress, TokenBuckets, retry_after

__all__ = ["ApiRateLimit", "ClientAddress"]


def limit_body(message: str) -> bytes:
    return json.dumps(
        {
            "response": {
                "status": "error",
                "error_id": "LIMIT",
                "error": message,
                "error_code": RATE_EXCEEDED,
            }
        }
    ).encode()


class ApiRateLimit:
    """Pure ASGI: answers 429 LIMIT before the API sees the request when the client's bucket is
    empty. Costs one dict lookup a request; not installed at all when the limit is 0."""

    def __init__(
        self, app: ASGIApp, per_minute: int, clock: Callable[[], float], client: ClientAddress
    ):
        self.app = app
        self.per_minute = per_minute
        self.buckets = TokenBuckets(per_minute, clock)
        self.client = client

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wait = self.buckets.take(self.client(scope))
        if not wait:
            await self.app(scope, receive, send)
            return
        seconds = retry_after(wait)
        body = limit_body(
            f"too many requests: at most {self.per_minute} a minute from one client; "
            f"retry after {seconds} s"
        )
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"retry-after", str(seconds).encode()),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
