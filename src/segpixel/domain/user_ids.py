"""Our user ids (SPEC §3.2, §9.2): 1..2^63−1 everywhere — cookies, batch lines, mapuid, reads.

One range so that every store can keep an id as a signed 64-bit integer and every id accepted
anywhere can be read back everywhere.
"""

from __future__ import annotations

USER_ID_MIN = 1
USER_ID_MAX = 2**63 - 1
USER_ID_RULE = f"must be a number from {USER_ID_MIN} to {USER_ID_MAX}"


def parse_user_id(value: object) -> int | None:
    """A user id from decimal text or a JSON integer; None for anything else (booleans too)."""
    if isinstance(value, str):
        if value.isdigit() and value.isascii() and len(value) <= 19:
            number = int(value)
            return number if number >= USER_ID_MIN and number <= USER_ID_MAX else None
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value if USER_ID_MIN <= value <= USER_ID_MAX else None
    return None
