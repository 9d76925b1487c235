"""A member's batch file format (SPEC §9.2): lines in the reference's separators and field
orders, the rules a configuration must keep, and gzip inflated as it is read."""

from __future__ import annotations

import gzip
import io
import zlib

import pytest

from segpixel.batch.inflate import BadGzip, FileTooLarge, Inflating
from segpixel.domain.batch_format import DEFAULT_FORMAT, BatchFormat, format_errors
from segpixel.domain.batch_lines import (
    INVALID_FORMAT,
    INVALID_TIMESTAMP,
    INVALID_USER,
    BatchLine,
    LineItem,
    LineRejected,
    parse_line,
)

REFERENCE = BatchFormat(";", ",", ":", "\t", ("SEG_ID", "EXPIRATION", "VALUE"))
STAMPED = BatchFormat("\t", ";", "\t", None, ("TIMESTAMP", "SEG_ID", "VALUE", "EXPIRATION"))
CODES = BatchFormat(",", ";", ":", "\t", ("SEG_CODE",))


@pytest.mark.parametrize(
    ("fmt", "text", "line"),
    [
        pytest.param(
            REFERENCE,
            "7652266028043224430;5848:0,5849:1440,5850:1440:3",
            BatchLine(
                7652266028043224430,
                (LineItem("5848"), LineItem("5849", 1440), LineItem("5850", 1440, 3)),
            ),
            id="reference-example",
        ),
        pytest.param(
            STAMPED,
            "42\t1320689131\t10000\t0\t-1",
            BatchLine(42, (LineItem("10000", -1, None, 1320689131),)),
            id="separator-1-is-separator-3",
        ),
        pytest.param(
            CODES,
            "42,auto_intender;nike\tbicycle;newbalance",
            BatchLine(
                42,
                (
                    LineItem("auto_intender", code_only=True),
                    LineItem("nike", code_only=True),
                    LineItem("bicycle", -1, code_only=True),
                    LineItem("newbalance", -1, code_only=True),
                ),
            ),
            id="codes-and-separator-4-removes",
        ),
    ],
)
def test_lines_in_a_members_format(fmt: BatchFormat, text: str, line: BatchLine) -> None:
    assert parse_line(text, fmt) == line


@pytest.mark.parametrize(
    ("fmt", "text", "kind", "reason"),
    [
        pytest.param(REFERENCE, "42,5", INVALID_FORMAT, "(no semicolon)", id="no-separator-1"),
        pytest.param(REFERENCE, "42;5:0:1:9", INVALID_FORMAT, "expected SEG[:EXPIRE", id="fields"),
        pytest.param(REFERENCE, f"{2**64};5", INVALID_USER, "user id must be", id="uid-range"),
        pytest.param(
            STAMPED, "42\t1320689131000\t5", INVALID_TIMESTAMP, "UNIX time in seconds", id="ms"
        ),
        pytest.param(
            DEFAULT_FORMAT,
            "42," + ";".join(["5"] * 1801),
            INVALID_FORMAT,
            "1801 segments on the line: at most 1800",
            id="1801-segments",
        ),
    ],
)
def test_rejected_lines_name_their_kind(
    fmt: BatchFormat, text: str, kind: str, reason: str
) -> None:
    with pytest.raises(LineRejected) as info:
        parse_line(text, fmt)
    assert info.value.kind == kind and reason in str(info.value)


def test_1800_segments_are_one_line() -> None:
    assert len(parse_line("42," + ";".join(["5"] * 1800)).items) == 1800


def test_a_configuration_names_every_rule_it_breaks() -> None:
    fields = {**DEFAULT_FORMAT.as_fields(), "separator_2": ",", "separator_3": "|"}
    fields["segment_fields"] = ["SEG_ID", "SEG_CODE", "MEMBER_ID"]
    messages = [e.message for e in format_errors(fields)]
    assert "separator_2 must differ from separator_1 (both ',')" in messages
    assert any(m.startswith("separator_3 must not be '|'") for m in messages)
    assert any("MEMBER_ID: documented by the reference, not implemented" in m for m in messages)
    assert "segment_fields must name exactly one of SEG_ID, SEG_CODE" in messages
    assert format_errors({**REFERENCE.as_fields(), "segment_fields": "[SEG_ID,VALUE]"}) == []


def read_all(stream: Inflating) -> bytes:
    out = b""
    while chunk := stream.read(1 << 16):
        out += chunk
    return out


def test_gzip_is_inflated_as_it_is_read_members_and_resumes_included() -> None:
    data = b"".join(b"%d,5\n" % i for i in range(50_000))
    two_members = gzip.compress(data[:100_000]) + gzip.compress(data[100_000:])
    assert read_all(Inflating(io.BytesIO(two_members), 10**9)) == data
    resumed = Inflating(io.BytesIO(two_members), 10**9)
    resumed.seek(123_456)
    assert resumed.read(20) == data[123_456:123_476]
    with pytest.raises(BadGzip, match="truncated"):
        read_all(Inflating(io.BytesIO(two_members[:-30]), 10**9))


def test_a_gzip_bomb_stops_at_the_limit() -> None:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    bomb = b"".join(packer.compress(b"\n" * (1 << 20)) for _ in range(64)) + packer.flush()
    stream = Inflating(io.BytesIO(bomb), 1 << 20)
    with pytest.raises(FileTooLarge, match="inflates to more than SEGPIXEL_BATCH_MAX_BYTES"):
        read_all(stream)
    assert stream.position <= (1 << 20) + (1 << 16)  # it stopped within one read of the limit
