"""The one contract every profile store fulfils (httpx `_transports/base.py` habit)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from segpixel.domain.profile import Mutation, Profile
from segpixel.metrics import Registry

# How long a store remembers the last batch it applied of each writer. A journal is replayed from
# its saved position (profiles/journal.py), so after this long only the one batch in flight when a
# replaying worker died could be applied twice.
TOKENS_KEPT_SECONDS = 30 * 86_400


@dataclass(frozen=True, slots=True)
class BatchToken:
    """A batch's name: the writer that made it and its place in that writer's sequence.

    A writer hands its batches to a store in the order of their seq (a batch it journals is
    followed into the journal by every later one until the journal is replayed, in order), so a
    store need only remember the highest seq it applied of each writer: anything at or below it
    was applied already.
    """

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
        `token` names the batch: a store applies a batch it has already applied no second time
        (a reply lost in the network, or a journal replayed again after a crash mid-replay),
        recording the token atomically with the batch itself.
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

    def register_metrics(self, registry: Registry) -> None:
        """Add the store's own gauges (SQLite: the size of its WAL files)."""

    async def durability_warnings(self) -> list[str]:
        """What, in the store's own settings or state, breaks the promise of a 200 (a Redis
        without an append-only file, one that came back empty…); [] when nothing does.
        Raises StoreUnavailable when the store cannot be asked."""
