"""`/auth`: log in for a token, see who you are, log out (SPEC §2)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from segpixel.api.deps import CallerDep, StateDep, token_of
from segpixel.api.envelope import ok
from segpixel.api.logins import log_in
from segpixel.api.schemas import AuthBody

router = APIRouter(tags=["auth"])


@router.post("/auth", summary="Log in: a token for the Authorization header")
async def login(body: AuthBody, request: Request, state: StateDep) -> dict[str, Any]:
    token, principal = await log_in(state, request.scope, body.auth.username, body.auth.password)
    return {"response": {"status": "OK", "token": token, "user": _who(principal)}}


@router.get("/auth", summary="Who the token belongs to")
def whoami(caller: CallerDep) -> dict[str, Any]:
    return ok({"user": _who(caller.principal)})


@router.delete("/auth", summary="Log out: the token stops working")
def logout(request: Request, caller: CallerDep) -> dict[str, Any]:
    with caller.session() as session:
        caller.state.tokens.revoke(session, token_of(request) or "")
    return ok({})


def _who(principal: Any) -> dict[str, Any]:
    return {
        "id": principal.user_id,
        "username": principal.username,
        "role": principal.role,
        "member_id": principal.member_id,
        "advertiser_id": principal.advertiser_id,
    }
