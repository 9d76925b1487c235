"""Decoder for IAB TCF v2 (v2.0 and v2.2) Transparency & Consent strings.

The pixel server receives a TC string (``gdpr_consent``) on each request and must
decide whether it may store data for the user. This module decodes the core
segment of the string and answers that question. It uses only the standard
library and does no I/O.

Field layout: IAB Tech Lab, "Transparency and Consent String with Global Vendor
& CMP List Formats", TCF v2, "The Core String". The format is the same for
TCF v2.0 and v2.2: both carry Version = 2. v2.2 changed the policy, not the bits.

The input comes straight off the wire, so an attacker controls it. The rules:
- Malformed input raises only `TCFDecodeError`.
- The work done is linear in the input's length, and input over 64 KiB is
  rejected before any decoding.
- A vendor range such as 1..65535 is stored as one (start, end) pair. It is
  never expanded into 65,535 integers.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Set
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import IntEnum

__all__ = [
    "MAX_TC_STRING_LENGTH",
    "PublisherRestriction",
    "RestrictionType",
    "TCFDecodeError",
    "TCString",
    "VendorIds",
    "decode_tc_string",
    "storage_allowed",
]

MAX_TC_STRING_LENGTH = 64 * 1024
SUPPORTED_VERSION = 2
# Purpose 1: "Store and/or access information on a device".
STORAGE_PURPOSE = 1

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_B64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
# Maps each base64 character to its 6 bits as '0'/'1' text. With this table,
# str.translate turns a whole segment into a bit string in C. The standard-base64
# '+' and '/' map to the same bits as '-' and '_', because some CMPs and
# proxies emit them.
_TO_BITS = {ord(ch): format(i, "06b") for i, ch in enumerate(_B64URL_ALPHABET)}
_TO_BITS[ord("+")] = _TO_BITS[ord("-")]
_TO_BITS[ord("/")] = _TO_BITS[ord("_")]
# An explicit ASCII class. \w and \d would also match non-ASCII letters and digits.
_SEGMENT_RE = re.compile(r"[A-Za-z0-9_\-+/]+=*")
_RUN_OF_ONES = re.compile(r"1+")

# Core-segment field widths in bits, named as in the spec.
_VENDOR_ID_BITS = 16
_NUM_ENTRIES_BITS = 12


class TCFDecodeError(ValueError):
    """The TC string is malformed or unsupported. The message says what is wrong.

    The message never echoes the input, because the input is attacker-controlled
    and may end up in logs.
    """


class RestrictionType(IntEnum):
    NOT_ALLOWED = 0
    REQUIRE_CONSENT = 1
    REQUIRE_LEGITIMATE_INTEREST = 2
    UNDEFINED = 3  # reserved by the spec; decoded so that the string stays readable


class VendorIds(Set[int]):
    """An immutable set of vendor ids, stored as sorted, disjoint, inclusive ranges.

    It behaves like a ``frozenset[int]``: `in`, `len`, iteration, equality with
    other sets, and a hash that matches frozenset's. Membership is a binary
    search, O(log ranges), so a string that consents to 1..65535 costs one range.
    """

    __slots__ = ("_ends", "_starts")

    def __init__(self, ranges: Iterable[tuple[int, int]] = ()) -> None:
        # Merge overlapping and adjacent ranges. Bisection needs disjoint, sorted
        # starts, and the spec does not forbid a CMP from sending them out of order.
        merged: list[tuple[int, int]] = []
        for start, end in sorted(ranges):
            if merged and start <= merged[-1][1] + 1:
                if end > merged[-1][1]:
                    merged[-1] = (merged[-1][0], end)
            else:
                merged.append((start, end))
        self._starts = tuple(start for start, _ in merged)
        self._ends = tuple(end for _, end in merged)

    @property
    def ranges(self) -> tuple[tuple[int, int], ...]:
        return tuple(zip(self._starts, self._ends, strict=True))

    def __contains__(self, item: object) -> bool:
        if not isinstance(item, int):
            return False
        i = bisect_right(self._starts, item) - 1
        return i >= 0 and item <= self._ends[i]

    def __iter__(self) -> Iterator[int]:
        for start, end in zip(self._starts, self._ends, strict=True):
            yield from range(start, end + 1)

    def __len__(self) -> int:
        return sum(end - start + 1 for start, end in zip(self._starts, self._ends, strict=True))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, VendorIds):
            return self._starts == other._starts and self._ends == other._ends
        return super().__eq__(other)

    # Set._hash is the frozenset algorithm, so equal sets hash equally whatever
    # their type. It walks every id, but only runs when something hashes the set.
    def __hash__(self) -> int:
        return self._hash()

    def __repr__(self) -> str:
        return f"VendorIds({list(self.ranges)!r})"


@dataclass(frozen=True, slots=True)
class PublisherRestriction:
    purpose: int
    restriction_type: RestrictionType
    vendors: VendorIds


@dataclass(frozen=True, slots=True)
class TCString:
    """The decoded core segment. The id sets are 1-based, as in the spec."""

    version: int
    created: datetime  # UTC-aware; the wire format has decisecond precision
    last_updated: datetime
    cmp_id: int
    cmp_version: int
    consent_screen: int
    consent_language: str  # two upper-case letters, e.g. "EN"
    vendor_list_version: int
    tcf_policy_version: int
    is_service_specific: bool
    use_non_standard_texts: bool  # "UseNonStandardStacks" in the v2.0 text
    special_feature_optins: frozenset[int]
    purposes_consent: frozenset[int]
    purposes_li_transparency: frozenset[int]
    purpose_one_treatment: bool
    publisher_cc: str
    vendor_consents: VendorIds
    vendor_legitimate_interests: VendorIds
    publisher_restrictions: tuple[PublisherRestriction, ...] = ()

    def has_purpose_consent(self, purpose: int) -> bool:
        return purpose in self.purposes_consent

    def has_vendor_consent(self, vendor_id: int) -> bool:
        return vendor_id in self.vendor_consents

    def publisher_disallows(self, purpose: int, vendor_id: int) -> bool:
        """True if the publisher set a NOT_ALLOWED restriction on `purpose` for this vendor."""
        return any(
            r.purpose == purpose
            and r.restriction_type is RestrictionType.NOT_ALLOWED
            and vendor_id in r.vendors
            for r in self.publisher_restrictions
        )


class _BitReader:
    """Reads big-endian fields, left to right, from a '0'/'1' string."""

    __slots__ = ("_bits", "_pos")

    def __init__(self, bits: str) -> None:
        self._bits = bits
        self._pos = 0

    def raw(self, width: int, field: str) -> str:
        end = self._pos + width
        if end > len(self._bits):
            left = len(self._bits) - self._pos
            raise TCFDecodeError(
                f"truncated core segment: {field} needs {width} bits at bit {self._pos}, "
                f"only {left} left"
            )
        chunk = self._bits[self._pos : end]
        self._pos = end
        return chunk

    def uint(self, width: int, field: str) -> int:
        return int(self.raw(width, field), 2)

    def flag(self, field: str) -> bool:
        return self.raw(1, field) == "1"

    def id_flags(self, width: int, field: str) -> frozenset[int]:
        """A fixed bitfield in which bit i (1-based) says whether id i is set."""
        return frozenset(i for i, bit in enumerate(self.raw(width, field), start=1) if bit == "1")

    def letters(self, field: str) -> str:
        """Two 6-bit letters, with A=0 and Z=25 (language and country codes)."""
        first, second = self.uint(6, field), self.uint(6, field)
        if first > 25 or second > 25:
            raise TCFDecodeError(f"invalid {field}: letter value above 25 (Z)")
        return chr(ord("A") + first) + chr(ord("A") + second)

    def deciseconds(self, field: str) -> datetime:
        # 36 bits of deciseconds reach only the year 2187, so this cannot overflow.
        # timedelta is exact, where a float timestamp would be off by rounding.
        return _EPOCH + timedelta(milliseconds=self.uint(36, field) * 100)


def _read_range_entries(
    reader: _BitReader, section: str, max_id: int | None
) -> list[tuple[int, int]]:
    """Reads NumEntries, then {IsARange, StartOrOnlyVendorId, [EndVendorId]} entries.

    Each entry takes at least 17 bits, so a short string cannot claim 4095 entries:
    the reader stops at the first field that runs past the end of the input.
    """
    count = reader.uint(_NUM_ENTRIES_BITS, f"{section} NumEntries")
    entries: list[tuple[int, int]] = []
    for _ in range(count):
        is_range = reader.flag(f"{section} IsARange")
        start = reader.uint(_VENDOR_ID_BITS, f"{section} StartOrOnlyVendorId")
        end = reader.uint(_VENDOR_ID_BITS, f"{section} EndVendorId") if is_range else start
        # Vendor ids start at 1. A reversed range, or an id above the declared
        # MaxVendorId, means the string is corrupt. Rejecting it is the safe choice.
        if start == 0 or end < start or (max_id is not None and end > max_id):
            raise TCFDecodeError(f"invalid {section} range entry {start}-{end}")
        entries.append((start, end))
    return entries


def _read_vendor_section(reader: _BitReader, section: str) -> VendorIds:
    max_id = reader.uint(_VENDOR_ID_BITS, f"{section} MaxVendorId")
    if reader.flag(f"{section} IsRangeEncoding"):
        return VendorIds(_read_range_entries(reader, section, max_id))
    bitfield = reader.raw(max_id, f"{section} bitfield")
    # Collect runs of set bits with a regex, in C, not bit by bit in Python.
    # Bit index i is vendor i + 1.
    return VendorIds((m.start() + 1, m.end()) for m in _RUN_OF_ONES.finditer(bitfield))


def _read_publisher_restrictions(reader: _BitReader) -> tuple[PublisherRestriction, ...]:
    count = reader.uint(12, "NumPubRestrictions")
    restrictions = []
    for _ in range(count):
        purpose = reader.uint(6, "PubRestriction PurposeId")
        restriction_type = RestrictionType(reader.uint(2, "PubRestriction RestrictionType"))
        vendors = VendorIds(_read_range_entries(reader, "PubRestriction", max_id=None))
        restrictions.append(PublisherRestriction(purpose, restriction_type, vendors))
    return tuple(restrictions)


def _segment_bits(tc_string: str) -> str:
    """Checks every segment's alphabet and returns the core segment as bits."""
    segments = tc_string.split(".")
    for number, segment in enumerate(segments, start=1):
        if not segment:
            raise TCFDecodeError(f"not base64url: segment {number} is empty")
        if _SEGMENT_RE.fullmatch(segment) is None:
            raise TCFDecodeError(f"not base64url: segment {number} has an invalid character")
    # Only the core segment is decoded. Disclosed Vendors and Publisher TC do not
    # change whether a vendor may store data.
    return segments[0].rstrip("=").translate(_TO_BITS)


