"""Who is calling a bidder read: the usual token check, remembered for a second per process.

Bidders ask many times a second with the same token; resolving it against the catalog database
on every call (a session, two reads, a thread hop) cost more than the read itself. A resolved
token is reused for `TTL` seconds, so a revoked or lapsed token keeps working at most that long
on these read-only routes; everything else about the check (lapses, last use) is
`api.deps.current_caller`'s, unchanged.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from segpixel.api.deps import (
    ApiState,
    Caller,
    CookieToken,
    HeaderToken,
    api_state,
    current_caller,
    token_of,
)
from segpixel.domain.access import Principal

TTL = 1.0
MAX_TOKENS = 10_000


class PrincipalCache:
    def __init__(self, ttl: float = TTL, max_entries: int = MAX_TOKENS):
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[str, tuple[float, Principal]] = {}

    def get(self, token: str, now: float) -> Principal | None:
        entry = self._entries.get(token)
        if entry is not None and entry[0] <= now < entry[0] + self.ttl:
            return entry[1]
        return None

    def put(self, token: str, principal: Principal, now: float) -> None:
        self._entries.pop(token, None)
        self._entries[token] = (now, principal)
        while len(self._entries) > self.max_entries:
            del self._entries[next(iter(self._entries))]


async def bidder_caller(
    request: Request, _header: HeaderToken = None, _cookie: CookieToken = None
) -> Caller:
    """Async, with no sync sub-dependency: a cache hit costs no thread hop."""
    state: ApiState = api_state(request)
    cache = getattr(request.app.state, "principal_cache", None)
    if cache is None:
        cache = request.app.state.principal_cache = PrincipalCache()
    token, now = token_of(request), state.clock()
    principal = cache.get(token, now) if token else None
    if principal is not None:
        return Caller(principal, state)
    caller = await run_in_threadpool(current_caller, request, state)  # the full check
    if token:
        cache.put(token, caller.principal, now)
    return caller


BidderCallerDep = Annotated[Caller, Depends(bidder_caller)]
