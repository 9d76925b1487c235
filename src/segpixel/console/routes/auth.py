"""Log in with the API's users (same passwords, roles and token lapse rules) and log out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from segpixel.api.logins import log_in
from segpixel.console.deps import FormDep, UserDep, console_state
from segpixel.console.render import page
from segpixel.console.routes._common import redirect
from segpixel.console.session import (
    CSRF_FIELD,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    clear_console_cookie,
    csrf_matches,
    new_login_csrf,
    set_console_cookie,
)
from segpixel.console.urls import PREFIX, console_url
from segpixel.errors import RateLimited, Unauthenticated

router = APIRouter()
HOME = console_url("/advertisers")


def safe_next(target: str | None) -> str:
    """Only back into the console: never to another site (an open redirect after login)."""
    if (
        target
        and target.startswith(PREFIX + "/")
        and not any(bad in target for bad in ("\\", "://", "//"))
    ):
        return target
    return HOME


@router.get("/")
def home() -> Response:
    return redirect(HOME)


@router.get("/login")
def login_page(
    request: Request,
    next: Annotated[str | None, Query(max_length=2000)] = None,
    expired: int = 0,
    logged_out: int = 0,
) -> Response:
    state = console_state(request)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        try:
            with state.catalog.session() as session:
                state.tokens.resolve(session, token, state.clock())
            return redirect(safe_next(next))
        except Unauthenticated:
            pass
    note = ""
    if expired:
        note = "Your session has ended; please log in again."
    elif logged_out:
        note = "You have logged out."
    return _login_form(request, next=safe_next(next), note=note)


def _login_form(
    request: Request,
    *,
    next: str,
    note: str = "",
    error: str = "",
    username: str = "",
    status: int = 200,
) -> Response:
    token = new_login_csrf()
    response = page(
        request,
        "login.html",
        None,
        status=status,
        login_csrf=token,
        next=next,
        note=note,
        error=error,
        username=username,
    )
    set_console_cookie(response, request, LOGIN_CSRF_COOKIE, token, max_age=3600)
    return response


@router.post("/login")
async def login(request: Request) -> Response:
    form = await request.form()
    username = str(form.get("username") or "")[:200]
    password = str(form.get("password") or "")[:1000]
    target = safe_next(str(form.get("next") or ""))
    # Double submit: the token in the form must be the one in this browser's cookie.
    if not csrf_matches(request.cookies.get(LOGIN_CSRF_COOKIE, ""), form.get(CSRF_FIELD)):
        return _login_form(
            request,
            next=target,
            username=username,
            status=403,
            error="The login form had expired (or was not sent from this page). Please try again.",
        )
    state = console_state(request)
    try:
        token, _ = await log_in(state, request.scope, username, password)
    except RateLimited as exc:
        response = _login_form(
            request, next=target, username=username, status=429, error=exc.message
        )
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except Unauthenticated:
        return _login_form(
            request,
            next=target,
            username=username,
            status=401,
            error="The username or password is wrong.",
        )
    response = redirect(target)
    max_age = state.settings.token_max_hours * 3600
    set_console_cookie(response, request, SESSION_COOKIE, token, max_age=max_age)
    clear_console_cookie(response, LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, user: UserDep, _form: FormDep) -> Response:
    with user.session() as session:
        user.state.tokens.revoke(session, request.cookies.get(SESSION_COOKIE, ""))
    response = redirect(console_url("/login", logged_out=1))
    clear_console_cookie(response, SESSION_COOKIE)
    return response