def decode_tc_string(s: str) -> TCString:
    """Decodes the core segment of a TC string. Raises TCFDecodeError, and only that."""
    if not isinstance(s, str):
        raise TCFDecodeError(f"TC string must be str, not {type(s).__name__}")
    if not s:
        raise TCFDecodeError("empty TC string")
    if len(s) > MAX_TC_STRING_LENGTH:
        raise TCFDecodeError(
            f"TC string too long: {len(s)} characters, limit {MAX_TC_STRING_LENGTH}"
        )

    reader = _BitReader(_segment_bits(s))
    # Read the version before anything else. A v1 string has a different layout
    # after this field, so decoding it as v2 would give nonsense, not an error.
    version = reader.uint(6, "Version")
    if version != SUPPORTED_VERSION:
        raise TCFDecodeError(f"unsupported version {version}")

    return TCString(
        version=version,
        created=reader.deciseconds("Created"),
        last_updated=reader.deciseconds("LastUpdated"),
        cmp_id=reader.uint(12, "CmpId"),
        cmp_version=reader.uint(12, "CmpVersion"),
        consent_screen=reader.uint(6, "ConsentScreen"),
        consent_language=reader.letters("ConsentLanguage"),
        vendor_list_version=reader.uint(12, "VendorListVersion"),
        tcf_policy_version=reader.uint(6, "TcfPolicyVersion"),
        is_service_specific=reader.flag("IsServiceSpecific"),
        use_non_standard_texts=reader.flag("UseNonStandardTexts"),
        special_feature_optins=reader.id_flags(12, "SpecialFeatureOptIns"),
        purposes_consent=reader.id_flags(24, "PurposesConsent"),
        purposes_li_transparency=reader.id_flags(24, "PurposesLITransparency"),
        purpose_one_treatment=reader.flag("PurposeOneTreatment"),
        publisher_cc=reader.letters("PublisherCC"),
        vendor_consents=_read_vendor_section(reader, "VendorConsents"),
        vendor_legitimate_interests=_read_vendor_section(reader, "VendorLegitimateInterests"),
        # Read the restrictions to the end even when nobody asks about them, so
        # that a truncated string is rejected. The reference decoder, @iabtcf/core,
        # rejects it too. Any bits left after this are padding to a 6-bit boundary.
        publisher_restrictions=_read_publisher_restrictions(reader),
    )


def storage_allowed(s: str | None, vendor_id: int | None) -> bool:
    """Whether `vendor_id` (or, with None, anyone) may store or access data on the device.

    The answer is True only when all of these hold:
    - the string decodes;
    - purpose 1 has consent;
    - if a vendor is given, that vendor has consent, and the publisher has not
      restricted purpose 1 to NOT_ALLOWED for it.

    Never raises: anything malformed means "no".
    """
    if not s:
        return False
    if vendor_id is not None and (not isinstance(vendor_id, int) or isinstance(vendor_id, bool)):
        return False
    try:
        tc = decode_tc_string(s)
    except TCFDecodeError:
        return False
    if not tc.has_purpose_consent(STORAGE_PURPOSE):
        return False
    if vendor_id is None:
        return True
    return tc.has_vendor_consent(vendor_id) and not tc.publisher_disallows(
        STORAGE_PURPOSE, vendor_id
    )
