"""The segment's rules (SPEC §1.2, §1.3 piggybacks, §5.1/§5.2 mappings) as pure functions."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from segpixel.domain.errors import FieldError
from segpixel.domain.segments import (
    PIGGYBACK_RULES,
    KeyValueMapping,
    Piggyback,
    QueryStringMapping,
    SegmentDraft,
    effective_expire_minutes,
    param_collision_error,
    piggyback_errors,
    segment_errors,
    segment_type,
)

BASE = SegmentDraft(member_id=1, short_name="Car buyers")
IMG = Piggyback("https://pix.example.com/p.gif", "img")
JS = Piggyback("https://pix.example.com/p.js", "js")


def draft(**changes: Any) -> SegmentDraft:
    return replace(BASE, **changes)


def errors_of(d: SegmentDraft) -> list[tuple[str, str]]:
    return [(e.field, e.message) for e in segment_errors(d)]


def check(d: SegmentDraft, field: str | None, fragment: str | None) -> None:
    """No error when `field` is None, else exactly one error at `field` containing `fragment`."""
    errors = errors_of(d)
    if field is None:
        assert errors == []
        return
    assert len(errors) == 1, errors
    got_field, message = errors[0]
    assert got_field == field
    assert message.startswith(f"{field} "), "the sentence starts with the field's name"
    assert fragment is not None and fragment in message, message


def test_a_minimal_draft_is_valid_with_the_reference_defaults() -> None:
    assert segment_errors(BASE) == []
    assert BASE.state == "active"
    assert BASE.max_usersync_pixels == 0
    assert BASE.expire_minutes is None
    assert BASE.advertiser_id is None  # member level
    assert segment_type(BASE) == "pixel"


# -- §1.2 plain fields ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        # short_name: 1..255, not blank
        pytest.param({"short_name": "x"}, None, None, id="name-1"),
        pytest.param({"short_name": "n" * 255}, None, None, id="name-255"),
        pytest.param(
            {"short_name": "n" * 256}, "short_name", "must be at most 255 characters", id="name-256"
        ),
        pytest.param({"short_name": ""}, "short_name", "is required", id="name-empty"),
        pytest.param({"short_name": "  "}, "short_name", "must not be blank", id="name-blank"),
        # code: 1..50 of [A-Za-z0-9_-], optional
        pytest.param({"code": None}, None, None, id="code-none"),
        pytest.param({"code": "Auto-2_x"}, None, None, id="code-charset"),
        pytest.param({"code": "c" * 50}, None, None, id="code-50"),
        pytest.param({"code": "c" * 51}, "code", "must be 1 to 50 characters", id="code-51"),
        pytest.param({"code": ""}, "code", "must be 1 to 50 characters", id="code-empty"),
        pytest.param({"code": "car buyers"}, "code", "no spaces, dots", id="code-space"),
        pytest.param({"code": "car.buyers"}, "code", "no spaces, dots", id="code-dot"),
        pytest.param(
            {"code": "voiture-\u00e9"}, "code", "each a letter, a digit", id="code-unicode"
        ),
        # description: at most 500
        pytest.param({"description": "d" * 500}, None, None, id="description-500"),
        pytest.param(
            {"description": "d" * 501},
            "description",
            "must be at most 500 characters (got 501)",
            id="description-501",
        ),
        # state
        pytest.param({"state": "inactive"}, None, None, id="state-inactive"),
        pytest.param(
            {"state": "paused"}, "state", "must be 'active' or 'inactive'", id="state-bad"
        ),
        # expire_minutes: 0..259200 or null
        pytest.param({"expire_minutes": None}, None, None, id="expire-null"),
        pytest.param({"expire_minutes": 0}, None, None, id="expire-0-this-request-only"),
        pytest.param({"expire_minutes": 1}, None, None, id="expire-1"),
        pytest.param({"expire_minutes": 259_200}, None, None, id="expire-259200"),
        pytest.param(
            {"expire_minutes": 259_201},
            "expire_minutes",
            "must be between 0 and 259200 minutes (180 days), or null for 180 days (got 259201)",
            id="expire-259201",
        ),
        pytest.param({"expire_minutes": -1}, "expire_minutes", "(got -1)", id="expire-minus-1"),
        # max_usersync_pixels: int >= 0 or null (null = 0)
        pytest.param({"max_usersync_pixels": 0}, None, None, id="usersync-0"),
        pytest.param({"max_usersync_pixels": None}, None, None, id="usersync-null"),
        pytest.param({"max_usersync_pixels": 3}, None, None, id="usersync-3"),
        pytest.param(
            {"max_usersync_pixels": -1},
            "max_usersync_pixels",
            "must be between 0 and 100 (got -1)",
            id="usersync-negative",
        ),
        pytest.param(
            {"max_usersync_pixels": 101},
            "max_usersync_pixels",
            "must be between 0 and 100 (got 101)",
            id="usersync-over-our-cap",
        ),
    ],
)
def test_segment_fields(changes: dict[str, Any], field: str | None, fragment: str | None) -> None:
    check(draft(**changes), field, fragment)


KV = KeyValueMapping("music", "rock")


@pytest.mark.parametrize(
    ("max_usersync", "ok"),
    [
        pytest.param(0, True, id="zero"),
        pytest.param(None, True, id="null"),
        pytest.param(1, False, id="one"),
        pytest.param(5, False, id="five"),
    ],
)
def test_max_usersync_pixels_not_with_a_key_value_mapping(
    max_usersync: int | None, ok: bool
) -> None:
    d = draft(max_usersync_pixels=max_usersync, querystring_mapping_key_value=KV)
    if ok:
        check(d, None, None)
    else:
        check(
            d,
            "max_usersync_pixels",
            "cannot be set on a segment with querystring_mapping_key_value",
        )


def test_max_usersync_pixels_allowed_with_a_query_string_mapping() -> None:
    qs = QueryStringMapping("car", "none")
    check(draft(max_usersync_pixels=2, querystring_mapping=qs), None, None)


@pytest.mark.parametrize(
    ("expire", "effective"),
    [
        pytest.param(None, 259_200, id="null-is-180-days"),
        pytest.param(0, 0, id="zero-stays-zero"),
        pytest.param(60, 60, id="given"),
    ],
)
def test_effective_expire_minutes(expire: int | None, effective: int) -> None:
    assert effective_expire_minutes(expire) == effective


def test_every_broken_field_is_reported_at_once() -> None:
    d = draft(short_name="", code="a b", description="d" * 501, state="x", expire_minutes=-5)
    fields = [field for field, _ in errors_of(d)]
    assert fields == ["short_name", "code", "description", "state", "expire_minutes"]


# -- §1.3 piggyback pixels ------------------------------------------------------------------------

RULE_2 = "must all be of one type, 'img' or 'js'"
RULE_3 = "may hold only one 'img' pixel"
RULE_4 = "must be an absolute http:// or https:// URL"


@pytest.mark.parametrize(
    ("pixels", "field", "fragment"),
    [
        pytest.param((), None, None, id="none"),
        pytest.param((IMG,), None, None, id="one-img-ok"),
        pytest.param((JS,), None, None, id="one-js-ok"),
        pytest.param((JS,) * 12, None, None, id="many-js-ok"),
        pytest.param((IMG, IMG), "piggyback_pixels", f"{RULE_3} (got 2)", id="two-img-rule-3"),
        pytest.param((IMG, JS), "piggyback_pixels", RULE_2, id="img-and-js-rule-2"),
        pytest.param((JS, JS, IMG), "piggyback_pixels", RULE_2, id="js-js-img-rule-2"),
        pytest.param(
            (Piggyback("/relative.gif", "img"),),
            "piggyback_pixels[0].url",
            RULE_4,
            id="relative-url-rule-4",
        ),
        pytest.param(
            (JS, Piggyback("ftp://example.com/p.js", "js")),
            "piggyback_pixels[1].url",
            RULE_4,
            id="ftp-url-rule-4",
        ),
        pytest.param(
            (Piggyback("javascript:alert(1)", "js"),),
            "piggyback_pixels[0].url",
            RULE_4,
            id="javascript-url-rule-4",
        ),
        pytest.param(
            (Piggyback("//cdn.example.com/p.gif", "img"),),
            "piggyback_pixels[0].url",
            RULE_4,
            id="scheme-relative-rule-4",
        ),
        pytest.param(
            (Piggyback("https://pix.example.com/p.gif?" + "q" * 8192, "img"),),
            None,
            None,
            id="8kb-url-accepted",
        ),
        pytest.param(
            (Piggyback("https://pix.example.com/p?u=${UID}&g=${GDPR}&c=${GDPR_CONSENT}", "js"),),
            None,
            None,
            id="macros-accepted",
        ),
        pytest.param(
            (Piggyback("https://pix.example.com/p", "iframe"),),
            "piggyback_pixels[0].pixel_type",
            "must be 'img' or 'js' (got 'iframe')",
            id="unknown-pixel-type",
        ),
    ],
)
def test_piggyback_rules(
    pixels: tuple[Piggyback, ...], field: str | None, fragment: str | None
) -> None:
    check(draft(piggyback_pixels=pixels), field, fragment)


@pytest.mark.parametrize(
    ("pixels", "rule"),
    [
        pytest.param((IMG, JS), 2, id="rule-2"),
        pytest.param((IMG, IMG), 3, id="rule-3"),
        pytest.param((Piggyback("ftp://x.example/p", "img"),), 4, id="rule-4"),
    ],
)
def test_piggyback_errors_name_the_rule(pixels: tuple[Piggyback, ...], rule: int) -> None:
    (error,) = piggyback_errors(pixels)
    assert error.message.endswith(f"(rule {rule})"), error.message


def test_the_four_piggyback_rules_are_spelled_out() -> None:
    assert sorted(PIGGYBACK_RULES) == [1, 2, 3, 4]
    assert "creative" in PIGGYBACK_RULES[1]
    assert "one type" in PIGGYBACK_RULES[2]
    assert "only one piggyback" in PIGGYBACK_RULES[3]
    assert "absolute http:// or https://" in PIGGYBACK_RULES[4]


# -- §5.1 / §5.2 mappings and the derived type ----------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param({}, "pixel", id="pixel"),
        pytest.param(
            {"querystring_mapping": QueryStringMapping("car", "none")}, "querystring", id="qs"
        ),
        pytest.param({"querystring_mapping_key_value": KV}, "querystring_key_value", id="kv"),
    ],
)
def test_segment_type_is_derived(changes: dict[str, Any], expected: str) -> None:
    assert segment_type(draft(**changes)) == expected


def test_the_two_mappings_are_mutually_exclusive() -> None:
    d = draft(
        querystring_mapping=QueryStringMapping("car", "none"), querystring_mapping_key_value=KV
    )
    check(
        d,
        "querystring_mapping",
        "querystring_mapping and querystring_mapping_key_value cannot both be set",
    )


QS = "querystring_mapping"


@pytest.mark.parametrize(
    ("mapping", "field", "fragment"),
    [
        pytest.param(QueryStringMapping("car", "text", ("ford", "bmw*")), None, None, id="text"),
        pytest.param(QueryStringMapping("car", "numeric"), None, None, id="numeric"),
        pytest.param(QueryStringMapping("car", "none"), None, None, id="none"),
        pytest.param(
            QueryStringMapping("car", "text", allow_empty_text=True), None, None, id="text-empty-ok"
        ),
        pytest.param(
            QueryStringMapping(
                "car", "text", ("ford",), publishers=(1,), sites=(2,), placements=(3,)
            ),
            None,
            None,
            id="scoped",
        ),
        pytest.param(QueryStringMapping("p" * 60, "none"), None, None, id="param-60"),
        pytest.param(
            QueryStringMapping("", "none"), f"{QS}.param", "is required", id="param-empty"
        ),
        pytest.param(
            QueryStringMapping("  ", "none"), f"{QS}.param", "must not be blank", id="param-blank"
        ),
        pytest.param(
            QueryStringMapping("p" * 61, "none"),
            f"{QS}.param",
            "must be at most 60 characters, the longest key an ad call reads (got 61)",
            id="param-61",
        ),
        pytest.param(
            QueryStringMapping("my car", "none"),
            f"{QS}.param",
            "must not contain spaces or any of & = # ?",
            id="param-space",
        ),
        pytest.param(
            QueryStringMapping("a&b", "none"), f"{QS}.param", "& = # ?", id="param-ampersand"
        ),
        pytest.param(
            QueryStringMapping("a=b", "none"), f"{QS}.param", "& = # ?", id="param-equals"
        ),
        pytest.param(
            QueryStringMapping("car", "date"),
            f"{QS}.value_type",
            "must be 'text', 'numeric' or 'none' (got 'date')",
            id="value-type-bad",
        ),
        pytest.param(
            QueryStringMapping("car", "text"),
            f"{QS}.values",
            "must list at least one value when value_type is 'text'",
            id="text-without-values",
        ),
        pytest.param(
            QueryStringMapping("car", "numeric", ("1",)),
            f"{QS}.values",
            "may only be given when value_type is 'text'",
            id="numeric-with-values",
        ),
        pytest.param(
            QueryStringMapping("car", "none", ("ford",)),
            f"{QS}.values",
            "may only be given when value_type is 'text'",
            id="none-with-values",
        ),
        pytest.param(
            QueryStringMapping("car", "text", ("ford", "")),
            f"{QS}.values[1]",
            "must be a non-empty value or prefix*",
            id="empty-value",
        ),
        pytest.param(
            QueryStringMapping("car", "text", ("*",)),
            f"{QS}.values[0]",
            "must be a non-empty value or prefix*",
            id="star-alone",
        ),
        pytest.param(
            QueryStringMapping("car", "text", ("b*w",)),
            f"{QS}.values[0]",
            "may hold '*' only as its last character",
            id="star-inside",
        ),
        pytest.param(
            QueryStringMapping("car", "text", ("v" * 61,)),
            f"{QS}.values[0]",
            "must be at most 60 characters",
            id="value-61",
        ),
    ],
)
def test_querystring_mapping_shape(
    mapping: QueryStringMapping, field: str | None, fragment: str | None
) -> None:
    check(draft(querystring_mapping=mapping), field, fragment)


KVF = "querystring_mapping_key_value"


@pytest.mark.parametrize(
    ("mapping", "field", "fragment"),
    [
        pytest.param(KeyValueMapping("music", "rock"), None, None, id="key-and-value"),
        pytest.param(KeyValueMapping("music", None), None, None, id="null-value-any"),
        pytest.param(KeyValueMapping("music", ""), None, None, id="empty-value-any"),
        pytest.param(KeyValueMapping("k" * 60, "v" * 60), None, None, id="60-chars"),
        pytest.param(KeyValueMapping("", "rock"), f"{KVF}.qs_key", "is required", id="key-empty"),
        pytest.param(
            KeyValueMapping("k" * 61, "rock"),
            f"{KVF}.qs_key",
            "must be at most 60 characters",
            id="key-61",
        ),
        pytest.param(KeyValueMapping("mu sic", "rock"), f"{KVF}.qs_key", "& = # ?", id="key-space"),
        pytest.param(
            KeyValueMapping("music", "r" * 61),
            f"{KVF}.qs_value",
            "must be at most 60 characters",
            id="value-61",
        ),
    ],
)
def test_key_value_mapping_shape(
    mapping: KeyValueMapping, field: str | None, fragment: str | None
) -> None:
    check(draft(querystring_mapping_key_value=mapping), field, fragment)


def test_param_collision_sentence() -> None:
    error = param_collision_error("Car", 7)
    assert error.field == "querystring_mapping.param"
    assert error.message == (
        "querystring_mapping.param 'Car' already maps to segment 7 of this member "
        "(a query-string param maps to at most one segment, ignoring case)"
    )


# -- segment_errors never raises, whatever the draft -------------------------------------------

ANY_TEXT = st.text(max_size=80)
URLS = st.one_of(
    ANY_TEXT,
    st.builds("{}://{}".format, st.sampled_from(["http", "https", "ftp", "HTTP", ""]), ANY_TEXT),
    st.builds("http://[{}]{}".format, ANY_TEXT, ANY_TEXT),
)
PIXEL_TYPES = st.one_of(st.sampled_from(["img", "js"]), ANY_TEXT)
INTS = st.one_of(st.none(), st.integers(), st.integers(min_value=-2, max_value=300_000))
QS_MAPPINGS = st.builds(
    QueryStringMapping,
    param=ANY_TEXT,
    value_type=st.one_of(st.sampled_from(["text", "numeric", "none"]), ANY_TEXT),
    values=st.lists(ANY_TEXT, max_size=4).map(tuple),
    allow_empty_text=st.booleans(),
    publishers=st.lists(st.integers(), max_size=3).map(tuple),
    sites=st.lists(st.integers(), max_size=3).map(tuple),
    placements=st.lists(st.integers(), max_size=3).map(tuple),
)
KV_MAPPINGS = st.builds(KeyValueMapping, qs_key=ANY_TEXT, qs_value=st.none() | ANY_TEXT)
DRAFTS = st.builds(
    SegmentDraft,
    member_id=st.integers(),
    short_name=st.text(max_size=300),
    advertiser_id=st.none() | st.integers(),
    code=st.none() | st.text(max_size=60),
    description=st.none() | st.text(max_size=600),
    state=st.one_of(st.sampled_from(["active", "inactive"]), ANY_TEXT),
    expire_minutes=INTS,
    max_usersync_pixels=INTS,
    piggyback_pixels=st.lists(st.builds(Piggyback, URLS, PIXEL_TYPES), max_size=4).map(tuple),
    querystring_mapping=st.none() | QS_MAPPINGS,
    querystring_mapping_key_value=st.none() | KV_MAPPINGS,
)


@given(DRAFTS)
def test_segment_errors_never_raises(d: SegmentDraft) -> None:
    errors = segment_errors(d)
    assert isinstance(errors, list)
    for error in errors:
        assert isinstance(error, FieldError)
        assert error.message.startswith(error.field), error
    assert segment_type(d) in ("pixel", "querystring", "querystring_key_value")
