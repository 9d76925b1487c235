"""Who is calling and what we may do for them: identity cookie + opt-out + consent, once.

Shared by every hot-path handler that stores something for the browser (/seg, /setuid, /mapuid).
"""

from __future__ import annotations

from dataclasses import dataclass

from segpixel.domain.consent.policy import decide
from segpixel.domain.profile import Mutation
from segpixel.edge.cookie import read_identity
from segpixel.edge.http import NO_STORE, Headers, Request, warning_header
from segpixel.edge.runtime import EdgeRuntime
from segpixel.profiles.writer import Stored, WriteLost


@dataclass(slots=True)
class Visitor:
    user_id: int | None  # None when nothing may be stored (opted out, no consent)
    new: bool  # the id was just made: the browser had no valid cookie
    block: str | None  # why nothing may be stored or synced, or None


def identify(rt: EdgeRuntime, request: Request) -> Visitor:
    identity = read_identity(request.header(b"cookie"), rt.cookie_name)
    if identity.opted_out:
        return Visitor(None, False, "user opted out")
    q = request.query
    decision = decide(
        q.get("gdpr"), q.get("gdpr_consent"), q.get("consent"), rt.settings.tcf_vendor_id
    )
    if not decision.allowed:
        return Visitor(identity.user_id, False, decision.reason)
    if identity.user_id is None:
        return Visitor(rt.new_user_id(), True, None)
    return Visitor(identity.user_id, False, None)


@dataclass(slots=True)
class WriteResult:
    stored: Stored | None = None
    lost: str | None = None  # why the write was lost (neither store nor journal took it)


async def write(rt: EdgeRuntime, mutation: Mutation) -> WriteResult:
    try:
        return WriteResult(await rt.writer.submit(mutation))
    except WriteLost as exc:
        rt.metrics.lost.inc()
        return WriteResult(lost=f"not stored: {exc}")


def response_headers(
    rt: EdgeRuntime, request: Request, visitor: Visitor, warnings: list[str]
) -> Headers:
    """no-store, the refreshed identity cookie when we may set one, and the warning header."""
    headers: Headers = [NO_STORE]
    if visitor.block is None and visitor.user_id is not None:
        headers.append((b"set-cookie", rt.cookies.for_user(visitor.user_id, request.https)))
    warning = warning_header(warnings)
    if warning:
        headers.append(warning)
    return headers
