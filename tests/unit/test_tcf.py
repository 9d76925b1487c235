"""Tests for the IAB TCF v2 consent-string decoder.

tests/fixtures/tcf/strings.json holds real TC strings. Some were encoded by the
IAB reference library @iabtcf/core; the rest are published examples. Each comes
with the values that @iabtcf/core decodes from it. To regenerate the file, see
scripts/make_tcf_fixtures.mjs. The strings that attack the decoder are built
bit by bit here, with `_craft`.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segpixel.domain.consent.tcf import (
    MAX_TC_STRING_LENGTH,
    RestrictionType,
    TCFDecodeError,
    TCString,
    VendorIds,
    decode_tc_string,
    storage_allowed,
)

FIXTURE_FILE = Path(__file__).resolve().parents[1] / "fixtures" / "tcf" / "strings.json"
FIXTURES: dict[str, dict[str, Any]] = {
    f["id"]: f for f in json.loads(FIXTURE_FILE.read_text(encoding="utf-8"))["fixtures"]
}
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def tc(fixture_id: str) -> str:
    return FIXTURES[fixture_id]["tc_string"]


def expand(compact: list[int | list[int]]) -> frozenset[int]:
    """The fixture notation: n is one id, [a, b] is the inclusive run a..b."""
    ids: set[int] = set()
    for item in compact:
        if isinstance(item, list):
            ids.update(range(item[0], item[1] + 1))
        else:
            ids.add(item)
    return frozenset(ids)


# --- building TC strings bit by bit -----------------------------------------


def _uint(value: int, width: int) -> str:
    assert 0 <= value < 2**width
    return format(value, f"0{width}b")


def _b64(bits: str) -> str:
    bits += "0" * (-len(bits) % 6)
    return "".join(B64URL[int(bits[i : i + 6], 2)] for i in range(0, len(bits), 6))


def bitfield(max_id: int, ids: set[int]) -> str:
    return _uint(max_id, 16) + "0" + "".join("1" if i in ids else "0" for i in range(1, max_id + 1))


def _entries(entries: list[tuple[int, int]], count: int | None = None) -> str:
    bits = _uint(len(entries) if count is None else count, 12)
    for start, end in entries:
        if start == end:
            bits += "0" + _uint(start, 16)
        else:
            bits += "1" + _uint(start, 16) + _uint(end, 16)
    return bits


def ranges(max_id: int, entries: list[tuple[int, int]], count: int | None = None) -> str:
    return _uint(max_id, 16) + "1" + _entries(entries, count)


EMPTY_VENDORS = bitfield(0, set())
NO_RESTRICTIONS = _uint(0, 12)


def _craft_bits(
    *,
    version: int = 2,
    language: tuple[int, int] = (4, 13),  # "EN"
    purposes: frozenset[int] = frozenset({1}),
    vendors: str = EMPTY_VENDORS,
    li: str = EMPTY_VENDORS,
    restrictions: str = NO_RESTRICTIONS,
) -> str:
    return (
        _uint(version, 6)
        + _uint(17_000_000_000, 36)  # Created, deciseconds: 2023-11-14T22:13:20Z
        + _uint(17_000_000_000, 36)  # LastUpdated
        + _uint(10, 12)  # CmpId
        + _uint(1, 12)  # CmpVersion
        + _uint(1, 6)  # ConsentScreen
        + _uint(language[0], 6)
        + _uint(language[1], 6)
        + _uint(150, 12)  # VendorListVersion
        + _uint(4, 6)  # TcfPolicyVersion
        + "0"  # IsServiceSpecific
        + "0"  # UseNonStandardTexts
        + _uint(0, 12)  # SpecialFeatureOptIns
        + "".join("1" if p in purposes else "0" for p in range(1, 25))  # PurposesConsent
        + _uint(0, 24)  # PurposesLITransparency
        + "0"  # PurposeOneTreatment
        + _uint(0, 6)
        + _uint(0, 6)  # PublisherCC "AA"
        + vendors
        + li
        + restrictions
    )


def _craft(**kwargs: Any) -> str:
    return _b64(_craft_bits(**kwargs))


# --- the fixtures decode to what @iabtcf/core reads --------------------------


def _iso(value: str) -> datetime:
    return datetime.fromisoformat(value)


@pytest.mark.parametrize("fixture", [pytest.param(f, id=i) for i, f in FIXTURES.items()])
def test_fixture_decodes_to_reference_values(fixture: dict[str, Any]) -> None:
    exp = fixture["expected"]
    got = decode_tc_string(fixture["tc_string"])

    assert got.version == exp["version"] == 2
    assert got.created == _iso(exp["created"])
    assert got.last_updated == _iso(exp["last_updated"])
    assert got.created.utcoffset() is not None
    assert got.cmp_id == exp["cmp_id"]
    assert got.cmp_version == exp["cmp_version"]
    assert got.consent_screen == exp["consent_screen"]
    assert got.consent_language == exp["consent_language"]
    assert got.vendor_list_version == exp["vendor_list_version"]
    assert got.tcf_policy_version == exp["tcf_policy_version"]
    assert got.is_service_specific is exp["is_service_specific"]
    assert got.use_non_standard_texts is exp["use_non_standard_texts"]
    assert got.special_feature_optins == frozenset(exp["special_feature_optins"])
    assert got.purposes_consent == frozenset(exp["purposes_consent"])
    assert got.purposes_li_transparency == frozenset(exp["purposes_li_transparency"])
    assert got.purpose_one_treatment is exp["purpose_one_treatment"]
    assert got.publisher_cc == exp["publisher_cc"]
    assert got.vendor_consents == expand(exp["vendor_consents"])
    assert got.vendor_legitimate_interests == expand(exp["vendor_legitimate_interests"])
    assert [
        (r.purpose, int(r.restriction_type), r.vendors) for r in got.publisher_restrictions
    ] == [(r["purpose"], r["type"], expand(r["vendors"])) for r in exp["publisher_restrictions"]]

    for purpose in range(1, 25):
        assert got.has_purpose_consent(purpose) is (purpose in exp["purposes_consent"])
    for vendor in expand(exp["vendor_consents"]):
        assert got.has_vendor_consent(vendor)


def test_fixtures_cover_both_vendor_encodings_and_every_source() -> None:
    # Both vendor encodings must be exercised by the fixture file, so check that
    # they are. If a regeneration loses one, this test fails.
    consents = {f["encodings"]["vendor_consents"] for f in FIXTURES.values()}
    li = {f["encodings"]["vendor_legitimate_interests"] for f in FIXTURES.values()}
    assert consents == li == {"bitfield", "range"}
    assert {f["source"] for f in FIXTURES.values()} == {"generated", "published"}
    assert any(f["expected"]["publisher_restrictions"] for f in FIXTURES.values())


def test_long_run_is_kept_as_ranges_not_expanded() -> None:
    got = decode_tc_string(tc("range_long_run"))
    assert got.vendor_consents.ranges == ((1, 499), (502, 1300))
    assert len(got.vendor_consents) == 1298


def test_published_spec_example_matches_its_documented_values() -> None:
    # These values are stated in sources other than the reference decoder:
    # iabtcf-java's assertions and the IAB spec's worked example.
    spec = decode_tc_string(tc("iab_spec_v22_example"))
    assert (spec.cmp_id, spec.vendor_list_version, spec.publisher_cc) == (880, 48, "DE")
    java = decode_tc_string(tc("iabtcf_java_all_segments_padded"))
    assert java.vendor_consents == {23, 37, 47, 48, 53, 65, 98}
    assert java.vendor_legitimate_interests == {37, 47, 48, 53, 65, 98, 129}


# --- storage_allowed ----------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture_id", "vendor_id", "allowed"),
    [
        pytest.param("p1_vendor755_consent", 755, True, id="p1+vendor-consent"),
        pytest.param("p1_vendor755_consent", None, True, id="p1-no-vendor-check"),
        pytest.param("p1_vendor755_consent", 3, False, id="p1-other-vendor-absent"),
        pytest.param("p1_vendor755_consent", 0, False, id="vendor-0"),
        pytest.param("p1_vendor755_consent", -755, False, id="negative-vendor"),
        pytest.param("p1_vendor755_consent", 2**70, False, id="huge-vendor"),
        pytest.param("p1_not_consented", 755, False, id="no-p1-vendor-consent"),
        pytest.param("p1_not_consented", None, False, id="no-p1-no-vendor-check"),
        pytest.param("vendor_absent", 755, False, id="p1-vendor-absent"),
        pytest.param("vendor_absent", 28, True, id="p1-bitfield-vendor"),
        pytest.param("vendor_absent", None, True, id="p1-bitfield-no-vendor-check"),
        pytest.param("no_consent_at_all", None, False, id="reject-all"),
        pytest.param("range_large_ids", 1001, True, id="range-inside"),
        pytest.param("range_large_ids", 1003, False, id="range-just-after"),
        pytest.param("range_large_ids", 2500, True, id="range-single"),
        pytest.param("range_long_run", 1, True, id="run-first"),
        pytest.param("range_long_run", 499, True, id="run-before-gap"),
        pytest.param("range_long_run", 500, False, id="run-gap"),
        pytest.param("range_long_run", 1300, True, id="run-last"),
        pytest.param("range_long_run", 1301, False, id="run-past-end"),
        pytest.param("legitimate_interests", 32, False, id="li-only-vendor"),
        pytest.param("legitimate_interests", 755, True, id="consent-vendor-with-li-string"),
        pytest.param("service_specific_publisher_tc", 52, True, id="service-specific"),
        pytest.param("publisher_restrictions", 755, False, id="pub-restriction-p1-not-allowed"),
        pytest.param("publisher_restrictions", 10, True, id="pub-restriction-other-purpose"),
        pytest.param("publisher_restrictions", None, True, id="pub-restriction-no-vendor-check"),
        pytest.param("publisher_tc_for_vendors", 755, True, id="publisher-tc-segment"),
        pytest.param("max_values_fr", 755, True, id="purpose-one-treatment"),
        pytest.param("iab_spec_v22_example", 1, False, id="spec-example-no-purposes"),
        pytest.param("iabtcf_java_all_segments_padded", 23, False, id="padded-no-p1"),
    ],
)
def test_storage_allowed(fixture_id: str, vendor_id: int | None, allowed: bool) -> None:
    assert storage_allowed(tc(fixture_id), vendor_id) is allowed


@pytest.mark.parametrize(
    ("tc_string", "vendor_id"),
    [
        pytest.param(None, None, id="none"),
        pytest.param("", 755, id="empty"),
        pytest.param("!!!", None, id="garbage"),
        pytest.param("BOPnWgIOPnWgIAAABAENAI4AAAAA0ABA", None, id="version-1"),
        pytest.param(tc("p1_vendor755_consent")[:30], 755, id="truncated"),
        pytest.param(tc("p1_vendor755_consent"), True, id="bool-vendor"),
        pytest.param(tc("p1_vendor755_consent"), "755", id="str-vendor"),
        pytest.param(tc("p1_vendor755_consent"), 755.0, id="float-vendor"),
        pytest.param(b"CP60B74P63bZAAKACBENCWEAAPLAAAAAAAAAF5wAwABAAKAXmAAAAAAA", None, id="bytes"),
    ],
)
def test_storage_allowed_is_false_and_never_raises(tc_string: Any, vendor_id: Any) -> None:
    assert storage_allowed(tc_string, vendor_id) is False


# --- malformed input ----------------------------------------------------------


@pytest.mark.parametrize(
    ("tc_string", "message"),
    [
        pytest.param("", "empty TC string", id="empty"),
        pytest.param("!!!", "not base64url", id="punctuation"),
        pytest.param("CP60B74P 63bZAAKACBENCWEAAPLA", "not base64url", id="inner-space"),
        pytest.param(" " + tc("vendor_absent"), "not base64url", id="leading-space"),
        pytest.param("é" * 60, "not base64url", id="latin1"),
        pytest.param(
            "ＣＰ６０Ｂ７４Ｐ６３ｂＺＡＡＫＡＣＢＥＮＣＷＥＡＡＰＬＡ",
            "not base64url",
            id="fullwidth",
        ),
        pytest.param("CP60B74P63bZ\u0660AAKACBENC", "not base64url", id="arabic-digit"),
        pytest.param("CP60B74P\ud800", "not base64url", id="lone-surrogate"),
        pytest.param("CP60B74P\x00AAAA", "not base64url", id="nul"),
        pytest.param("CP60=B74P63bZAAKACBENCWEAAPLA", "not base64url", id="inner-padding"),
        pytest.param(".", "segment 1 is empty", id="lone-dot"),
        pytest.param(tc("vendor_absent") + ".", "segment 3 is empty", id="trailing-dot"),
        pytest.param(tc("vendor_absent") + ".!!", "segment 3 has an invalid", id="bad-segment"),
        pytest.param("A", "unsupported version 0", id="one-char"),
        pytest.param("C", "truncated core segment", id="version-only"),
        pytest.param("BOPnWgIOPnWgIAAABAENAI4AAAAA0ABA", "unsupported version 1", id="v1-string"),
        pytest.param(_craft(version=3), "unsupported version 3", id="version-3"),
        pytest.param(_craft(version=0), "unsupported version 0", id="version-0"),
        pytest.param("_" * 1000, "unsupported version 63", id="all-ones"),
        pytest.param(
            "IGMwBoAAgAEAAoADgANAF5gMZAAA", "unsupported version 8", id="segment-not-core"
        ),
        pytest.param(_craft(language=(26, 0)), "invalid ConsentLanguage", id="language-out-of-az"),
        pytest.param("C" * (MAX_TC_STRING_LENGTH + 1), "too long", id="over-64k"),
    ],
)
def test_malformed_raises_decode_error(tc_string: str, message: str) -> None:
    with pytest.raises(TCFDecodeError, match=message):
        decode_tc_string(tc_string)


@pytest.mark.parametrize(
    "value", [None, b"CP60B74P", 42, ["CP"]], ids=["none", "bytes", "int", "list"]
)
def test_non_str_raises_decode_error(value: Any) -> None:
    with pytest.raises(TCFDecodeError, match="must be str"):
        decode_tc_string(value)


def _truncation_cases() -> list[Any]:
    cases = []
    for fixture_id, fixture in FIXTURES.items():
        core, *rest = fixture["tc_string"].split(".")
        needed_chars = -(-fixture["core_bits"] // 6)  # ceil: the last char holding data
        cuts = {1, 2, 7, 12, 20, 35, 36, 38, 45, needed_chars - 1}
        for cut in sorted(c for c in cuts if 0 < c < needed_chars):
            # Keep the other segments: truncation happens to the core segment on its own.
            cut_string = ".".join([core[:cut], *rest])
            cases.append(pytest.param(cut_string, id=f"{fixture_id}-{cut}"))
    return cases


@pytest.mark.parametrize("tc_string", _truncation_cases())
def test_truncated_core_segment_raises(tc_string: str) -> None:
    with pytest.raises(TCFDecodeError, match="truncated core segment"):
        decode_tc_string(tc_string)
    assert storage_allowed(tc_string, 755) is False


@pytest.mark.parametrize("fixture_id", list(FIXTURES))
def test_core_cut_right_after_its_data_still_decodes(fixture_id: str) -> None:
    # The other side of the truncation boundary: only padding is lost here.
    fixture = FIXTURES[fixture_id]
    core = fixture["tc_string"].split(".")[0]
    needed_chars = -(-fixture["core_bits"] // 6)
    got = decode_tc_string(core[:needed_chars])
    assert got.vendor_consents == expand(fixture["expected"]["vendor_consents"])


# --- alphabet tolerance --------------------------------------------------------


@pytest.mark.parametrize("fixture_id", ["max_values_fr", "iabtcf_java_range_li"])
def test_standard_base64_and_padding_are_tolerated(fixture_id: str) -> None:
    original = tc(fixture_id)
    assert "-" in original or "_" in original
    reference = decode_tc_string(original)
    standard = original.replace("-", "+").replace("_", "/")
    assert decode_tc_string(standard) == reference
    core, *rest = original.split(".")
    assert decode_tc_string(".".join([core + "==", *rest])) == reference


# --- hostile but well-formed vendor sections ----------------------------------


def test_full_range_is_one_range_not_65535_ints() -> None:
    got = decode_tc_string(_craft(vendors=ranges(65535, [(1, 65535)])))
    assert got.vendor_consents.ranges == ((1, 65535),)
    assert 65535 in got.vendor_consents
    assert 1 in got.vendor_consents
    assert 0 not in got.vendor_consents
    assert len(got.vendor_consents) == 65535
    assert storage_allowed(_craft(vendors=ranges(65535, [(1, 65535)])), 4242) is True


def test_max_bitfield_of_ones_collapses_to_one_range() -> None:
    tc_string = _craft(vendors=_uint(65535, 16) + "0" + "1" * 65535)
    assert len(tc_string) < MAX_TC_STRING_LENGTH
    assert decode_tc_string(tc_string).vendor_consents.ranges == ((1, 65535),)


def test_overlapping_unsorted_ranges_are_merged() -> None:
    entries = [(900, 1000), (5, 5), (1, 3), (950, 1200), (4, 4)]
    got = decode_tc_string(_craft(vendors=ranges(1200, entries)))
    assert got.vendor_consents.ranges == ((1, 5), (900, 1200))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        pytest.param(
            {"vendors": ranges(100, [(50, 10)])},
            "invalid VendorConsents range entry 50-10",
            id="reversed-range",
        ),
        pytest.param(
            {"vendors": ranges(100, [(0, 0)])},
            "invalid VendorConsents range entry 0-0",
            id="vendor-id-0",
        ),
        pytest.param(
            {"vendors": ranges(100, [(1, 101)])},
            "invalid VendorConsents range entry 1-101",
            id="range-past-max-vendor-id",
        ),
        pytest.param(
            {"li": ranges(10, [(11, 11)])},
            "invalid VendorLegitimateInterests range entry",
            id="li-single-past-max",
        ),
        pytest.param(
            {"vendors": ranges(65535, [(1, 2)], count=4095), "li": "", "restrictions": ""},
            "truncated core segment: VendorConsents",
            id="claims-4095-entries",
        ),
        pytest.param(
            {"vendors": _uint(65535, 16) + "0" + "1" * 100},
            "truncated core segment: VendorConsents bitfield",
            id="bitfield-shorter-than-max-vendor-id",
        ),
        pytest.param(
            {"restrictions": _uint(5, 12) + _uint(1, 6) + "00" + _entries([(1, 1)])},
            "truncated core segment: PubRestriction",
            id="restrictions-claim-more-than-present",
        ),
        pytest.param(
            {"restrictions": _uint(1, 12) + _uint(1, 6) + "00" + _entries([(9, 3)])},
            "invalid PubRestriction range entry 9-3",
            id="restriction-reversed-range",
        ),
        pytest.param(
            {"restrictions": ""},
            "truncated core segment: NumPubRestrictions",
            id="no-restrictions-field",
        ),
    ],
)
def test_hostile_sections_raise(fields: dict[str, str], message: str) -> None:
    with pytest.raises(TCFDecodeError, match=message):
        decode_tc_string(_craft(**fields))


def test_publisher_restriction_of_every_type_decodes() -> None:
    restrictions = _uint(4, 12)
    for restriction_type in range(4):
        restrictions += _uint(1, 6) + _uint(restriction_type, 2) + _entries([(10, 20)])
    got = decode_tc_string(_craft(vendors=ranges(30, [(1, 30)]), restrictions=restrictions))
    assert [r.restriction_type for r in got.publisher_restrictions] == list(RestrictionType)
    assert got.publisher_disallows(1, 15)
    assert not got.publisher_disallows(1, 21)
    assert not got.publisher_disallows(2, 15)


# --- VendorIds ------------------------------------------------------------------


def test_vendor_ids_behaves_like_a_frozenset() -> None:
    ids = VendorIds([(5, 7), (1, 1), (8, 8), (20, 22)])
    plain = frozenset({1, 5, 6, 7, 8, 20, 21, 22})
    assert ids.ranges == ((1, 1), (5, 8), (20, 22))
    assert ids == plain
    assert plain == ids
    assert hash(ids) == hash(plain)
    assert list(ids) == sorted(plain)
    assert len(ids) == len(plain)
    assert "5" not in ids
    assert 4 not in ids
    assert 23 not in ids
    assert VendorIds() == frozenset()
    assert not VendorIds()
    assert repr(VendorIds([(1, 3)])) == "VendorIds([(1, 3)])"


def test_decoded_tc_string_is_hashable_and_frozen() -> None:
    got = decode_tc_string(tc("legitimate_interests"))
    assert hash(got) == hash(decode_tc_string(tc("legitimate_interests")))
    with pytest.raises(AttributeError):
        got.cmp_id = 1  # type: ignore[misc]


# --- property: nothing but TCFDecodeError ---------------------------------------


def _decode_or_error(value: str) -> TCString | None:
    try:
        return decode_tc_string(value)
    except TCFDecodeError:
        return None


@settings(max_examples=500)
@given(st.text())
def test_arbitrary_text_only_raises_decode_error(value: str) -> None:
    _decode_or_error(value)
    assert storage_allowed(value, 755) in (True, False)


_HEADER_BITS = _craft_bits(vendors="", li="", restrictions="")


@settings(max_examples=500)
@given(st.text(alphabet="01", max_size=600))
def test_valid_header_with_random_vendor_sections(tail: str) -> None:
    # A valid header followed by random bits sends the decoder deep into
    # the vendor, range and restriction parsing, not just the first check.
    got = _decode_or_error(_b64(_HEADER_BITS + tail))
    if got is not None:
        for ids in (got.vendor_consents, got.vendor_legitimate_interests):
            assert all(1 <= start <= end <= 65535 for start, end in ids.ranges)


@st.composite
def vendor_sections(draw: st.DrawFn) -> tuple[str, frozenset[int] | None]:
    """A vendor section's bits and the ids it should decode to (None: must be rejected)."""
    ids = st.integers(0, 3000)
    if draw(st.booleans()):
        max_id = draw(st.integers(0, 300))
        chosen = draw(st.sets(st.integers(1, 300), max_size=40))
        return bitfield(max_id, chosen), frozenset(i for i in chosen if i <= max_id)
    max_id = draw(ids)
    entries = draw(st.lists(st.tuples(ids, ids) | ids.map(lambda i: (i, i)), max_size=6))
    if not all(1 <= start <= end <= max_id for start, end in entries):
        return ranges(max_id, entries), None
    return ranges(max_id, entries), frozenset(i for s, e in entries for i in range(s, e + 1))


@settings(max_examples=300)
@given(vendor_sections(), vendor_sections(), st.integers(0, 30))
def test_structured_vendor_sections_decode_to_what_was_encoded(
    consents: tuple[str, frozenset[int] | None],
    legitimate_interests: tuple[str, frozenset[int] | None],
    cut: int,
) -> None:
    (consent_bits, consent_ids), (li_bits, li_ids) = consents, legitimate_interests
    bits = _craft_bits(vendors=consent_bits, li=li_bits)
    got = _decode_or_error(_b64(bits[: len(bits) - cut]))
    if cut:
        return  # a cut string may or may not still hold every field; it just must not crash
    if consent_ids is None or li_ids is None:
        assert got is None
    else:
        assert got is not None
        assert got.vendor_consents == consent_ids
        assert got.vendor_legitimate_interests == li_ids


@settings(max_examples=300)
@given(st.text(alphabet=B64URL + "+/=.", max_size=200))
def test_real_prefix_with_random_base64_tail(tail: str) -> None:
    _decode_or_error(tc("p1_vendor755_consent")[:36] + tail)
