"""The `debug=1` account of a pixel call (SPEC §3.6): what was done, and the user's state after."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

from segpixel.domain.profile import Profile

if TYPE_CHECKING:
    from segpixel.edge.seg import Outcome


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def memberships_json(profile: Profile | None, now: float) -> list[dict[str, Any]]:
    if profile is None:
        return []
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
    ]


def debug_body(outcome: Outcome, profile: Profile | None, now: float) -> bytes:
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
            "memberships": memberships_json(profile, now),
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
