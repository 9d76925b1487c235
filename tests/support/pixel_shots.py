"""One pixel fired under load, and what came back: shared by the fault tests."""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from segpixel.edge.http import GIF


@dataclass
class Shot:
    uid: int = 0
    phase: str = ""  # where the fault was when it was fired ("before", "outage", "after", …)
    status: int | None = None
    gif: bool = False  # the answer was our 43-byte GIF
    seconds: float = 0.0
    warning: str = ""
    retry_after: str | None = None
    error: str | None = None  # the request itself failed (no answer)


def fire(client: httpx.Client, segment_id: int, shot: Shot) -> Shot:
    """`GET /seg?add=SEGMENT` as the browser whose uuid2 is `shot.uid`; fills `shot` in."""
    started = time.monotonic()
    try:
        response = client.get(f"/seg?add={segment_id}", headers={"Cookie": f"uuid2={shot.uid}"})
        shot.status = response.status_code
        shot.gif = response.headers.get("content-type") == "image/gif" and response.content == GIF
        shot.warning = response.headers.get("x-segpixel-warning", "")
        shot.retry_after = response.headers.get("retry-after")
    except httpx.HTTPError as exc:
        shot.error = f"{type(exc).__name__}: {exc}"
    shot.seconds = time.monotonic() - started
    return shot
