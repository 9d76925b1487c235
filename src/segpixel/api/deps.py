"""What route functions receive: the caller, the catalog, the clock, paging."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query, Request, Security
from fastapi.security import APIKeyCookie, APIKeyHeader
from sqlalchemy.orm import Session

from segpixel.api.logins import LoginGuard
from segpixel.api.token_cookie import SAFE_METHODS, TOKEN_COOKIE, cross_site
from segpixel.catalog.db import Catalog
from segpixel.catalog.passwords import PasswordPool
from segpixel.catalog.repo import Repo
from segpixel.catalog.users import TokenStore
from segpixel.domain.access import Principal
from segpixel.domain.paging import Page, parse_page
from segpixel.domain.user_ids import USER_ID_MAX, USER_ID_MIN
from segpixel.errors import BadRequest, Forbidden, Unauthenticated
from segpixel.settings import Settings

MAX_ID = 2**31 - 1

R = TypeVar("R", bound=Repo)  # type: ignore[type-arg]

# The two ways a token comes back, as OpenAPI security schemes: /docs "Authorize" takes the token
# POST /auth answered, and "Try it out" then sends it. They only document: `credentials` reads both.
TOKEN_HEADER = APIKeyHeader(
    name="Authorization",
    scheme_name="token",
    auto_error=False,
    description="The token of POST /auth, bare or as `Bearer TOKEN`.",
)
TOKEN_COOKIE_KEY = APIKeyCookie(
    name=TOKEN_COOKIE,
    scheme_name="cookie",
    auto_error=False,
    description=f"The token in the cookie `{TOKEN_COOKIE}`.",
)
HeaderToken = Annotated[str | None, Security(TOKEN_HEADER)]
CookieToken = Annotated[str | None, Security(TOKEN_COOKIE_KEY)]


@dataclass
class ApiState:
    """Everything the API needs, built once in `create_api`."""

    settings: Settings
    catalog: Catalog
    tokens: TokenStore
    clock: Callable[[], float]
    logins: LoginGuard  # login limits (SEGPIXEL_LOGIN_RATE_LIMIT, …_SUCCESS_LIMIT)
    passwords: PasswordPool  # every password check and hash of this worker
    runtime: Any = None  # the worker's EdgeRuntime: profile store and writer, when serving pixels


def api_state(request: Request) -> ApiState:
    return request.app.state.api


@dataclass
class Caller:
    """The authenticated caller and a way to open its scoped repositories."""

    principal: Principal
    state: ApiState

    @contextmanager
    def repo(self, repo_type: type[R], **options: Any) -> Iterator[R]:
        with self.state.catalog.session() as session:
            yield repo_type(session, self.principal, **options)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.state.catalog.session() as session:
            yield session


def token_of(request: Request) -> str | None:
    return credentials(request)[0]


def credentials(request: Request) -> tuple[str | None, bool]:
    """The token sent, and whether it came only as the login cookie."""
    header = request.headers.get("authorization")
    if header:
        scheme, _, rest = header.partition(" ")
        return (rest.strip() if scheme.lower() == "bearer" and rest else header.strip()), False
    token = request.cookies.get(TOKEN_COOKIE)
    return token, token is not None


def current_caller(
    request: Request,
    state: Annotated[ApiState, Depends(api_state)],
    _header: HeaderToken = None,
    _cookie: CookieToken = None,
) -> Caller:
    token, by_cookie = credentials(request)
    if not token:
        raise Unauthenticated(
            "authentication required: POST /auth, then send the token in the Authorization header"
        )
    if by_cookie and request.method not in SAFE_METHODS:
        why = cross_site(request)
        if why is not None:  # another site's page drives this browser: never with its cookie
            raise Forbidden(
                f"a change sent by another site's page is refused ({why}); scripts send the "
                "token in the Authorization header (or the cookie, without Origin)"
            )
    with state.catalog.session() as session:
        principal = state.tokens.resolve(session, token, state.clock())
    for name, value in request.query_params.multi_items():
        if "\x00" in name or "\x00" in value:  # PostgreSQL refuses NUL in text: not a 500
            raise BadRequest(f"query parameter {name!r} must not contain NUL characters")
    return Caller(principal, state)


def paging(
    start_element: Annotated[str | None, Query(description="First element, from 0")] = None,
    num_elements: Annotated[str | None, Query(description="Page size, 1 to 100")] = None,
    sort: Annotated[str | None, Query(description="FIELD.asc or FIELD.desc")] = None,
) -> tuple[str | None, str | None, str | None]:
    return start_element, num_elements, sort


CallerDep = Annotated[Caller, Depends(current_caller)]
StateDep = Annotated[ApiState, Depends(api_state)]
PagingDep = Annotated[tuple[str | None, str | None, str | None], Depends(paging)]
IdParam = Annotated[int | None, Query(ge=1, le=MAX_ID)]
IdsParam = Annotated[str | None, Query(description="One id or a comma-separated list")]


def page_for(raw: tuple[str | None, str | None, str | None], repo_type: type[Repo]) -> Page:  # type: ignore[type-arg]
    return parse_page(*raw, sortable=repo_type.sortable)


# A visitor's id (the uuid2 cookie's number) in a query: the one range of domain.user_ids.
UserIdParam = Annotated[
    int, Query(ge=USER_ID_MIN, le=USER_ID_MAX, description="The user id (uuid2 cookie)")
]
