"""One line of a batch segment upload (SPEC §9): `UID,SEG[:EXPIRE_MINUTES[:VALUE]];SEG...`, or
the member's own format (domain/batch_format.py: separators and the order of segment fields).

Pure: text in, a Mutation (or the reason the line is rejected, with the reference's counter it
falls under: `num_invalid_format`, `num_invalid_user`, …) out. Decisions where the SPEC is
silent:

- A line is applied whole or not at all: one bad item rejects the line, and the reason names it.
- With `member_id`, a SEG is first looked up as a code of that member (case-sensitively, as in
  pixels), then as a segment id of that member; without it, SEG must be a segment id.
- EXPIRE_MINUTES: absent, empty or 0 → the segment's own `expire_minutes`; -1 → remove;
  1..259200 → that many minutes from the upload. A segment whose own expiry is 0 is counted as a
  load and never stored, as its pixel adds are.
- VALUE: absent or empty → none (in a member's own format 0 too: the reference's blocks are
  regular, 0 standing for no value); otherwise 1..2147483647.
- TIMESTAMP (a member's format): UNIX seconds the expiry counts from; an add whose expiry is
  already past is rejected (`num_past_expiration`).
- At most 1,800 segments a line (the reference's limit).
- A segment named twice in a line: the last item wins. Adds are applied before removes.
- The caller may only upload to segments it can see (an advertiser user: its own and its
  member's member-level ones); the others are "unknown", as everywhere in the API.
"""

from __future__ import annotations

from dataclasses import dataclass

from segpixel.domain.access import Principal
from segpixel.domain.batch_format import (
    DEFAULT_FORMAT,
    EXPIRATION,
    SEG_CODE,
    TIMESTAMP,
    VALUE,
    BatchFormat,
    separator_name,
)
from segpixel.domain.catalog_view import CatalogView, SegmentView
from segpixel.domain.limits import (
    MAX_EXPIRE_MINUTES,
    MAX_SEGMENTS_PER_LINE,
    TIMESTAMP_MAX,
    VALUE_MAX,
    VALUE_MIN,
)
from segpixel.domain.profile import Add, Mutation
from segpixel.domain.user_ids import USER_ID_RULE, parse_user_id

REMOVE = -1
_SHOWN = 40  # characters of a bad item quoted in a reason


# The reference's counters a rejected line falls under (its job status names them so).
INVALID_FORMAT = "num_invalid_format"
INVALID_USER = "num_invalid_user"
INVALID_SEGMENT = "num_invalid_segment"
UNAUTH_SEGMENT = "num_unauth_segment"
PAST_EXPIRATION = "num_past_expiration"
INACTIVE_SEGMENT = "num_inactive_segment"
INVALID_TIMESTAMP = "num_invalid_timestamp"
OTHER_ERROR = "num_other_error"
REJECTION_KINDS = (
    INVALID_FORMAT,
    INVALID_USER,
    INVALID_SEGMENT,
    INVALID_TIMESTAMP,
    UNAUTH_SEGMENT,
    PAST_EXPIRATION,
    INACTIVE_SEGMENT,
    OTHER_ERROR,
)


class LineRejected(Exception):
    """The line is not applied; the message is the reason shown to the uploader, `kind` the
    reference's counter it falls under."""

    def __init__(self, reason: str, kind: str = INVALID_FORMAT):
        super().__init__(reason)
        self.kind = kind


@dataclass(frozen=True, slots=True)
class LineItem:
    ref: str  # segment id, or code with member_id
    expire_minutes: int | None = None  # None: the segment's own; REMOVE: take the user out
    value: int | None = None
    timestamp: int | None = None  # when the expiry starts (None: the upload's time)
    code_only: bool = False  # SEG_CODE: `ref` is a code, never an id


@dataclass(frozen=True, slots=True)
class BatchLine:
    user_id: int
    items: tuple[LineItem, ...]


@dataclass(frozen=True, slots=True)
class BatchScope:
    """Who uploads, and the member whose codes the file names (None: ids only)."""

    principal: Principal
    member_id: int | None = None


def parse_line(text: str, fmt: BatchFormat = DEFAULT_FORMAT) -> BatchLine:
    strip = fmt.strip_chars()
    uid_text, sep, rest = text.strip(strip).partition(fmt.separator_1)
    if not sep:
        raise LineRejected(f"expected {fmt.describe()} (no {separator_name(fmt.separator_1)})")
    uid_text = uid_text.strip(strip)
    user_id = parse_user_id(uid_text)
    if user_id is None:
        raise LineRejected(f"user id {USER_ID_RULE} (got {_quote(uid_text)})", INVALID_USER)
    adds, removes = rest, ""
    if fmt.separator_4:
        adds, _, removes = rest.partition(fmt.separator_4)
    blocks = [(b, False) for b in adds.split(fmt.separator_2)]
    blocks += [(b, True) for b in removes.split(fmt.separator_2)] if removes else []
    blocks = [(b.strip(strip), remove) for b, remove in blocks if b.strip(strip)]
    if not blocks:
        raise LineRejected("no segment after the user id")
    if len(blocks) > MAX_SEGMENTS_PER_LINE:
        raise LineRejected(
            f"{len(blocks)} segments on the line: at most {MAX_SEGMENTS_PER_LINE} (the "
            "reference's limit); split the user's segments over several lines"
        )
    return BatchLine(user_id, tuple(_item(b, fmt, strip, remove) for b, remove in blocks))


