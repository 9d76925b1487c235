"""One line of a batch segment upload (SPEC §9): `UID,SEG[:EXPIRE_MINUTES[:VALUE]];SEG...`.

Pure: text in, a Mutation (or the reason the line is rejected) out. Decisions where the SPEC is
silent:

- A line is applied whole or not at all: one bad item rejects the line, and the reason names it.
- With `member_id`, a SEG is first looked up as a code of that member (case-sensitively, as in
  pixels), then as a segment id of that member; without it, SEG must be a segment id.
- EXPIRE_MINUTES: absent, empty or 0 → the segment's own `expire_minutes`; -1 → remove;
  1..259200 → that many minutes from the upload. A segment whose own expiry is 0 is counted as a
  load and never stored, as its pixel adds are.
- VALUE: absent or empty → none; otherwise 1..2147483647.
- A segment named twice in a line: the last item wins. Adds are applied before removes.
- The caller may only upload to segments it can see (an advertiser user: its own and its
  member's member-level ones); the others are "unknown", as everywhere in the API.
"""

from __future__ import annotations

from dataclasses import dataclass

from segpixel.domain.access import Principal
from segpixel.domain.catalog_view import CatalogView, SegmentView
from segpixel.domain.limits import MAX_EXPIRE_MINUTES, VALUE_MAX, VALUE_MIN
from segpixel.domain.profile import Add, Mutation
from segpixel.domain.user_ids import USER_ID_RULE, parse_user_id

REMOVE = -1
_SHOWN = 40  # characters of a bad item quoted in a reason


class LineRejected(Exception):
    """The line is not applied; the message is the reason shown to the uploader."""


@dataclass(frozen=True, slots=True)
class LineItem:
    ref: str  # segment id, or code with member_id
    expire_minutes: int | None = None  # None: the segment's own; REMOVE: take the user out
    value: int | None = None


@dataclass(frozen=True, slots=True)
class BatchLine:
    user_id: int
    items: tuple[LineItem, ...]


@dataclass(frozen=True, slots=True)
class BatchScope:
    """Who uploads, and the member whose codes the file names (None: ids only)."""

    principal: Principal
    member_id: int | None = None


def parse_line(text: str) -> BatchLine:
    uid_text, comma, rest = text.strip().partition(",")
    if not comma:
        raise LineRejected("expected UID,SEG[:EXPIRE_MINUTES[:VALUE]];SEG... (no comma)")
    uid_text = uid_text.strip()
    user_id = parse_user_id(uid_text)
    if user_id is None:
        raise LineRejected(f"user id {USER_ID_RULE} (got {_quote(uid_text)})")
    items = tuple(_item(part.strip()) for part in rest.split(";") if part.strip())
    if not items:
        raise LineRejected("no segment after the user id")
    return BatchLine(user_id, items)


def _item(text: str) -> LineItem:
    parts = [p.strip() for p in text.split(":")]
    if len(parts) > 3:
        raise LineRejected(f"segment {_quote(text)}: expected SEG[:EXPIRE_MINUTES[:VALUE]]")
    ref = parts[0]
    if not ref:
        raise LineRejected(f"segment {_quote(text)}: the segment is missing before ':'")
    expire = _number(parts[1]) if len(parts) > 1 and parts[1] else 0
    if expire is None or not (expire == REMOVE or 0 <= expire <= MAX_EXPIRE_MINUTES):
        raise LineRejected(
            f"segment {_quote(ref)}: expire minutes must be -1 (remove), 0 (the segment's own) "
            f"or 1 to {MAX_EXPIRE_MINUTES} (got {_quote(parts[1])})"
        )
    value = _number(parts[2]) if len(parts) > 2 and parts[2] else None
    if len(parts) > 2 and parts[2] and (value is None or not VALUE_MIN <= value <= VALUE_MAX):
        raise LineRejected(
            f"segment {_quote(ref)}: value must be {VALUE_MIN} to {VALUE_MAX} "
            f"(got {_quote(parts[2])})"
        )
    return LineItem(ref, expire or None, value)


def _number(text: str) -> int | None:
    digits = text[1:] if text.startswith("-") else text
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 12:
        return None
    return int(text)


def line_mutation(line: BatchLine, view: CatalogView, scope: BatchScope, now: int) -> Mutation:
    """The line as one user's mutation (source "batch"), or LineRejected naming the bad item."""
    adds: dict[int, Add] = {}
    removes: dict[int, None] = {}
    call_only: dict[int, None] = {}
    for item in line.items:
        segment = _segment(item.ref, view, scope)
        sid = segment.id
        adds.pop(sid, None), removes.pop(sid, None), call_only.pop(sid, None)
        if item.expire_minutes == REMOVE:
            removes[sid] = None
            continue
        minutes = item.expire_minutes or segment.expire_minutes
        if minutes == 0:  # used "for this request only": counted, never stored
            call_only[sid] = None
        else:
            adds[sid] = Add(sid, now + minutes * 60, item.value)
    return Mutation(
        line.user_id,
        now,
        tuple(adds.values()),
        tuple(removes),
        source="batch",
        call_only=tuple(call_only),
    )


def _segment(ref: str, view: CatalogView, scope: BatchScope) -> SegmentView:
    member = scope.member_id
    segment = view.segment_by_code(member, ref) if member is not None else None
    if segment is None and ref.isascii() and ref.isdigit() and len(ref) <= 10:
        segment = view.segment(int(ref))
    if segment is None or not scope.principal.sees_segment(
        segment.member_id, segment.advertiser_id
    ):
        if member is None and not (ref.isascii() and ref.isdigit()):
            raise LineRejected(f"segment {_quote(ref)} is not an id (codes need member_id)")
        where = f" in member {member}" if member is not None else ""
        raise LineRejected(f"unknown segment {_quote(ref)}{where}")
    if member is not None and segment.member_id != member:
        raise LineRejected(f"segment {segment.id} is not a segment of member {member}")
    if not segment.active:
        raise LineRejected(f"segment {segment.id} is inactive")
    if segment.member_id not in view.active_members:
        raise LineRejected(f"member {segment.member_id} of segment {segment.id} is inactive")
    return segment


def _quote(text: str) -> str:
    return repr(text if len(text) <= _SHOWN else text[:_SHOWN] + "…")
