"""Read request bodies as JSON when the client did not say what they are.

The reference's own examples send JSON with `curl -d @file.json`, which labels the body
`application/x-www-form-urlencoded` (or nothing at all). So that those scripts keep working, a
body labelled that way, or not labelled, is handed to the API as `application/json`. Bodies that
say what they are (JSON, text, multipart uploads) pass unchanged.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from segpixel.console.urls import PREFIX as CONSOLE_PREFIX

RELABELLED = (b"", b"application/x-www-form-urlencoded")


class JsonBodies:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The console's HTML forms really are form-encoded: only the API's bodies are relabelled.
        if (
            scope["type"] == "http"
            and scope["method"] in ("POST", "PUT", "PATCH")
            and not scope["path"].startswith(CONSOLE_PREFIX + "/")
        ):
            headers = [(k, v) for k, v in scope["headers"] if k != b"content-type"]
            content_type = next((v for k, v in scope["headers"] if k == b"content-type"), b"")
            if content_type.split(b";")[0].strip().lower() in RELABELLED:
                scope = {**scope, "headers": [*headers, (b"content-type", b"application/json")]}
        await self.app(scope, receive, send)