def _item(text: str, fmt: BatchFormat, strip: str, remove: bool) -> LineItem:
    names = fmt.segment_fields
    parts = [p.strip(strip) for p in text.split(fmt.separator_3)]
    at = fmt.segment_index
    if len(parts) > len(names) or len(parts) <= at:
        raise LineRejected(f"segment {_quote(text)}: expected {fmt.describe_block()}")
    ref = parts[at]
    if not ref:
        where = f" before {fmt.separator_3!r}" if at == 0 else ""
        raise LineRejected(f"segment {_quote(text)}: the segment is missing{where}")
    got = dict(zip(names, parts, strict=False))
    expire_text, value_text = got.get(EXPIRATION, ""), got.get(VALUE, "")
    expire = _number(expire_text) if expire_text else 0
    if expire is None or not (expire == REMOVE or 0 <= expire <= MAX_EXPIRE_MINUTES):
        raise LineRejected(
            f"segment {_quote(ref)}: expire minutes must be -1 (remove), 0 (the segment's own) "
            f"or 1 to {MAX_EXPIRE_MINUTES} (got {_quote(expire_text)})"
        )
    value = _number(value_text) if value_text else None
    if value == 0 and fmt != DEFAULT_FORMAT:  # the reference fills a block without one with 0
        value_text, value = "", None
    if value_text and (value is None or not VALUE_MIN <= value <= VALUE_MAX):
        raise LineRejected(
            f"segment {_quote(ref)}: value must be {VALUE_MIN} to {VALUE_MAX} "
            f"(got {_quote(value_text)})"
        )
    stamp_text = got.get(TIMESTAMP, "")
    stamp = _number(stamp_text) if stamp_text else None
    if stamp_text and (stamp is None or not 0 <= stamp <= TIMESTAMP_MAX):
        raise LineRejected(
            f"segment {_quote(ref)}: timestamp must be UNIX time in seconds, 0 to "
            f"{TIMESTAMP_MAX} (got {_quote(stamp_text)})",
            INVALID_TIMESTAMP,
        )
    code_only = SEG_CODE in names
    return LineItem(ref, REMOVE if remove else (expire or None), value, stamp or None, code_only)


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
        segment = _segment(item, view, scope)
        sid = segment.id
        adds.pop(sid, None), removes.pop(sid, None), call_only.pop(sid, None)
        if item.expire_minutes == REMOVE:
            removes[sid] = None
            continue
        minutes = item.expire_minutes or segment.expire_minutes
        if minutes == 0:  # used "for this request only": counted, never stored
            call_only[sid] = None
            continue
        expires = (item.timestamp or now) + minutes * 60
        if expires <= now:
            raise LineRejected(
                f"segment {sid}: timestamp {item.timestamp} + {minutes} minutes is already past",
                PAST_EXPIRATION,
            )
        adds[sid] = Add(sid, expires, item.value)
    return Mutation(
        line.user_id,
        now,
        tuple(adds.values()),
        tuple(removes),
        source="batch",
        call_only=tuple(call_only),
    )


def _segment(item: LineItem, view: CatalogView, scope: BatchScope) -> SegmentView:
    member, ref = scope.member_id, item.ref
    segment = view.segment_by_code(member, ref) if member is not None else None
    is_id = ref.isascii() and ref.isdigit() and len(ref) <= 10
    if segment is None and is_id and not item.code_only:
        segment = view.segment(int(ref))
    if segment is None or not scope.principal.sees_segment(
        segment.member_id, segment.advertiser_id
    ):
        if member is None and not (ref.isascii() and ref.isdigit()):
            raise LineRejected(
                f"segment {_quote(ref)} is not an id (codes need member_id)", INVALID_SEGMENT
            )
        where = f" in member {member}" if member is not None else ""
        raise LineRejected(f"unknown segment {_quote(ref)}{where}", INVALID_SEGMENT)
    if member is not None and segment.member_id != member:
        raise LineRejected(
            f"segment {segment.id} is not a segment of member {member}", UNAUTH_SEGMENT
        )
    if not segment.active:
        raise LineRejected(f"segment {segment.id} is inactive", INACTIVE_SEGMENT)
    if segment.member_id not in view.active_members:
        raise LineRejected(
            f"member {segment.member_id} of segment {segment.id} is inactive", INACTIVE_SEGMENT
        )
    return segment


def _quote(text: str) -> str:
    return repr(text if len(text) <= _SHOWN else text[:_SHOWN] + "…")
