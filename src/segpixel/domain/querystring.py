"""Query-string segments on ad calls (SPEC §5.1, §5.2): which key-values add the user to what.

Mappings are prepared once per catalog snapshot (lower-cased, prefixes split from exact values),
indexed by (member, lower-cased param or key); an ad call then costs one dict lookup per key-value.
Names and values are compared ignoring case. A "Query String" mapping's scope is the most specific
list it gives — placements, else sites, else publishers, else all the member's inventory; a
"Query String Key Value" mapping serves all of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from segpixel.domain.limits import RESERVED_KEY_PREFIX
from segpixel.domain.pixel import parse_value
from segpixel.domain.segments import KeyValueMapping, QueryStringMapping


@dataclass(frozen=True, slots=True)
class QsMappingView:
    segment_id: int
    member_id: int
    param: str  # lower-cased
    value_type: str  # "text" | "numeric" | "none"
    exact: frozenset[str]  # lower-cased values without '*'
    prefixes: tuple[str, ...]  # lower-cased values that ended in '*', without it
    allow_empty_text: bool
    publishers: frozenset[int]
    sites: frozenset[int]
    placements: frozenset[int]

    @classmethod
    def of(cls, segment_id: int, member_id: int, qs: QueryStringMapping) -> QsMappingView:
        values = [v.lower() for v in qs.values]
        return cls(
            segment_id=segment_id,
            member_id=member_id,
            param=qs.param.lower(),
            value_type=qs.value_type,
            exact=frozenset(v for v in values if not v.endswith("*")),
            prefixes=tuple(v[:-1] for v in values if v.endswith("*")),
            allow_empty_text=qs.allow_empty_text,
            publishers=frozenset(qs.publishers),
            sites=frozenset(qs.sites),
            placements=frozenset(qs.placements),
        )

    def in_scope(self, placement_id: int, site_id: int, publisher_id: int) -> bool:
        """Placements win over sites, which win over publishers; no list: all inventory."""
        if self.placements:
            return placement_id in self.placements
        if self.sites:
            return site_id in self.sites
        if self.publishers:
            return publisher_id in self.publishers
        return True

    def text_matches(self, value: str) -> bool:
        lowered = value.lower()
        if not lowered:
            return self.allow_empty_text
        return lowered in self.exact or any(lowered.startswith(p) for p in self.prefixes)


@dataclass(frozen=True, slots=True)
class KvMappingView:
    segment_id: int
    member_id: int
    key: str  # lower-cased
    value: str | None  # lower-cased; None (or empty) matches any value

    @classmethod
    def of(cls, segment_id: int, member_id: int, kv: KeyValueMapping) -> KvMappingView:
        return cls(segment_id, member_id, kv.qs_key.lower(), (kv.qs_value or "").lower() or None)

    def matches(self, value: str) -> bool:
        return self.value is None or self.value == value.lower()


@dataclass(slots=True)
class QsHit:
    segment_id: int
    value: int | None  # numeric mappings store the number as the segment's value
    key: str  # the key-value that matched, for warnings and debugging
    text: str | None = None  # text mappings keep the matched value, lower-cased (SPEC §5.1)


@dataclass(slots=True)
class QsMatch:
    hits: list[QsHit]
    warnings: list[str]


def match_querystring(
    key_values: tuple[tuple[str, str], ...],
    member_id: int,
    placement: tuple[int, int, int],  # (placement id, site id, publisher id)
    qs_params: Mapping[tuple[int, str], QsMappingView],
    kv_keys: Mapping[tuple[int, str], tuple[KvMappingView, ...]],
) -> QsMatch:
    """The segments an ad call's key-values (keys lower-cased) add the user to, once each."""
    hits: dict[int, QsHit] = {}
    warnings: list[str] = []
    for key, value in key_values:
        if key.startswith(RESERVED_KEY_PREFIX):  # the reference's keywords never add anyone
            continue
        mapping = qs_params.get((member_id, key))
        if mapping is not None and mapping.in_scope(*placement):
            hit = _qs_hit(mapping, key, value, warnings)
            if hit is not None:
                hits.setdefault(hit.segment_id, hit)
        for kv in kv_keys.get((member_id, key), ()):
            if kv.matches(value):
                hits.setdefault(kv.segment_id, QsHit(kv.segment_id, None, key))
    return QsMatch(list(hits.values()), warnings)


def _qs_hit(mapping: QsMappingView, key: str, value: str, warnings: list[str]) -> QsHit | None:
    if mapping.value_type == "none":
        return QsHit(mapping.segment_id, None, key)
    if mapping.value_type == "text":
        if not mapping.text_matches(value):
            return None
        return QsHit(mapping.segment_id, None, key, value.lower() or None)
    text = value.strip()
    digits = text[1:] if text[:1] in "+-" else text
    if not (digits.isascii() and digits.isdigit()):
        warnings.append(f"{key}: {value[:20]!r} is not a number (segment {mapping.segment_id})")
        return None
    parsed = parse_value(text)  # 0 or negative: added without a value, as on the pixel
    if parsed.too_large:
        warnings.append(f"{key}: value above 2147483647 (segment {mapping.segment_id})")
        return None
    return QsHit(mapping.segment_id, parsed.value, key)
