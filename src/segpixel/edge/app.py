"""The one ASGI app of a worker: hot paths to raw handlers, everything else to the API.

A thin router on the path (a dict lookup); the lifespan starts the runtime (snapshot, store,
writer) once per worker process. (STYLE habit 8: pure ASGI in front of the hot path.)
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from segpixel.edge.adcall import TtjHandler, UtHandler
from segpixel.edge.creative_adds import ClickHandler, ImpressionHandler
from segpixel.edge.http import Receive, Scope, Send
from segpixel.edge.privacy import OptInHandler, OptOutHandler
from segpixel.edge.runtime import EdgeRuntime
from segpixel.edge.seg import SegHandler
from segpixel.edge.status import CookieHandler, HealthHandler, MetricsHandler
from segpixel.edge.sync import (
    GetUidHandler,
    GetUidJsonHandler,
    GetUidJsonpHandler,
    MapUidHandler,
    SetUidHandler,
)
from segpixel.edge.unloaded import needing_catalog

log = logging.getLogger("segpixel.edge")
Handler = Callable[[Scope, Receive, Send], Awaitable[None]]


def hot_paths(runtime: EdgeRuntime) -> dict[str, Handler]:
    return needing_catalog(_handlers(runtime), runtime)


def _handlers(runtime: EdgeRuntime) -> dict[str, Handler]:
    return {
        "/seg": SegHandler(runtime),
        "/optout": OptOutHandler(runtime),
        "/optin": OptInHandler(runtime),
        "/getuid": GetUidHandler(runtime),
        "/getuidj": GetUidJsonHandler(runtime),
        "/getuidp": GetUidJsonpHandler(runtime),
        "/setuid": SetUidHandler(runtime),
        "/mapuid": MapUidHandler(runtime),
        "/ttj": TtjHandler(runtime),
        "/ut": UtHandler(runtime),
        "/it": ImpressionHandler(runtime),
        "/ck": ClickHandler(runtime),
        "/cookie": CookieHandler(runtime),
        "/health": HealthHandler(runtime),
        "/metrics": MetricsHandler(runtime),
    }


POSTED = {"/optin"}  # hot paths that also take a POST (the opt-in page's form)


class EdgeApp:
    def __init__(self, api: Any, runtime: EdgeRuntime, handlers: dict[str, Handler] | None = None):
        self.api = api
        self.runtime = runtime
        self.handlers = handlers if handlers is not None else hot_paths(runtime)
        self.posted = {path: self.handlers[path] for path in POSTED if path in self.handlers}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            handler = self.handlers.get(scope["path"])
            if handler is not None and scope["method"] in ("GET", "HEAD"):
                # A GET pixel's body (if a client sends one) is never read: no await spent on it.
                await handler(scope, receive, send)
                return
            if scope["method"] == "POST" and (posted := self.posted.get(scope["path"])):
                await posted(scope, receive, send)
                return
            await self.api(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        else:
            await self.api(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.runtime.start()
                except Exception as exc:
                    log.exception("start-up failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.runtime.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return
