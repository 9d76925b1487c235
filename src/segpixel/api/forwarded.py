"""Behind a trusted proxy, the request's scheme is the one the proxy was reached by.

nginx terminates TLS and talks plain HTTP to segpixel, saying `X-Forwarded-Proto: https`. From a
peer in `SEGPIXEL_TRUSTED_PROXIES` that header sets the ASGI scope's scheme, so every absolute URL
the API and the console build from the request (redirects such as `/console` → `/console/`, the
public URL of exported tags, `Secure` cookies) says https. From any other peer it is ignored: a
client cannot make segpixel believe it was reached over TLS. Pure ASGI, installed only when trusted
proxies are configured; the pixel paths never pass here (they read the header themselves only to
mark their cookie `Secure`, which a lie cannot weaken).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from segpixel.limits import ClientAddress

SCHEMES = {b"http": "http", b"https": "https"}


class ForwardedProto:
    def __init__(self, app: ASGIApp, client: ClientAddress):
        self.app = app
        self.client = client

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.client.trusts_peer(scope):
            for name, value in scope.get("headers", ()):
                if name == b"x-forwarded-proto":
                    scheme = SCHEMES.get(value.split(b",")[0].strip().lower())
                    if scheme is not None:
                        scope = {**scope, "scheme": scheme}
                    break
        await self.app(scope, receive, send)
