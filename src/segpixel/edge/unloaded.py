"""Until a worker has a catalog view, the paths that add segments answer 503 + Retry-After.

A worker that could read neither its catalog nor a saved snapshot at start (catalog/snapshot_file)
knows no segment: run as usual, /seg would answer 200 with "unknown segment" for segments that
exist, and store nothing — a 200 that lies. So those paths still give the page its pixel (GIF,
empty script, JSON) but with status 503, `Retry-After` and a warning saying why, and the snapshot
watcher keeps trying; the first view it loads ends this.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from segpixel.edge.ad_render import ttj_script, ut_body
from segpixel.edge.http import (
    GIF,
    GIF_TYPE,
    JS_TYPE,
    JSON_TYPE,
    NO_STORE,
    Receive,
    Request,
    Scope,
    Send,
    respond,
)
from segpixel.edge.runtime import EdgeRuntime
from segpixel.edge.scripts import chain_script

Handler = Callable[[Scope, Receive, Send], Awaitable[None]]
WARNING = (b"x-segpixel-warning", b"not stored: the catalog is not loaded yet")
RETRY_AFTER = (b"retry-after", b"5")


def _gif(request: Request) -> tuple[tuple[bytes, bytes], bytes]:
    return GIF_TYPE, GIF


def _pixel(request: Request) -> tuple[tuple[bytes, bytes], bytes]:
    if request.query.get("t") == "1":
        return JS_TYPE, chain_script([])
    return GIF_TYPE, GIF


def _ttj(request: Request) -> tuple[tuple[bytes, bytes], bytes]:
    return JS_TYPE, ttj_script(None)


def _ut(request: Request) -> tuple[tuple[bytes, bytes], bytes]:
    return JSON_TYPE, ut_body(None, None)


# What each such path answers meanwhile (it is never an error page: the page stays unharmed).
ANSWERS = {"/seg": _pixel, "/ttj": _ttj, "/ut": _ut, "/it": _gif, "/ck": _gif, "/mapuid": _gif}


class NeedsCatalog:
    """Runs `handler` once the worker has a catalog view; answers 503 until then."""

    def __init__(self, handler: Handler, runtime: EdgeRuntime, path: str):
        self.handler = handler
        self.snapshot = runtime.snapshot
        self.answer = ANSWERS[path]
        self.count = runtime.metrics.registry.counter(
            "segpixel_catalog_unloaded_total",
            "Calls answered 503 because the worker has no catalog view yet, by path",
        ).labelled(path=path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.snapshot.loaded:  # the one test a call pays once the catalog is loaded
            await self.handler(scope, receive, send)
            return
        self.count.inc()
        content_type, body = self.answer(Request(scope))
        await respond(send, 503, [NO_STORE, WARNING, RETRY_AFTER, content_type], body)


def needing_catalog(handlers: dict[str, Handler], runtime: EdgeRuntime) -> dict[str, Handler]:
    """The same handlers, those of ANSWERS' paths wrapped in NeedsCatalog."""
    return {
        path: NeedsCatalog(handler, runtime, path) if path in ANSWERS else handler
        for path, handler in handlers.items()
    }
