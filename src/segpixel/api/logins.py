"""Logging in (`POST /auth`, the console's login form): limits first, the password off the loop.

Each attempt, before any hashing:
- takes a token of its client's failed-login bucket (`SEGPIXEL_LOGIN_RATE_LIMIT` a minute per IP):
  a burst of wrong passwords gets at most that many answers of "wrong", the rest 429 — even when
  they all arrive at once; a successful login gives its token back;
- is refused when the user has had `SEGPIXEL_LOGIN_SUCCESS_LIMIT` successful logins in the last
  five minutes (the reference allows 10), which also bounds the tokens a user can pile up.

The password is checked on the worker's bounded password pool (catalog.passwords.PasswordPool),
the catalog read and the token written on the threadpool: the event loop, which serves pixels,
never runs any of it. Buckets are kept per worker process, as every limit (api.rate_limit).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool

from segpixel.catalog.passwords import PasswordPool, verify_password
from segpixel.catalog.users import login_candidate, principal_of
from segpixel.domain.access import Principal
from segpixel.errors import RateLimited, Unauthenticated
from segpixel.limits import ClientAddress, TokenBuckets, retry_after

SUCCESS_WINDOW = 300.0  # seconds: SEGPIXEL_LOGIN_SUCCESS_LIMIT successful logins per window


class LoginGuard:
    def __init__(
        self,
        per_minute: int,
        clock: Callable[[], float],
        client: ClientAddress,
        successes_per_window: int = 10,
    ):
        self.per_minute = per_minute
        self.successes_per_window = successes_per_window
        self.failures = TokenBuckets(per_minute, clock) if per_minute else None
        self.successes = (
            TokenBuckets(successes_per_window, clock, window=SUCCESS_WINDOW)
            if successes_per_window
            else None
        )
        self.client = client

    def begin(self, scope: dict[str, Any], username: str) -> str:
        """Take what an attempt costs, or raise RateLimited; the client's key."""
        key = self.client(scope)
        if self.successes is not None and (wait := self.successes.wait(username)):
            raise RateLimited(
                f"too many logins of this user (at most {self.successes_per_window} in 5 "
                f"minutes); retry after {retry_after(wait)} s",
                retry_after(wait),
            )
        if self.failures is not None and (wait := self.failures.take(key)):
            raise RateLimited(
                f"too many failed logins from this address (at most {self.per_minute} a "
                f"minute); retry after {retry_after(wait)} s",
                retry_after(wait),
            )
        return key

    def succeeded(self, key: str, username: str) -> None:
        if self.failures is not None:
            self.failures.give_back(key)
        if self.successes is not None:
            self.successes.take(username)


async def log_in(
    state: Any, scope: dict[str, Any], username: str, password: str
) -> tuple[str, Principal]:
    """A new token and its principal, or Unauthenticated / RateLimited (`state`: ApiState)."""
    guard: LoginGuard = state.logins
    pool: PasswordPool = state.passwords
    key = guard.begin(scope, username)

    def candidate() -> tuple[Any, str]:
        with state.catalog.session() as session:
            return login_candidate(session, username)

    user, stored = await run_in_threadpool(candidate)
    if not await pool.run(verify_password, password, stored) or user is None:
        raise Unauthenticated("the username or password is wrong")
    guard.succeeded(key, username)

    def issue() -> str:
        with state.catalog.session() as session:
            return state.tokens.issue(session, user, state.clock())

    return await run_in_threadpool(issue), principal_of(user)
