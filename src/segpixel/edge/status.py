"""`/cookie` (a member reads this browser's segments), `/health`, `/metrics`."""

from __future__ import annotations

import os
from pathlib import Path

import orjson

from segpixel.domain.members import dongle_opens
from segpixel.edge.cookie import read_identity
from segpixel.edge.debug import iso
from segpixel.edge.http import (
    JSON_TYPE,
    NO_STORE,
    TEXT_TYPE,
    Receive,
    Request,
    Scope,
    Send,
    respond,
)
from segpixel.edge.runtime import EdgeRuntime
from segpixel.metrics import render
from segpixel.profiles.journal import free_bytes


class CookieHandler:
    """`/cookie?member_id=M&dongle=D` (SPEC §3.6): the caller's id and member M's segments.

    The dongle is member M's secret, so a page of someone else cannot read M's segments.
    """

    def __init__(self, runtime: EdgeRuntime):
        self.rt = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope)
        raw_member = request.query.get("member_id", "")
        member_id = int(raw_member) if raw_member.isdigit() and len(raw_member) <= 10 else None
        member = self.rt.snapshot.current.members.get(member_id or 0)
        dongle = request.query.get("dongle", "")
        if member is None or not dongle_opens(dongle, member.dongle):
            body = orjson.dumps({"error": "member_id and dongle do not match a member"})
            await respond(send, 403, [NO_STORE, JSON_TYPE], body)
            return
        identity = read_identity(request.header(b"cookie"), self.rt.cookie_name)
        now = self.rt.clock()
        segments = []
        if identity.user_id is not None:
            profile = await self.rt.read_profile(identity.user_id)
            view = self.rt.snapshot.current
            for m in profile.active(now) if profile else ():
                segment = view.segment(m.segment_id)
                if segment is not None and segment.member_id == member.id:
                    segments.append(
                        {
                            "id": m.segment_id,
                            "code": segment.code,
                            "value": m.value,
                            "first_added": iso(m.first_added),
                            "last_added": iso(m.last_added),
                            "expires_at": iso(m.expires_at),
                            "count": m.count,
                        }
                    )
        body = orjson.dumps(
            {
                "user_id": str(identity.user_id) if identity.user_id else None,
                "opted_out": identity.opted_out,
                "member_id": member.id,
                "segments": segments,
            }
        )
        await respond(send, 200, [NO_STORE, JSON_TYPE], body)


class HealthHandler:
    """Each store's state and the journal depth; 200 while pixels are answered, else 503."""

    def __init__(self, runtime: EdgeRuntime):
        self.rt = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        rt = self.rt
        snapshot, writer = rt.snapshot, rt.writer
        # Every flag is read from its source now: none outlives what it says.
        problems = _problems(rt)
        body = {
            "status": "degraded" if problems else "ok",
            "problems": problems,
            "profile_store": {
                "backend": rt.store.name,
                "state": "up" if writer.store_up else "down",
                "error": writer.last_error,
                # what in the store's settings or state breaks the promise of a 200
                "warnings": rt.durability.warnings,
            },
            "catalog": {
                "state": "up" if snapshot.healthy else "down",
                "version": snapshot.current.version,
                "error": snapshot.last_error,
                "listener": snapshot.listener_state,  # off | connecting | listening | down
                "view": _view(rt),  # live | saved (at start, the catalog unreadable) | none
                "saved_at": iso(snapshot.saved_at) if snapshot.saved_at else None,
            },
            "journal": {
                "depth": writer.journal_depth,
                "bytes": writer.journal_bytes,
                "max_bytes": writer.journal_max_bytes,
                "full": writer.journal_full,
                "free_bytes": _free(writer.journal_dir),  # on its disk
            },
            "worker": os.getpid(),
        }
        status = 200 if rt.started else 503
        await respond(send, status, [NO_STORE, JSON_TYPE], orjson.dumps(body))


def _view(rt: EdgeRuntime) -> str:
    if not rt.snapshot.loaded:
        return "none"
    return "live" if rt.snapshot.saved_at is None else "saved"


def _problems(rt: EdgeRuntime) -> list[str]:
    """Why this worker is degraded, one sentence each (none: it stores every write now)."""
    snapshot, writer = rt.snapshot, rt.writer
    problems = []
    if not snapshot.loaded:
        problems.append(
            "no catalog view: the catalog cannot be read and no snapshot of it was saved, so "
            "pixels answer 503 until it can"
        )
    elif not snapshot.healthy:
        problems.append(
            f"the catalog cannot be read: pixels are served from its version "
            f"{snapshot.current.version}"
            + (f", saved {iso(snapshot.saved_at)}" if snapshot.saved_at else "")
        )
    if not writer.store_up:
        problems.append("the profile store is down: writes go to the journal")
    if writer.journal_full:
        problems.append(
            "the journal cannot take writes (at its size cap, or its disk is full): a write "
            "the profile store cannot take is answered 503"
        )
    if writer.journal_depth:
        problems.append(f"{writer.journal_depth} writes wait in the journal")
    return problems


def _free(folder: Path) -> int | None:
    try:
        return free_bytes(folder)
    except OSError:
        return None


class MetricsHandler:
    def __init__(self, runtime: EdgeRuntime):
        self.rt = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        text = render(self.rt.metrics_snapshot())
        await respond(send, 200, [NO_STORE, TEXT_TYPE], text.encode())
