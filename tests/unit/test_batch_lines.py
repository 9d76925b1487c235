"""A batch upload's line (SPEC §9): its grammar, and the mutation it makes against a catalog."""

from __future__ import annotations

import io

import pytest

from segpixel.batch.upload import MAX_LINE_BYTES, BatchReport, read_lines
from segpixel.domain.access import Principal
from segpixel.domain.batch_lines import (
    BatchLine,
    BatchScope,
    LineItem,
    LineRejected,
    line_mutation,
    parse_line,
)
from segpixel.domain.catalog_view import CatalogView, MemberView, SegmentView
from segpixel.domain.profile import Add

NOW = 1_800_000_000
ADMIN = Principal(1, "admin", "admin")
ACME = Principal(2, "acme", "member", member_id=1)
ACME_CARS = Principal(3, "cars", "advertiser", member_id=1, advertiser_id=10)


def segment(sid: int, member: int = 1, code: str | None = None, **kw: object) -> SegmentView:
    fields = {"advertiser_id": None, "active": True, "expire_minutes": 60, "max_usersync_pixels": 0}
    fields.update(kw)
    return SegmentView(sid, member, code=code, **fields)  # type: ignore[arg-type]


SEGMENTS = [
    segment(5, code="cars"),
    segment(6, code="123"),  # a code that looks like an id
    segment(7, expire_minutes=0),  # "this request only"
    segment(8, advertiser_id=10),
    segment(9, advertiser_id=11),
    segment(20, member=2, code="cars"),
    segment(21, active=False),
    segment(30, member=3),
    segment(31),
]
VIEW = CatalogView(
    version=1,
    segments={s.id: s for s in SEGMENTS},
    segments_by_code={(s.member_id, s.code): s for s in SEGMENTS if s.code},
    members={m: MemberView(m, f"M{m}", m != 3, (), "d") for m in (1, 2, 3)},
)


def mutation(text: str, principal: Principal = ADMIN, member_id: int | None = None):  # type: ignore[no-untyped-def]
    return line_mutation(parse_line(text), VIEW, BatchScope(principal, member_id), NOW)


def rejected(text: str, principal: Principal = ADMIN, member_id: int | None = None) -> str:
    with pytest.raises(LineRejected) as info:
        mutation(text, principal, member_id)
    return str(info.value)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        pytest.param("42,5", BatchLine(42, (LineItem("5"),)), id="one-segment"),
        pytest.param(
            " 42 , 5:120:7 ; cars:0 ;6:-1;\r",
            BatchLine(42, (LineItem("5", 120, 7), LineItem("cars"), LineItem("6", -1))),
            id="spaces-crlf-trailing-semicolon",
        ),
        pytest.param("9223372036854775807,5::", BatchLine(2**63 - 1, (LineItem("5"),)), id="max"),
    ],
)
def test_well_formed_lines(text: str, line: BatchLine) -> None:
    assert parse_line(text) == line


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        pytest.param("42", "no comma", id="no-comma"),
        pytest.param("abc,5", "user id must be a number from 1", id="uid-text"),
        pytest.param("0,5", "user id must be a number from 1", id="uid-zero"),
        pytest.param("-1,5", "user id must be a number from 1", id="opted-out"),
        # Above 2^63-1 no cookie can carry it and no read can take it (SPEC §9.2: one range).
        pytest.param("9223372036854775808,5", "to 9223372036854775807", id="uid-2-63"),
        pytest.param("18446744073709551615,5", "to 9223372036854775807", id="uid-2-64-minus-1"),
        pytest.param("42,", "no segment after the user id", id="no-segment"),
        pytest.param("42,5:1:2:3", "expected SEG[:EXPIRE_MINUTES[:VALUE]]", id="four-parts"),
        pytest.param("42,:60", "the segment is missing", id="no-ref"),
        pytest.param("42,5:-2", "expire minutes must be -1 (remove)", id="expire-negative"),
        pytest.param("42,5:259201", "or 1 to 259200 (got '259201')", id="expire-too-long"),
        pytest.param("42,5:soon", "expire minutes must be", id="expire-text"),
        pytest.param("42,5:60:0", "value must be 1 to 2147483647 (got '0')", id="value-zero"),
        pytest.param("42,5:60:2147483648", "value must be 1 to 2147483647", id="value-big"),
    ],
)
def test_malformed_lines_say_why(text: str, reason: str) -> None:
    with pytest.raises(LineRejected) as info:
        parse_line(text)
    assert reason in str(info.value)


