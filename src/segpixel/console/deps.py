"""What console routes receive: the logged-in user, and forms whose CSRF token was checked."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from segpixel.api.deps import ApiState
from segpixel.console.session import CSRF_FIELD, SESSION_COOKIE, csrf_for, csrf_matches
from segpixel.domain.access import Principal
from segpixel.errors import Unauthenticated


class LoginRequired(Exception):
    """No valid session: the console answers with the login page (then back to `next`)."""

    def __init__(self, next_url: str, reason: str = ""):
        super().__init__(reason)
        self.next_url = next_url
        self.reason = reason


class CsrfRefused(Exception):
    """A POST without this session's CSRF token: refused, nothing is changed."""


@dataclass
class ConsoleUser:
    principal: Principal
    state: ApiState
    csrf: str

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.state.catalog.session() as session:
            yield session


def console_state(request: Request) -> ApiState:
    return request.app.state.api


def current_user(request: Request) -> ConsoleUser:
    state = console_state(request)
    token = request.cookies.get(SESSION_COOKIE, "")
    next_url = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if not token:
        raise LoginRequired(next_url)
    try:
        with state.catalog.session() as session:
            principal = state.tokens.resolve(session, token, state.clock())
    except Unauthenticated:
        raise LoginRequired(next_url, "Your session has ended; please log in again.") from None
    return ConsoleUser(principal, state, csrf_for(token))


UserDep = Annotated[ConsoleUser, Depends(current_user)]


async def checked_form(request: Request, user: UserDep) -> FormData:
    """The posted form, once its CSRF token has been found to be this session's."""
    form = await request.form()
    if not csrf_matches(user.csrf, form.get(CSRF_FIELD)):
        raise CsrfRefused
    return form


FormDep = Annotated[FormData, Depends(checked_form)]
