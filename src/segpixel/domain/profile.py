"""A user's profile: segment memberships, partner sync memory, and how a write changes them.

The rules (SPEC §1.2, §3.1): an add sets expiry = now + the segment's expire_minutes but never
shortens a later expiry; it replaces the value only when it brings one (and so the text value a
text query-string segment keeps from the ad call, SPEC §5.1); an add to an expired (or absent)
membership starts afresh. A membership remembers its first and last add, how many adds it
has seen, and the times of its most recent adds (for "fired N times in D minutes" targeting).
Every profile store applies exactly these rules; this module is their reference implementation.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

RECENT_ADDS_KEPT = 15  # besides the last add: enough for min_count up to 16


# Values of the hot path: treat them as immutable. They are not `frozen` dataclasses because
# building a frozen one costs five times as much, and every pixel call builds several.
@dataclass(slots=True)
class Add:
    segment_id: int
    expires_at: int  # epoch seconds
    value: int | None = None  # None: keep the stored value
    text: str | None = None  # a text query-string segment's matched value, lower-cased


@dataclass(slots=True)
class Mutation:
    """Everything one request changes for one user; stores apply it atomically per user."""

    user_id: int
    at: int  # epoch seconds of the request
    adds: tuple[Add, ...] = ()
    removes: tuple[int, ...] = ()
    synced_partners: tuple[int, ...] = ()  # usersync pixel ids fired now
    partner_uids: tuple[tuple[str, str], ...] = ()  # (partner key, their id for this user)
    # For load counting (SPEC §8): where the adds came from, and the accepted adds of segments
    # with expire_minutes 0, which count as loads but are never stored.
    source: str = "pixel"  # pixel | querystring | creative | mapuid | batch
    call_only: tuple[int, ...] = ()

    def loads(self) -> tuple[int, ...]:
        """The segment ids this mutation adds: each one a load."""
        return tuple(a.segment_id for a in self.adds) + self.call_only


@dataclass(slots=True)
class Membership:
    segment_id: int
    expires_at: int
    value: int | None
    first_added: int
    last_added: int
    count: int  # adds since the membership (re)started
    recent_adds: tuple[int, ...] = ()  # earlier add times, newest first, minute precision
    text: str | None = None  # the text value (lower-cased) of a text query-string segment

    def is_active(self, now: float) -> bool:
        return self.expires_at > now

    def adds_since(self, since: float) -> int:
        """How many adds happened at or after `since` (exact while ≤ RECENT_ADDS_KEPT + 1)."""
        if self.last_added < since:
            return 0
        return 1 + sum(1 for t in self.recent_adds if t >= since)


@dataclass(slots=True)
class Profile:
    user_id: int
    memberships: tuple[Membership, ...] = ()
    partner_syncs: dict[int, int] = field(default_factory=dict)  # usersync id -> last sync time
    partner_uids: dict[str, str] = field(default_factory=dict)

    def active(self, now: float) -> tuple[Membership, ...]:
        return tuple(m for m in self.memberships if m.is_active(now))


def apply_add(old: Membership | None, add: Add, at: int) -> Membership:
    """The membership after `add` at time `at` (SPEC §3.1)."""
    if old is None or not old.is_active(at):
        return Membership(add.segment_id, add.expires_at, add.value, at, at, 1, (), add.text)
    recent = (old.last_added, *old.recent_adds)[:RECENT_ADDS_KEPT]
    return replace(
        old,
        expires_at=max(old.expires_at, add.expires_at),
        value=add.value if add.value is not None else old.value,
        last_added=at,
        count=old.count + 1,
        recent_adds=tuple(t - t % 60 for t in recent),
        text=add.text if add.text is not None else old.text,
    )


def apply_mutation(
    memberships: dict[int, Membership], mutation: Mutation
) -> tuple[dict[int, Membership], list[int]]:
    """Adds before removes (SPEC §3.1). Returns the changed memberships and the ids to delete.

    Expired memberships found on the way are deleted too: reclaiming space as a side effect.
    """
    changed: dict[int, Membership] = {}
    for add in mutation.adds:
        current = changed.get(add.segment_id) or memberships.get(add.segment_id)
        changed[add.segment_id] = apply_add(current, add, mutation.at)
    deleted = [sid for sid in mutation.removes if sid in memberships or sid in changed]
    for sid in mutation.removes:
        changed.pop(sid, None)
    deleted += [
        sid
        for sid, m in memberships.items()
        if not m.is_active(mutation.at) and sid not in changed and sid not in deleted
    ]
    return changed, deleted
