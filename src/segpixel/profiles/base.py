"""The one contract every profile store fulfils (httpx `_transports/base.py` habit)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from segpixel.domain.profile import Mutation, Profile


@dataclass(frozen=True, slots=True)
class BatchToken:
    """A batch's name: the writer that made it and its place in that writer's sequence."""

    writer: str
    seq: int


class ProfileStore(Protocol):
    """Async, batch-oriented; backends translate their driver errors into StoreUnavailable."""

    name: str  # "sqlite" | "redis"

    async def open(self) -> None:
        """Connect / create schema. Called once per process before use."""

    async def close(self) -> None: ...

    async def apply(self, batch: Sequence[Mutation], token: BatchToken | None = None) -> None:
        """Apply every mutation (each atomically per user) in one round trip / transaction.

        Returns only once the batch is stored; raises StoreUnavailable when it cannot be.
        `token` names the batch: a store whose write can succeed without the caller learning it
        (a reply lost in the network) must apply a batch it has already applied no second time,
        since the writer journals and later replays every batch it could not confirm.
        """

    async def read(self, user_id: int, now: float) -> Profile:
        """The user's active memberships (expired ones never returned), syncs and partner ids."""

    async def delete_user(self, user_id: int, segment_ids: Sequence[int] | None = None) -> None:
        """Erase the user (SPEC §3.5): the whole profile, or only its memberships of
        `segment_ids`; with it, every record linking the user to those segments in the load
        counters (counts stay)."""

    async def ping(self) -> None:
        """Raise StoreUnavailable unless the store answers."""

    async def reclaim(self, now: float, limit: int) -> int:
        """Delete up to `limit` expired memberships; how many (Redis expires keys by itself)."""
