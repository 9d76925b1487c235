"""Where the console lives, and the links its pages build (one place, so a move is one edit)."""

from __future__ import annotations

from urllib.parse import urlencode

PREFIX = "/console"


def console_url(path: str = "/", **query: object) -> str:
    """`/console/PATH?QUERY`; query values that are None or "" are left out, lists repeat."""
    url = PREFIX + path
    pairs: list[tuple[str, object]] = []
    for key, value in query.items():
        if isinstance(value, list | tuple):
            pairs += [(key, v) for v in value]
        elif value is not None and value != "":
            pairs.append((key, value))
    return f"{url}?{urlencode(pairs)}" if pairs else url


def advertiser_url(advertiser_id: int, path: str = "", **query: object) -> str:
    return console_url(f"/advertisers/{advertiser_id}{path}", **query)


def segment_url(advertiser_id: int, segment_id: int, path: str = "", **query: object) -> str:
    return advertiser_url(advertiser_id, f"/segments/{segment_id}{path}", **query)
