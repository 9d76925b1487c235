"""The ad call (SPEC §5.3): its grammar, and which line item and creative answer it. Pure.

`/ttj?id=PLACEMENT&size=WxH&<page key-values>`: at most 40 key-values are read, each at most 60
characters; the parameters below (placement, size, consent, cache-buster) are not key-values.
Among the line items whose profile matches, the highest priority wins; equal priorities share by
weight. A line item competes only with a creative that fits the requested size.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from segpixel.domain.ads_view import CreativeView, LineItemView
from segpixel.domain.limits import MAX_AD_CALL_KEY_VALUE_LEN, MAX_AD_CALL_KEY_VALUES

RESERVED = frozenset({"id", "size", "gdpr", "gdpr_consent", "consent", "cb"})
MAX_SIDE = 10_000


@dataclass(slots=True)
class AdCall:
    placement_id: int | None
    size: tuple[int, int] | None
    key_values: tuple[tuple[str, str], ...]  # (lower-cased key, value as sent)
    warnings: list[str]


def parse_ad_call(params: dict[str, str]) -> AdCall:
    """Never raises: what cannot be read becomes a warning."""
    warnings: list[str] = []
    raw_id = params.get("id", "")
    placement_id = _positive_int(raw_id)
    if placement_id is None:
        warnings.append(f"id must be a placement id (got {raw_id[:20]!r})")
    size = _size(params.get("size"), warnings)
    key_values: list[tuple[str, str]] = []
    read = 0
    for key, value in params.items():
        if key in RESERVED:
            continue
        if read == MAX_AD_CALL_KEY_VALUES:
            warnings.append(f"only the first {MAX_AD_CALL_KEY_VALUES} key-values are read")
            break
        read += 1
        if len(key) > MAX_AD_CALL_KEY_VALUE_LEN or len(value) > MAX_AD_CALL_KEY_VALUE_LEN:
            warnings.append(
                f"key-value {key[:20]!r} skipped: longer than {MAX_AD_CALL_KEY_VALUE_LEN} "
                "characters"
            )
            continue
        key_values.append((key.lower(), value))
    return AdCall(placement_id, size, tuple(key_values), warnings)


def _positive_int(raw: str) -> int | None:
    if raw.isascii() and raw.isdigit() and len(raw) <= 10 and 0 < int(raw) < 2**31:
        return int(raw)
    return None


def _size(raw: str | None, warnings: list[str]) -> tuple[int, int] | None:
    if not raw:
        return None
    width, sep, height = raw.lower().partition("x")
    w, h = _positive_int(width), _positive_int(height)
    if not sep or w is None or h is None or w > MAX_SIDE or h > MAX_SIDE:
        warnings.append(f"size must be WIDTHxHEIGHT, e.g. 300x250 (got {raw[:20]!r}): ignored")
        return None
    return (w, h)


@dataclass(slots=True)
class Choice:
    line_item: LineItemView
    creative: CreativeView


def fitting_creatives(
    line_item: LineItemView, creatives: dict[int, CreativeView], size: tuple[int, int] | None
) -> list[CreativeView]:
    found = (creatives.get(cid) for cid in line_item.creatives)
    return [c for c in found if c is not None and c.active and c.fits(size)]


def choose(
    line_items: Sequence[LineItemView],
    creatives: dict[int, CreativeView],
    size: tuple[int, int] | None,
    wanted: Callable[[LineItemView], bool],
    rng: random.Random,
) -> Choice | None:
    """The winner among `line_items` (highest priority first) that `wanted` accepts.

    Profiles are evaluated tier by tier, so lower priorities are not looked at once a higher
    one has a match.
    """
    tier: list[tuple[LineItemView, list[CreativeView]]] = []
    for line_item in line_items:
        if tier and line_item.priority < tier[0][0].priority:
            break
        fitting = fitting_creatives(line_item, creatives, size)
        if fitting and wanted(line_item):
            tier.append((line_item, fitting))
    if not tier:
        return None
    if len(tier) == 1:
        line_item, fitting = tier[0]
    else:
        weights = [li.weight for li, _ in tier]
        line_item, fitting = rng.choices(tier, weights=weights)[0]
    creative = fitting[0] if len(fitting) == 1 else rng.choice(fitting)
    return Choice(line_item, creative)
