"""`/optout` and `/optin` (SPEC §3.5): the user's own switch, kept in the identity cookie."""

from __future__ import annotations

import asyncio

from segpixel.edge.cookie import read_identity
from segpixel.edge.http import HTML_TYPE, NO_STORE, Receive, Request, Scope, Send, respond
from segpixel.edge.runtime import EdgeRuntime
from segpixel.errors import StoreUnavailable

PAGE = (
    "<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head>"
    "<body><p>{text}</p></body></html>"
)


def _page(title: str, text: str) -> bytes:
    return PAGE.format(title=title, text=text).encode()


class OptOutHandler:
    """Delete the user's profile and mark the browser `uuid2=-1`: nothing is stored from now on."""

    def __init__(self, runtime: EdgeRuntime):
        self.rt = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope)
        identity = read_identity(request.header(b"cookie"), self.rt.cookie_name)
        headers = [NO_STORE, (b"set-cookie", self.rt.cookies.opt_out(request.https)), HTML_TYPE]
        if identity.user_id is not None:
            try:
                await asyncio.wait_for(
                    self.rt.store.delete_user(identity.user_id), self.rt.read_timeout * 4
                )
            except (StoreUnavailable, TimeoutError):
                # The opt-out cookie is set, so nothing more is stored; the old data is not yet
                # deleted: say so rather than pretend.
                body = _page(
                    "Opt-out incomplete",
                    "You are opted out: nothing more will be stored about this browser. Your "
                    "existing data could not be deleted right now; please load this page again.",
                )
                await respond(send, 503, [*headers, (b"retry-after", b"30")], body)
                return
        body = _page(
            "Opted out",
            "You are opted out: this browser's data was deleted and nothing more will be stored.",
        )
        await respond(send, 200, headers, body)


class OptInHandler:
    """Clear the opt-out: the next pixel gives the browser a new id."""

    def __init__(self, runtime: EdgeRuntime):
        self.rt = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope)
        headers = [NO_STORE, (b"set-cookie", self.rt.cookies.clear(request.https)), HTML_TYPE]
        await respond(
            send, 200, headers, _page("Opted in", "The opt-out of this browser is cleared.")
        )