def test_adds_use_the_segments_expiry_or_the_lines() -> None:
    m = mutation("42,5;31:90:9")
    assert (m.user_id, m.at, m.source) == (42, NOW, "batch")
    assert m.adds == (Add(5, NOW + 60 * 60, None), Add(31, NOW + 90 * 60, 9))
    assert m.removes == () and m.call_only == ()


def test_minus_one_removes_and_a_segment_named_twice_keeps_the_last() -> None:
    m = mutation("42,5;6:-1;5:-1;31;31:10")
    assert m.adds == (Add(31, NOW + 600, None),)
    assert m.removes == (6, 5)


def test_a_segment_of_this_request_only_is_a_load_never_stored() -> None:
    m = mutation("42,7")
    assert (m.adds, m.call_only, m.loads()) == ((), (7,), (7,))
    assert mutation("42,7:30").adds == (Add(7, NOW + 1800, None),)  # its own expiry given


def test_codes_with_member_id() -> None:
    assert mutation("42,cars", member_id=1).adds[0].segment_id == 5
    assert mutation("42,cars", member_id=2).adds[0].segment_id == 20
    assert mutation("42,123", member_id=1).adds[0].segment_id == 6  # the code wins
    assert mutation("42,5", member_id=1).adds[0].segment_id == 5  # ids of that member too
    assert "is not a segment of member 1" in rejected("42,20", member_id=1)
    assert "unknown segment 'Cars' in member 1" in rejected("42,Cars", member_id=1)  # case
    assert "is not an id (codes need member_id)" in rejected("42,cars")


@pytest.mark.parametrize(
    ("text", "principal", "reason"),
    [
        pytest.param("42,99", ADMIN, "unknown segment '99'", id="unknown"),
        pytest.param("42,21", ADMIN, "segment 21 is inactive", id="inactive"),
        pytest.param("42,30", ADMIN, "member 3 of segment 30 is inactive", id="member-inactive"),
        pytest.param("42,20", ACME, "unknown segment '20'", id="other-members-segment"),
        pytest.param("42,9", ACME_CARS, "unknown segment '9'", id="other-advertisers-segment"),
        pytest.param("42,5;99", ADMIN, "unknown segment '99'", id="one-bad-item-rejects-all"),
    ],
)
def test_segments_the_uploader_may_not_use_are_rejected(
    text: str, principal: Principal, reason: str
) -> None:
    assert reason in rejected(text, principal)


def test_an_advertiser_uploads_to_its_own_and_member_level_segments() -> None:
    assert [a.segment_id for a in mutation("42,5;8", ACME_CARS).adds] == [5, 8]


# -- reading lines from a stream -----------------------------------------------------------------


def lines(data: bytes) -> list[tuple[int, bytes | None]]:
    return list(read_lines(io.BytesIO(data), BatchReport()))


def test_lines_are_numbered_and_the_last_needs_no_newline() -> None:
    assert lines(b"1,5\n\n2,5\r\n3,5") == [(1, b"1,5"), (2, b""), (3, b"2,5\r"), (4, b"3,5")]
    assert lines(b"\xef\xbb\xbf1,5\n") == [(1, b"1,5")]  # a byte order mark is dropped
    assert lines(b"") == []


def test_a_line_too_long_is_skipped_without_being_gathered() -> None:
    long = b"1," + b"5;" * MAX_LINE_BYTES
    assert lines(long + b"\n2,5\n" + long) == [(1, None), (2, b"2,5"), (3, None)]
