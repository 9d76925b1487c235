"""`/auth`: log in for a token, see who you are, log out (SPEC §2)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from segpixel.api.deps import CallerDep, StateDep, token_of
from segpixel.api.envelope import ok
from segpixel.api.schemas import AuthBody
from segpixel.api.token_cookie import clear_token_cookie, cross_site, set_token_cookie
from segpixel.catalog.users import authenticate, principal_of
from segpixel.errors import Unauthenticated

router = APIRouter(tags=["auth"])


@router.post("/auth", summary="Log in: a token for the Authorization header (also set as a cookie)")
def login(body: AuthBody, request: Request, response: Response, state: StateDep) -> dict[str, Any]:
    if state.logins is not None:
        state.logins.check(request.scope)  # 429 LIMIT after too many failures from this IP
    with state.catalog.session() as session:
        user = authenticate(session, body.auth.username, body.auth.password)
        if user is None:
            if state.logins is not None:
                state.logins.failed(request.scope)
            raise Unauthenticated("the username or password is wrong")
        token = state.tokens.issue(session, user, state.clock())
        principal = principal_of(user)
    if cross_site(request) is None:  # `curl -b cookies -c cookies`, as the reference's examples
        set_token_cookie(response, request, token, state.tokens.max_seconds)
    return {"response": {"status": "OK", "token": token, "user": _who(principal)}}


@router.get("/auth", summary="Who the token belongs to")
def whoami(caller: CallerDep) -> dict[str, Any]:
    return ok({"user": _who(caller.principal)})


@router.delete("/auth", summary="Log out: the token stops working (and its cookie is cleared)")
def logout(request: Request, response: Response, caller: CallerDep) -> dict[str, Any]:
    with caller.session() as session:
        caller.state.tokens.revoke(session, token_of(request) or "")
    clear_token_cookie(response, request)
    return ok({})


def _who(principal: Any) -> dict[str, Any]:
    return {
        "id": principal.user_id,
        "username": principal.username,
        "role": principal.role,
        "member_id": principal.member_id,
        "advertiser_id": principal.advertiser_id,
    }
