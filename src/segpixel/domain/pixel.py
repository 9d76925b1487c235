"""The segment pixel's grammar (SPEC §3.1): a query string in, a PixelCall out. Never raises.

`add=37,28:5,12&add_code=shoes:3&member=7&remove=9&value=2&other=4&t=1&redir=…&debug=1`
Anything malformed becomes a warning or a rejected item; a page must never break because of a pixel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote_plus

from segpixel.domain.limits import MAX_ITEMS_PER_PIXEL_CALL, VALUE_MAX, VALUE_MIN

MAX_PARAMS = 64  # a pixel has about a dozen parameters; more is noise we do not parse
MAX_ITEM_LEN = 80


def parse_query(raw: bytes, max_params: int = MAX_PARAMS) -> dict[str, str]:
    """First value of each parameter; percent-decoding only where needed (fast path)."""
    params: dict[str, str] = {}
    if not raw:
        return params
    for count, part in enumerate(raw.split(b"&")):
        if count >= max_params:
            break
        name, _, value = part.partition(b"=")
        key = _decode(name)
        if key and key not in params:
            params[key] = _decode(value)
    return params


def _decode(raw: bytes) -> str:
    text = raw.decode("latin-1") if raw.isascii() else raw.decode("utf-8", "replace")
    return unquote_plus(text) if ("%" in text or "+" in text) else text


# Values of the hot path: treat them as immutable. They are not `frozen` dataclasses because
# building a frozen one costs five times as much, and every pixel call builds several.
@dataclass(slots=True)
class Item:
    """One segment named in the call: by id or by code, with the raw `:value` if any."""

    ref: str
    by_code: bool
    action: str  # "add" | "remove"
    raw_value: str | None = None

    def segment_id(self) -> int | None:
        # isascii: str.isdigit() also accepts '²' (int() raises) and '١٢' (int() reads 12)
        if self.by_code or not (self.ref.isascii() and self.ref.isdigit()) or len(self.ref) > 10:
            return None
        return int(self.ref)


@dataclass(slots=True)
class PixelCall:
    items: tuple[Item, ...] = ()
    overflow: tuple[Item, ...] = ()  # items beyond the per-call limit: rejected
    member: int | None = None
    value: str | None = None
    other: str | None = None
    javascript: bool = False
    redir: str | None = None
    gdpr: str | None = None
    gdpr_consent: str | None = None
    consent: str | None = None
    debug: bool = False
    dongle: str | None = None  # with `member`, debug=1 shows that member's stored memberships
    warnings: tuple[str, ...] = field(default_factory=tuple)


def parse_pixel_call(params: dict[str, str]) -> PixelCall:
    warnings: list[str] = []
    member = _member(params.get("member"), warnings)
    items: list[Item] = []
    for name, by_code, action in (
        ("add", False, "add"),
        ("add_code", True, "add"),
        ("remove", False, "remove"),
        ("remove_code", True, "remove"),
    ):
        items += _items(params.get(name), by_code, action)
    if member is None and any(i.by_code for i in items):
        warnings.append("add_code/remove_code need member: code items skipped")
    return PixelCall(
        items=tuple(items[:MAX_ITEMS_PER_PIXEL_CALL]),
        overflow=tuple(items[MAX_ITEMS_PER_PIXEL_CALL:]),
        member=member,
        value=params.get("value") or None,
        other=params.get("other") or None,
        javascript=params.get("t") == "1",
        redir=params.get("redir") or None,
        gdpr=params.get("gdpr"),
        gdpr_consent=params.get("gdpr_consent"),
        consent=params.get("consent"),
        debug=params.get("debug") == "1",
        dongle=params.get("dongle") or None,
        warnings=tuple(warnings),
    )


def _member(raw: str | None, warnings: list[str]) -> int | None:
    if raw is None or raw == "":
        return None
    if raw.isascii() and raw.isdigit() and len(raw) <= 10 and 0 < int(raw) < 2**31:
        return int(raw)
    warnings.append("member is not a member id: ignored")
    return None


def _items(raw: str | None, by_code: bool, action: str) -> list[Item]:
    if not raw:
        return []
    items = []
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        ref, sep, value = part.partition(":")
        items.append(Item(ref[:MAX_ITEM_LEN], by_code, action, value if sep else None))
    return items


@dataclass(slots=True)
class ParsedValue:
    value: int | None  # None: no value
    too_large: bool = False


def parse_value(raw: str | None) -> ParsedValue:
    """1..2147483647 is a value; 0, negative or not a number: "no value"; larger: rejected."""
    if raw is None:
        return ParsedValue(None)
    text = raw.strip()
    digits = text[1:] if text[:1] in "+-" else text
    if not digits.isdigit() or not digits.isascii():
        return ParsedValue(None)
    if text.startswith("-"):
        return ParsedValue(None)
    digits = digits.lstrip("0") or "0"  # leading zeros do not make a number large
    number = int(digits) if len(digits) <= 20 else VALUE_MAX + 1
    if number < VALUE_MIN:
        return ParsedValue(None)
    if number > VALUE_MAX:
        return ParsedValue(None, too_large=True)
    return ParsedValue(number)


def item_value(item: Item, call: PixelCall) -> ParsedValue:
    """The item's own `:value`, else the call's `value`, else `other` (SPEC §3.1)."""
    for raw in (item.raw_value, call.value, call.other):
        if raw is not None and raw != "":
            return parse_value(raw)
    return ParsedValue(None)
