"""OpenRTB 2.6 user data (SPEC §7): our member as a data provider in `user.data`.

Per OpenRTB, ids and values are strings. The rest of the bid request passes through untouched;
an earlier `user.data` entry of the same provider is replaced, so asking twice changes nothing.
"""

from __future__ import annotations

from typing import Any

from segpixel.domain.user_ids import parse_user_id

__all__ = ["bid_request_user_id", "parse_user_id", "with_user_data"]


def bid_request_user_id(request: dict[str, Any]) -> int | None:
    """`user.id`, else `user.buyeruid`, when it is one of our user ids."""
    user = request.get("user")
    if not isinstance(user, dict):
        return None
    for key in ("id", "buyeruid"):
        uid = parse_user_id(user.get(key))
        if uid is not None:
            return uid
    return None


def with_user_data(
    request: dict[str, Any],
    member_id: int,
    member_name: str,
    segments: list[tuple[int, int | None]],
) -> dict[str, Any]:
    """The bid request with `user.data` extended by our member's segments (id, value)."""
    user = dict(request.get("user") or {})
    provider = str(member_id)
    earlier = user.get("data") if isinstance(user.get("data"), list) else []
    data = [d for d in earlier if not (isinstance(d, dict) and d.get("id") == provider)]
    data.append(
        {
            "id": provider,
            "name": member_name,
            "segment": [
                {"id": str(sid)} if value is None else {"id": str(sid), "value": str(value)}
                for sid, value in segments
            ],
        }
    )
    user["data"] = data
    return {**request, "user": user}
