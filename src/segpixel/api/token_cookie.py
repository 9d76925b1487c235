"""The API token as a cookie (SPEC §2.1), so the reference's `curl -b cookies -c cookies` works.

`POST /auth` sets `segpixel_token` (HttpOnly, SameSite=Strict, Secure over https, Path=/) and it
lapses when the token reaches its hard limit; `DELETE /auth` clears it. The token idles out on the
server as any other (api/deps.py reads it when no Authorization header is sent).

A cookie is sent by the browser whoever made the page, and the API reads form-encoded bodies as
JSON (api/json_bodies.py): so a request authenticated only by the cookie that would change
anything is refused when `Origin` or `Sec-Fetch-Site` says another site sent it. Scripts send
neither header; browsers send them on every cross-site POST, PUT and DELETE. A cross-site login
gets its token in the answer but no cookie (no one logs a browser into someone else's account).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from segpixel.console.session import is_https

TOKEN_COOKIE = "segpixel_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SAME_SITE = frozenset({"same-origin", "none"})  # Sec-Fetch-Site of our own pages and of scripts


def set_token_cookie(response: Response, request: Request, token: str, max_age: int) -> None:
    response.set_cookie(
        TOKEN_COOKIE,
        token,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=is_https(request),
    )


def clear_token_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(
        TOKEN_COOKIE, path="/", httponly=True, samesite="strict", secure=is_https(request)
    )


def cross_site(request: Request) -> str | None:
    """Why the browser says this request comes from another site; None when it does not."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site.strip().lower() not in SAME_SITE:
        return f"Sec-Fetch-Site is {site[:20]!r}"
    origin = request.headers.get("origin")
    if origin is not None:
        # The host only: behind a TLS proxy that is not trusted the scheme seen here is http
        # while the page's is https. (A browser that sends Origin sends Sec-Fetch-Site too, and
        # that one tells an http page of this host from an https one.)
        _, _, host = origin.strip().lower().rstrip("/").partition("://")
        if not host or host != request.headers.get("host", "").lower():
            return f"Origin is {origin[:100]!r}, not this server"
    return None
