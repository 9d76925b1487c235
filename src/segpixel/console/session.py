"""The console's session cookie, its CSRF token, and the one-shot flash message.

The session is an API token (catalog.users.TokenStore: the same users, roles and lapse rules as
the API) kept in its own HttpOnly cookie scoped to /console. It is deliberately NOT the API's
`segpixel_token` cookie: the API accepts that cookie as a credential on its JSON endpoints, which
read form-encoded bodies as JSON (api/json_bodies.py), so a console session under that name would
let another site's form drive the API. Scoped to /console, the browser never sends it there.

CSRF: every console form carries a token derived from the session token (HMAC), so it is per
session, needs no storage, and cannot be computed by a page that cannot read the HttpOnly cookie.
The login form, which comes before any session, uses a double-submit cookie instead.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import quote, unquote

from starlette.requests import Request
from starlette.responses import Response

from segpixel.console.urls import PREFIX

SESSION_COOKIE = "segpixel_console"
LOGIN_CSRF_COOKIE = "segpixel_console_login"
FLASH_COOKIE = "segpixel_console_flash"
CSRF_FIELD = "csrf_token"


def csrf_for(session_token: str) -> str:
    return hmac.new(session_token.encode(), b"segpixel console csrf", hashlib.sha256).hexdigest()


def csrf_matches(expected: str, sent: object) -> bool:
    return isinstance(sent, str) and bool(sent) and hmac.compare_digest(expected, sent)


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)


def is_https(request: Request) -> bool:
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or forwarded == "https"


def set_console_cookie(
    response: Response, request: Request, name: str, value: str, max_age: int | None = None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=PREFIX,
        httponly=True,
        samesite="lax",  # a cross-site POST never carries it; following a link to the console does
        secure=is_https(request),
    )


def clear_console_cookie(response: Response, name: str) -> None:
    response.delete_cookie(name, path=PREFIX)


def set_flash(response: Response, request: Request, message: str, segment_id: int = 0) -> None:
    """A message for the next page shown (after a redirect), e.g. "Segment 12 saved."."""
    set_console_cookie(response, request, FLASH_COOKIE, f"{segment_id}:{quote(message)}", 60)


def read_flash(request: Request) -> tuple[str, int] | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    head, _, text = raw.partition(":")
    return unquote(text)[:300], int(head) if head.isdigit() else 0
