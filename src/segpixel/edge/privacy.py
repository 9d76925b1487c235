"""`/optout` and `/optin` (SPEC §3.5): the user's own switch, kept in the identity cookie.

Opting out is one request (any request that reaches it protects the user). Opting back in needs a
deliberate act, so that an image or script another site embeds can never undo an opt-out: a
top-level navigation (`Sec-Fetch-Dest: document`), or a POST of the form the `/optin` page shows,
which carries a token matching a SameSite=Strict cookie that page set (another site's form cannot
know it, and its POST does not carry the cookie).
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
from urllib.parse import parse_qs

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


OPTIN_COOKIE = "segpixel_optin"
MAX_FORM_BYTES = 4096
PAGE_GUARD = [
    (b"content-security-policy", b"default-src 'none'; form-action 'self'; frame-ancestors 'none'"),
    (b"x-frame-options", b"DENY"),
]


class OptInHandler:
    """Clear the opt-out on a deliberate act; anything else changes nothing (the next pixel of
    an opted-in browser gives it a new id)."""

    def __init__(self, runtime: EdgeRuntime):
        self.rt = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope)
        if request.method == "POST":
            if await self._token_matches(request, receive):
                await self._opted_in(request, send)
            else:
                await self._form(request, send, "The form had expired; please try again.", 403)
            return
        dest = request.header(b"sec-fetch-dest")
        if dest == b"document":
            await self._opted_in(request, send)
        elif dest is None:  # a browser that does not say: ask for the click
            await self._form(request, send)
        else:  # an image, a script, a frame… of some page: never an opt-in
            warning = b"optin needs a deliberate act: open /optin in the browser"
            body = _page("Not opted in", "Nothing was changed.")
            headers = [NO_STORE, HTML_TYPE, *PAGE_GUARD, (b"x-segpixel-warning", warning)]
            await respond(send, 403, headers, body)

    async def _opted_in(self, request: Request, send: Send) -> None:
        headers = [NO_STORE, (b"set-cookie", self.rt.cookies.clear(request.https)), HTML_TYPE]
        body = _page("Opted in", "The opt-out of this browser is cleared.")
        await respond(send, 200, [*headers, *PAGE_GUARD], body)

    async def _form(self, request: Request, send: Send, note: str = "", status: int = 200) -> None:
        token = secrets.token_urlsafe(24)
        secure = "; Secure" if request.https else ""
        cookie = f"{OPTIN_COOKIE}={token}; Path=/optin; Max-Age=3600; HttpOnly; SameSite=Strict"
        body = PAGE.format(
            title="Opt in",
            text=f"{note} This browser is opted out. <form method='post' action='/optin'>"
            f"<input type='hidden' name='token' value='{token}'>"
            "<button type='submit'>Opt back in</button></form>",
        ).encode()
        headers = [NO_STORE, HTML_TYPE, *PAGE_GUARD, (b"set-cookie", (cookie + secure).encode())]
        await respond(send, status, headers, body)

    async def _token_matches(self, request: Request, receive: Receive) -> bool:
        site = request.header(b"sec-fetch-site")
        if site is not None and site not in (b"same-origin", b"none"):
            return False
        body = b""
        more = True
        while more and len(body) <= MAX_FORM_BYTES:
            message = await receive()
            if message["type"] != "http.request":
                return False
            body += message.get("body", b"")
            more = message.get("more_body", False)
        if more or len(body) > MAX_FORM_BYTES:
            return False
        sent = parse_qs(body.decode("latin-1")).get("token", [""])[0]
        expected = _cookie(request.header(b"cookie"), OPTIN_COOKIE)
        return bool(sent) and bool(expected) and hmac.compare_digest(sent, expected)


def _cookie(header: bytes | None, name: str) -> str:
    for part in (header or b"").decode("latin-1").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return ""
