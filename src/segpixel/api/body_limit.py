"""Refuse request bodies over the configured size before anything reads them (413, SYNTAX)."""

from __future__ import annotations

import contextlib
import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(Exception):
    pass


def path_limit(path: str, per_path: dict[str, int], default: int) -> int:
    """The limit of `path`: its own, or its prefix's (a key ending in "/"), or `default`."""
    if path in per_path:
        return per_path[path]
    prefix = next((p for p in per_path if p.endswith("/") and path.startswith(p)), None)
    return default if prefix is None else per_path[prefix]


class BodyLimit:
    """Pure ASGI: checks Content-Length up front and counts chunked bodies as they stream.

    `per_path` gives some paths a limit of their own (file uploads, which are streamed to disk).
    """

    def __init__(self, app: ASGIApp, max_bytes: int, per_path: dict[str, int] | None = None):
        self.app = app
        self.max_bytes = max_bytes
        self.per_path = per_path or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = path_limit(scope["path"], self.per_path, self.max_bytes)
        for name, value in scope["headers"]:
            if name == b"content-length" and (not value.isdigit() or int(value) > limit):
                await self._refuse(send, limit)
                return
        received = 0
        started = False
        too_large = False

        async def counting_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    too_large = True
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if too_large and not started:
                return  # the app caught BodyTooLarge (FastAPI turns it into a 400): answer 413
            started = started or message["type"] == "http.response.start"
            await send(message)

        with contextlib.suppress(BodyTooLarge):
            await self.app(scope, counting_receive, tracking_send)
        if too_large and not started:
            await self._refuse(send, limit)

    async def _refuse(self, send: Send, limit: int) -> None:
        body = json.dumps(
            {
                "response": {
                    "status": "error",
                    "error_id": "SYNTAX",
                    "error": f"the request body is larger than {limit} bytes",
                    "error_code": "body_too_large",
                }
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    # the unread rest of the body would be taken for the next request
                    (b"connection", b"close"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
