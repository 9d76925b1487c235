"""Refuse JSON request bodies nested deeper than MAX_DEPTH before anything parses them (400).

A body of a thousand nested arrays is valid JSON that no request of ours needs, and whose parse
and validation recurse as deep: it gets a SYNTAX answer naming the rule instead. Pure ASGI, in
front of the API: JSON bodies (the API's, already bounded by BodyLimit) are read whole, measured
without parsing, and handed on unchanged.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Collection
from itertools import accumulate

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_DEPTH = 64
BIG = 64 << 10  # a body this large is measured off the event loop (~60 ms a MiB)
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"')  # brackets inside strings do not nest
_NESTING = bytes.maketrans(b"[{]}", b"\x01\x01\x02\x02")
_OTHER = bytes(set(range(256)) - {1, 2})


def depth(body: bytes) -> int:
    """How deep the arrays and objects of a JSON text nest (0 for a scalar)."""
    marks = _STRINGS.sub(b"", body).translate(_NESTING).translate(None, _OTHER)
    return max(accumulate(1 if m == 1 else -1 for m in marks), default=0)


class JsonDepth:
    def __init__(self, app: ASGIApp, max_depth: int = MAX_DEPTH, skip: Collection[str] = ()):
        self.app = app
        self.max_depth = max_depth
        self.skip = frozenset(skip)  # paths whose bodies are uploads, streamed where they go

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in ("POST", "PUT", "PATCH")
            or scope["path"] in self.skip
            or any(p.endswith("/") and scope["path"].startswith(p) for p in self.skip)
        ):
            await self.app(scope, receive, send)
            return
        content_type = next((v for k, v in scope["headers"] if k == b"content-type"), b"")
        if not content_type.split(b";")[0].strip().lower().endswith(b"json"):
            await self.app(scope, receive, send)
            return
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away before its body was whole
            body += message.get("body", b"")
            more = message.get("more_body", False)
        deep = await asyncio.to_thread(depth, body) if len(body) > BIG else depth(body)
        if deep > self.max_depth:
            await _refuse(send, self.max_depth)
            return
        replay: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive_again() -> Message:
            return replay.pop() if replay else await receive()

        await self.app(scope, receive_again, send)


async def _refuse(send: Send, max_depth: int) -> None:
    body = json.dumps(
        {
            "response": {
                "status": "error",
                "error_id": "SYNTAX",
                "error": f"the JSON body is nested deeper than {max_depth} levels",
                "error_code": "body_too_deep",
            }
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 400,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
