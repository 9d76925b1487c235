"""The segment pixel's grammar (SPEC §3.1): domain/pixel.py — parse_query, parse_pixel_call, values.

Everything here is pure: a query string in, a PixelCall out. Nothing may ever raise, whatever
the bytes.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segpixel.domain.catalog_view import CatalogView, MemberView, SegmentView, UsersyncView
from segpixel.domain.limits import MAX_ITEMS_PER_PIXEL_CALL, VALUE_MAX
from segpixel.domain.pixel import (
    Item,
    ParsedValue,
    PixelCall,
    item_value,
    parse_pixel_call,
    parse_query,
    parse_value,
)
from segpixel.domain.pixel_plan import Macros, plan_chain, plan_items, usersync_candidates
from segpixel.domain.segments import Piggyback


def call(query: str | bytes) -> PixelCall:
    raw = query.encode() if isinstance(query, str) else query
    return parse_pixel_call(parse_query(raw))


def refs(c: PixelCall) -> list[tuple[str, bool, str, str | None]]:
    return [(i.ref, i.by_code, i.action, i.raw_value) for i in c.items]


# --- parse_query --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(b"", {}, id="empty"),
        pytest.param(b"add=1", {"add": "1"}, id="one"),
        pytest.param(b"add=1&t=1", {"add": "1", "t": "1"}, id="two"),
        pytest.param(b"add=1&add=2", {"add": "1"}, id="repeated-first-wins"),
        pytest.param(b"add=&add=2", {"add": ""}, id="repeated-first-empty-still-wins"),
        pytest.param(b"a%64d=5", {"add": "5"}, id="percent-encoded-key"),
        pytest.param(b"add=1%2C2", {"add": "1,2"}, id="percent-encoded-comma"),
        pytest.param(b"other=a+b", {"other": "a b"}, id="plus-is-space"),
        pytest.param(b"value=%2B5", {"value": "+5"}, id="percent-2B-is-plus"),
        pytest.param(b"debug", {"debug": ""}, id="no-equals"),
        pytest.param(b"=5&add=1", {"add": "1"}, id="empty-key-ignored"),
        pytest.param(b"&&add=1&&", {"add": "1"}, id="empty-parts"),
        pytest.param(b"x=a=b", {"x": "a=b"}, id="equals-in-value"),
        pytest.param(
            b"redir=https%3A%2F%2Fx.example%2Fp%3Fa%3D1%26b%3D2",
            {"redir": "https://x.example/p?a=1&b=2"},
            id="encoded-url",
        ),
        pytest.param("add_code=caf\u00e9".encode(), {"add_code": "caf\u00e9"}, id="raw-utf8"),
        pytest.param(b"add_code=caf%C3%A9", {"add_code": "caf\u00e9"}, id="encoded-utf8"),
        pytest.param(b"add_code=\xff\xfe", {"add_code": "\ufffd\ufffd"}, id="invalid-utf8-raw"),
        pytest.param(b"add_code=%FF%FE", {"add_code": "\ufffd\ufffd"}, id="invalid-utf8-encoded"),
        pytest.param(b"add=%", {"add": "%"}, id="lone-percent"),
        pytest.param(b"add=%zz1", {"add": "%zz1"}, id="bad-percent-escape"),
    ],
)
def test_parse_query(raw: bytes, expected: dict[str, str]) -> None:
    assert parse_query(raw) == expected


def test_parse_query_ignores_params_beyond_its_cap() -> None:
    raw = b"&".join(f"p{i}={i}".encode() for i in range(200)) + b"&add=1"
    params = parse_query(raw)
    assert "add" not in params
    assert len(params) <= 64


def test_parse_query_16_kb() -> None:
    ids = ",".join(str(1000 + i) for i in range(3300))
    raw = f"add={ids}&t=1&redir=https%3A%2F%2Fx.example%2F{'a' * 2000}".encode()
    assert len(raw) > 16 * 1024
    c = call(raw)
    assert len(c.items) == MAX_ITEMS_PER_PIXEL_CALL
    assert len(c.overflow) == 3300 - MAX_ITEMS_PER_PIXEL_CALL
    assert c.javascript
    assert c.redir == "https://x.example/" + "a" * 2000


# --- parse_pixel_call: every row of SPEC §3.1 -------------------------------------------------


@pytest.mark.parametrize(
    ("query", "items"),
    [
        pytest.param("add=37", [("37", False, "add", None)], id="add-one"),
        pytest.param(
            "add=37,28:5,12",
            [("37", False, "add", None), ("28", False, "add", "5"), ("12", False, "add", None)],
            id="add-ids-and-values",
        ),
        pytest.param(
            "add_code=shoes:3,Auto&member=7",
            [("shoes", True, "add", "3"), ("Auto", True, "add", None)],
            id="add-code",
        ),
        pytest.param(
            "remove=9,10",
            [("9", False, "remove", None), ("10", False, "remove", None)],
            id="remove",
        ),
        pytest.param("remove_code=old&member=7", [("old", True, "remove", None)], id="remove-code"),
        pytest.param(
            "remove=9&add=1&remove_code=x&add_code=y&member=7",
            [
                ("1", False, "add", None),
                ("y", True, "add", None),
                ("9", False, "remove", None),
                ("x", True, "remove", None),
            ],
            id="adds-listed-before-removes",
        ),
        pytest.param(
            "add=1,,2", [("1", False, "add", None), ("2", False, "add", None)], id="empty-item"
        ),
        pytest.param("add=,,,", [], id="only-commas"),
        pytest.param("add=", [], id="empty-add"),
        pytest.param(
            "add=%201%20,%202:%205%20",
            [("1", False, "add", None), ("2", False, "add", " 5")],
            id="whitespace-percent",
        ),
        pytest.param(
            "add=1+,+2",
            [("1", False, "add", None), ("2", False, "add", None)],
            id="whitespace-plus",
        ),
        pytest.param("add=5:", [("5", False, "add", "")], id="empty-colon-value"),
        pytest.param("add=5:1:2", [("5", False, "add", "1:2")], id="two-colons"),
        pytest.param("add=1&add=2", [("1", False, "add", None)], id="repeated-add-first-wins"),
        pytest.param(
            "add=1%2C2", [("1", False, "add", None), ("2", False, "add", None)], id="encoded-comma"
        ),
    ],
)
def test_items(query: str, items: list[tuple[str, bool, str, str | None]]) -> None:
    c = call(query)
    assert refs(c) == items
    assert c.overflow == ()


def test_long_item_ref_is_truncated() -> None:
    c = call("add_code=" + "a" * 500 + "&member=1")
    assert len(c.items[0].ref) <= 80


@pytest.mark.parametrize(
    ("query", "member", "warned"),
    [
        pytest.param("add_code=x&member=7", 7, False, id="member"),
        pytest.param("add_code=x&member=2147483647", 2147483647, False, id="member-max"),
        pytest.param("add_code=x", None, True, id="add-code-without-member"),
        pytest.param("remove_code=x", None, True, id="remove-code-without-member"),
        pytest.param("add_code=x&member=", None, True, id="empty-member"),
        pytest.param("add_code=x&member=abc", None, True, id="member-not-a-number"),
        pytest.param("add_code=x&member=0", None, True, id="member-zero"),
        pytest.param("add_code=x&member=-3", None, True, id="member-negative"),
        pytest.param("add_code=x&member=2147483648", None, True, id="member-too-large"),
        pytest.param("add_code=x&member=%C2%B2", None, True, id="member-superscript-two"),
        pytest.param("add_code=x&member=%D9%A7", None, True, id="member-arabic-indic-digit"),
        pytest.param("add=1", None, False, id="ids-need-no-member"),
    ],
)
def test_member(query: str, member: int | None, warned: bool) -> None:
    c = call(query)
    assert c.member == member
    assert bool(c.warnings) == warned


@pytest.mark.parametrize(
    ("query", "javascript"),
    [
        pytest.param("add=1&t=1", True, id="t1-js"),
        pytest.param("add=1&t=2", False, id="t2-image"),
        pytest.param("add=1", False, id="absent-image"),
        pytest.param("add=1&t=", False, id="empty-image"),
        pytest.param("add=1&t=js", False, id="garbage-image"),
        pytest.param("add=1&t=3", False, id="t3-image"),
        pytest.param("add=1&t=%FF", False, id="bytes-image"),
        pytest.param("add=1&t=1&t=2", True, id="repeated-first-wins"),
    ],
)
def test_response_type(query: str, javascript: bool) -> None:
    assert call(query).javascript is javascript


@pytest.mark.parametrize(
    ("query", "field", "expected"),
    [
        pytest.param("value=5", "value", "5", id="value"),
        pytest.param("value=", "value", None, id="empty-value"),
        pytest.param("other=9", "other", "9", id="other"),
        pytest.param("other=", "other", None, id="empty-other"),
        pytest.param(
            "redir=https%3A%2F%2Fa.example%2Fp.gif", "redir", "https://a.example/p.gif", id="redir"
        ),
        pytest.param("redir=", "redir", None, id="empty-redir"),
        pytest.param("gdpr=1", "gdpr", "1", id="gdpr"),
        pytest.param("gdpr_consent=CPabc.IGM", "gdpr_consent", "CPabc.IGM", id="gdpr-consent"),
        pytest.param("consent=0", "consent", "0", id="consent"),
        pytest.param("", "gdpr", None, id="gdpr-absent"),
        pytest.param("debug=1", "debug", True, id="debug"),
        pytest.param("debug=0", "debug", False, id="debug-0"),
        pytest.param("debug=true", "debug", False, id="debug-true-is-not-1"),
        pytest.param("", "debug", False, id="debug-absent"),
    ],
)
def test_scalar_params(query: str, field: str, expected: object) -> None:
    assert getattr(call(query), field) == expected


# --- the 100-item limit ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "kept", "overflow"),
    [
        pytest.param(99, 99, 0, id="99"),
        pytest.param(100, 100, 0, id="100"),
        pytest.param(101, 100, 1, id="101"),
        pytest.param(250, 100, 150, id="250"),
    ],
)
def test_item_limit(count: int, kept: int, overflow: int) -> None:
    c = call("add=" + ",".join(str(i) for i in range(1, count + 1)))
    assert len(c.items) == kept
    assert len(c.overflow) == overflow
    if overflow:
        assert c.overflow[0].ref == str(MAX_ITEMS_PER_PIXEL_CALL + 1)


def test_item_limit_counts_adds_and_removes_together() -> None:
    adds = ",".join(str(i) for i in range(1, 61))
    removes = ",".join(str(i) for i in range(61, 121))
    c = call(f"add={adds}&remove={removes}")
    assert len(c.items) == 100
    assert [i.ref for i in c.overflow] == [str(i) for i in range(101, 121)]
    assert all(i.action == "remove" for i in c.overflow)


def test_overflow_items_are_rejected_with_the_limit_reason() -> None:
    c = call("add=" + ",".join(str(i) for i in range(1, 106)))
    plan = plan_items(c, CatalogView(), now=1_700_000_000)
    over = [o for o in plan.outcomes if o.reason_code == "over_limit"]
    assert len(over) == 5
    assert [o.segment_id for o in over] == [101, 102, 103, 104, 105]
    assert all(not o.accepted and "100" in (o.reason or "") for o in over)


# --- never raises -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"\xff\xfe\xfd", id="bytes"),
        pytest.param(b"add=\xff,\xc3&member=\xc3(", id="invalid-utf8-values"),
        pytest.param(b"\xc3=\xc3&\x00=\x00", id="invalid-utf8-keys-and-nul"),
        pytest.param(b"add=%FF%00%0D%0A&t=%", id="encoded-garbage"),
        pytest.param(b"add=%C2%B2,%D9%A1%D9%A2&remove=\xef\xbc\x91", id="unicode-digits"),
        pytest.param(b"member=%C2%B2&add_code=x", id="member-unicode-digit"),
        pytest.param(b"add=" + b"9" * 5000, id="huge-number"),
        pytest.param(b"add=1:" + b"9" * 5000, id="huge-value"),
        pytest.param(b"&" * 10000, id="only-ampersands"),
        pytest.param(b"=" * 10000, id="only-equals"),
        pytest.param(b"add=" + b"," * 16000, id="only-commas"),
        pytest.param(b"add=" + b":" * 16000, id="only-colons"),
    ],
)
def test_garbage_never_raises(raw: bytes) -> None:
    c = call(raw)
    plan_items(c, CATALOG, now=1_700_000_000)


# --- values ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(None, ParsedValue(None), id="none"),
        pytest.param("", ParsedValue(None), id="empty"),
        pytest.param("1", ParsedValue(1), id="min"),
        pytest.param("5", ParsedValue(5), id="five"),
        pytest.param("2147483647", ParsedValue(VALUE_MAX), id="max"),
        pytest.param(" 7 ", ParsedValue(7), id="spaces"),
        pytest.param("+7", ParsedValue(7), id="plus-sign"),
        pytest.param("007", ParsedValue(7), id="leading-zeros"),
        pytest.param("0", ParsedValue(None), id="zero"),
        pytest.param("000", ParsedValue(None), id="zeros"),
        pytest.param("-1", ParsedValue(None), id="negative"),
        pytest.param("-2147483648", ParsedValue(None), id="negative-min"),
        pytest.param("-" + "9" * 30, ParsedValue(None), id="negative-huge"),
        pytest.param("abc", ParsedValue(None), id="word"),
        pytest.param("1.5", ParsedValue(None), id="decimal"),
        pytest.param("1e3", ParsedValue(None), id="exponent"),
        pytest.param("0x10", ParsedValue(None), id="hex"),
        pytest.param("+", ParsedValue(None), id="lone-plus"),
        pytest.param("-", ParsedValue(None), id="lone-minus"),
        pytest.param("\u00b2", ParsedValue(None), id="superscript-two"),
        pytest.param("\u0661\u0662", ParsedValue(None), id="arabic-indic-digits"),
        pytest.param("\uff15", ParsedValue(None), id="fullwidth-five"),
        pytest.param("2147483648", ParsedValue(None, too_large=True), id="max-plus-one"),
        pytest.param("9999999999", ParsedValue(None, too_large=True), id="ten-digits"),
        pytest.param("9" * 30, ParsedValue(None, too_large=True), id="thirty-digits"),
        pytest.param("9" * 5000, ParsedValue(None, too_large=True), id="5000-digits"),
        pytest.param("0" * 29 + "5", ParsedValue(5), id="thirty-digits-with-leading-zeros"),
    ],
)
def test_parse_value(raw: str | None, expected: ParsedValue) -> None:
    assert parse_value(raw) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param("add=1:3&value=4&other=5", ParsedValue(3), id="own-value-first"),
        pytest.param("add=1&value=4&other=5", ParsedValue(4), id="then-value"),
        pytest.param("add=1&other=5", ParsedValue(5), id="then-other"),
        pytest.param("add=1", ParsedValue(None), id="nothing"),
        pytest.param("add=1:&value=4", ParsedValue(4), id="empty-own-value-falls-back"),
        pytest.param("add=1&value=&other=5", ParsedValue(5), id="empty-value-falls-back"),
        pytest.param("add=1:0&value=4", ParsedValue(None), id="own-zero-is-no-value"),
        pytest.param("add=1:x&value=4", ParsedValue(None), id="own-garbage-is-no-value"),
        pytest.param(
            "add=1:2147483648&value=4", ParsedValue(None, too_large=True), id="own-too-large"
        ),
        pytest.param(
            "add=1&value=2147483648", ParsedValue(None, too_large=True), id="value-too-large"
        ),
        pytest.param(
            "add=1&other=" + "9" * 30, ParsedValue(None, too_large=True), id="other-too-large"
        ),
    ],
)
def test_item_value_precedence(query: str, expected: ParsedValue) -> None:
    c = call(query)
    assert item_value(c.items[0], c) == expected


def test_item_value_applies_call_value_to_items_without_their_own() -> None:
    c = call("add=1,2:9,3&value=4")
    assert [item_value(i, c).value for i in c.items] == [4, 9, 4]


@pytest.mark.parametrize(
    ("item", "segment_id"),
    [
        pytest.param(Item("37", False, "add"), 37, id="id"),
        pytest.param(Item("0037", False, "add"), 37, id="leading-zeros"),
        pytest.param(Item("37", True, "add"), None, id="code"),
        pytest.param(Item("", False, "add"), None, id="empty"),
        pytest.param(Item("-3", False, "add"), None, id="negative"),
        pytest.param(Item("3a", False, "add"), None, id="not-a-number"),
        pytest.param(Item("1" * 11, False, "add"), None, id="too-long"),
        pytest.param(Item("\u00b2", False, "add"), None, id="superscript-two"),
        pytest.param(Item("\u0661\u0662", False, "add"), None, id="arabic-indic-digits"),
        pytest.param(Item("\uff11\uff12", False, "add"), None, id="fullwidth-digits"),
    ],
)
def test_item_segment_id(item: Item, segment_id: int | None) -> None:
    assert item.segment_id() == segment_id


# --- hypothesis: the grammar and the planner never raise -----------------------------------------

_SEGMENTS = {
    1: SegmentView(1, 1, None, "one", True, 60, 2, (Piggyback("https://p.example/1.gif", "img"),)),
    2: SegmentView(2, 1, None, "two", True, 0, 1, (Piggyback("https://p.example/2.js", "js"),)),
    3: SegmentView(3, 1, None, "off", False, 60, 0),
    4: SegmentView(4, 2, None, "one", True, 60, 3),
}
CATALOG = CatalogView(
    version=1,
    segments=_SEGMENTS,
    segments_by_code={(s.member_id, s.code): s for s in _SEGMENTS.values() if s.code},
    members={
        1: MemberView(1, "m1", True, ("ok.example", "*.wild.example"), "d1"),
        2: MemberView(2, "m2", False, (), "d2"),
    },
    usersyncs={1: (UsersyncView(7, 1, "https://s.example/?u=${UID}", "img", 3),)},
)

KEYS = [
    "add",
    "add_code",
    "remove",
    "remove_code",
    "member",
    "value",
    "other",
    "t",
    "redir",
    "gdpr",
    "gdpr_consent",
    "consent",
    "debug",
]


@st.composite
def queries(draw: st.DrawFn) -> bytes:
    """Mostly well-formed pixel queries with hostile values, and plain random bytes."""
    if draw(st.booleans()):
        return draw(st.binary(max_size=400))
    parts = []
    for _ in range(draw(st.integers(0, 8))):
        key = draw(st.sampled_from(KEYS))
        value = draw(
            st.one_of(
                st.text(max_size=40),
                st.lists(
                    st.one_of(
                        st.integers(-5, 6).map(str),
                        st.sampled_from(["one", "two", "off", "\u00b2", "\u0661\u0662", "\uff11"]),
                        st.text(max_size=6),
                    ),
                    max_size=5,
                ).map(",".join),
                st.sampled_from(
                    [
                        "1",
                        "2",
                        "javascript:alert(1)",
                        "https://ok.example/x",
                        "https://a.wild.example/x.js",
                        "http://[::1",
                        "https://[x",
                    ]
                ),
            )
        )
        encoded = value.encode("utf-8", "surrogatepass")
        if draw(st.booleans()):
            encoded = b"".join(b"%%%02X" % b for b in encoded)
        parts.append(key.encode() + b"=" + encoded)
    return b"&".join(parts)


@settings(max_examples=400, deadline=None)
@given(raw=queries(), now=st.integers(0, 2**33))
def test_grammar_and_plan_never_raise(raw: bytes, now: int) -> None:
    c = call(raw)
    assert len(c.items) <= MAX_ITEMS_PER_PIXEL_CALL
    plan = plan_items(c, CATALOG, now)
    assert len(plan.outcomes) == len(c.items) + len(c.overflow)
    partners = usersync_candidates(plan, CATALOG, {}, now)
    chain = plan_chain(c, plan, CATALOG, partners, Macros("1", c.gdpr or "", "", "7"), None)
    if not c.javascript:
        assert sum(1 for x in chain if x.fired) <= 1
