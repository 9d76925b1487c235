"""Profiles read for bidders and ad servers (SPEC §7), through a short per-process memory.

A bid request storm asks about the same hot users again and again; within `ttl` seconds a user's
profile is read from the store once. An entry is fresh only while the clock is within
[read time, read time + ttl): a clock that moves back (tests set it) never keeps one alive.
A failed read is not remembered.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from segpixel.domain.profile import Profile
from segpixel.errors import StoreUnavailable

DEFAULT_TTL = 1.0
MAX_ENTRIES = 100_000


class ProfileCache:
    def __init__(self, runtime: Any, ttl: float = DEFAULT_TTL, max_entries: int = MAX_ENTRIES):
        self.runtime = runtime  # the worker's EdgeRuntime (None: this process has no store)
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[int, tuple[float, Profile]] = {}  # oldest read first

    async def read(self, user_id: int) -> Profile:
        if self.runtime is None:
            raise StoreUnavailable("this server has no profile store")
        now = self.runtime.clock()
        entry = self._entries.get(user_id)
        if entry is not None and entry[0] <= now < entry[0] + self.ttl:
            return entry[1]
        profile = await self.runtime.read_profile(user_id)
        if profile is None:
            raise StoreUnavailable("the profile store did not answer in time; try again")
        self._entries.pop(user_id, None)  # re-inserted last: the dict stays in read order
        self._entries[user_id] = (now, profile)
        while len(self._entries) > self.max_entries:
            del self._entries[next(iter(self._entries))]
        return profile


async def profile_cache(request: Request) -> ProfileCache:
    """The process's cache, made on first use (one per API app, so per worker); async so that
    FastAPI does not hand it to a worker thread."""
    state = request.app.state
    cache = getattr(state, "profile_cache", None)
    if cache is None:
        cache = state.profile_cache = ProfileCache(state.api.runtime)
    return cache
