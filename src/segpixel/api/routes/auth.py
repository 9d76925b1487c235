"""`/auth`: log in for a token, see who you are, log out (SPEC §2)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from segpixel.api.deps import CallerDep, StateDep, token_of
from segpixel.api.envelope import ok
from segpixel.api.logins import log_in
from segpixel.api.schemas import AuthBody
from segpixel.api.token_cookie import clear_token_cookie, cross_site, set_token_cookie

router = APIRouter(tags=["auth"])


@router.post("/auth", summary="Log in: a token for the Authorization header (also set as a cookie)")
async def login(
    body: AuthBody, request: Request, response: Response, state: StateDep
) -> dict[str, Any]:
    token, principal = await log_in(state, request.scope, body.auth.username, body.auth.password)
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
