"""The `debug=1` account of a pixel call (SPEC §3.6): what was done, and the user's state after.

A user id is no secret (partners receive it through `${UID}`), so a debug call tells what it did
itself — its items, chain, warnings, and the memberships it added as it added them — and shows
stored memberships only of the member whose dongle it carries (`member=M&dongle=D`), never anyone
else's audience data.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

from segpixel.domain.catalog_view import CatalogView
from segpixel.domain.members import dongle_opens
from segpixel.domain.pixel import PixelCall
from segpixel.domain.pixel_plan import ItemsPlan
from segpixel.domain.profile import Profile

if TYPE_CHECKING:
    from segpixel.edge.seg import Outcome


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def opened_member(call: PixelCall, view: CatalogView) -> int | None:
    """The member whose stored memberships this debug call may show (`member` + its dongle)."""
    member = view.members.get(call.member or 0)
    return member.id if member is not None and dongle_opens(call.dongle, member.dongle) else None


def this_call(items: ItemsPlan, now: float) -> list[dict[str, Any]]:
    """The memberships the call stored, as it stored them (earlier adds are not shown)."""
    return [
        {
            "segment_id": add.segment_id,
            "value": add.value,
            "first_added": None,
            "last_added": iso(now),
            "expires_at": iso(add.expires_at),
            "count": None,
        }
        for add in sorted(items.adds, key=lambda a: a.segment_id)
    ]


def memberships_json(
    profile: Profile | None, now: float, view: CatalogView, member_id: int
) -> list[dict[str, Any]]:
    """Member `member_id`'s stored memberships of the profile."""
    if profile is None:
        return []
    mine = {sid for sid, s in view.segments.items() if s.member_id == member_id}
    return [
        {
            "segment_id": m.segment_id,
            "value": m.value,
            "first_added": iso(m.first_added),
            "last_added": iso(m.last_added),
            "expires_at": iso(m.expires_at),
            "count": m.count,
        }
        for m in sorted(profile.active(now), key=lambda m: m.segment_id)
        if m.segment_id in mine
    ]


def debug_body(outcome: Outcome, memberships: list[dict[str, Any]], shown: str) -> bytes:
    return orjson.dumps(
        {
            "user_id": str(outcome.user_id)
            if outcome.user_id and not outcome.visitor.block
            else None,
            "stored_in": outcome.stored.value if outcome.stored else None,
            "items": [
                {
                    "segment_id": o.segment_id,
                    "code": o.code,
                    "action": o.action,
                    "accepted": o.accepted,
                    "reason": o.reason,
                    "value": o.value,
                }
                for o in outcome.items.outcomes
            ],
            "memberships": memberships,
            "memberships_of": shown,
            "chained": [
                {
                    "kind": c.kind,
                    "url": c.url,
                    "pixel_type": c.pixel_type,
                    "fired": c.fired,
                    "reason": c.reason,
                }
                for c in outcome.chain
            ],
            "warnings": outcome.warnings,
        }
    )
