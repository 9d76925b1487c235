"""The console application, mounted by the API app under /console (one process serves both)."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from segpixel.api.deps import ApiState
from segpixel.console import urls
from segpixel.console.deps import CsrfRefused, LoginRequired, current_user
from segpixel.console.render import STATIC, page
from segpixel.console.routes import advertisers, auth, export, segment_form, segments, tester
from segpixel.domain.errors import ValidationFailed
from segpixel.errors import SegpixelError

log = logging.getLogger("segpixel.console")

# Everything the pages use is served from here: no inline script, nothing from another origin.
# `connect-src 'self'` is what lets the pixel tester call /seg and /cookie on this server.
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]
STATUS_TITLES = {
    400: "That request cannot be read",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict",
    500: "Something went wrong",
}


class SecurityHeaders:
    """Pure ASGI: the same headers on every console response (pages, redirects, static files)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name for name, _ in headers}
                headers += [(k, v) for k, v in SECURITY_HEADERS if k not in names]
                if not scope["path"].startswith(f"{urls.PREFIX}/static/") and (
                    b"cache-control" not in names
                ):
                    headers.append((b"cache-control", b"no-store"))  # pages show live data
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def create_console(state: ApiState) -> ASGIApp:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.state.api = state
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (auth, advertisers, segments, segment_form, export, tester):
        app.include_router(module.router)
    app.add_exception_handler(LoginRequired, _login_required)  # type: ignore[arg-type]
    app.add_exception_handler(CsrfRefused, _csrf_refused)  # type: ignore[arg-type]
    app.add_exception_handler(SegpixelError, _segpixel_error)  # type: ignore[arg-type]
    app.add_exception_handler(ValidationFailed, _validation_failed)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _bad_request)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected)
    return SecurityHeaders(app)


def error_page(request: Request, status: int, message: str, title: str = "") -> Response:
    try:  # the top bar (who is logged in, log out) stays on error pages when there is a session
        user = current_user(request)
    except LoginRequired:
        user = None
    title = title or STATUS_TITLES.get(status, "Error")
    return page(request, "error.html", user, status=status, title=title, message=message)


async def _login_required(request: Request, exc: LoginRequired) -> Response:
    target = urls.console_url("/login", next=exc.next_url, expired=1 if exc.reason else None)
    return RedirectResponse(target, status_code=303)


async def _csrf_refused(request: Request, _exc: CsrfRefused) -> Response:
    return error_page(
        request,
        403,
        "It did not carry this session's security token: it was not sent from a console "
        "page, or the page is older than your login. Nothing was changed. Go back, reload the "
        "page and try again.",
        title="This form was refused",
    )


async def _segpixel_error(request: Request, exc: SegpixelError) -> Response:
    status = {"UNAUTH": 403, "NOTFOUND": 404, "INTEGRITY": 409, "SYNTAX": 400}.get(
        exc.error_id, 500
    )
    if status == 500:
        log.error("console: %s", exc.message)
    return error_page(request, status, exc.message)


async def _validation_failed(request: Request, exc: ValidationFailed) -> Response:
    return error_page(request, 400, str(exc))


async def _bad_request(request: Request, _exc: RequestValidationError) -> Response:
    return error_page(
        request,
        404,
        "There is no such page: the address has a number or option this page does not understand.",
    )


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    if exc.status_code == 404:
        return error_page(request, 404, "There is no such page in the console.")
    if exc.status_code == 405:
        return error_page(request, 405, "This page does not take that kind of request.")
    return error_page(request, exc.status_code, str(exc.detail))


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("console: unexpected error", exc_info=exc)
    return error_page(request, 500, "An unexpected error occurred; it has been logged.")
