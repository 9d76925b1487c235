"""What a pixel call does (SPEC §3, §4): which items are accepted, what is stored, what is chained.

Pure: the catalog view, the time and the user's sync memory come in as values, a plan comes out.
The edge handler turns the plan into a store mutation and an HTTP response.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from segpixel.domain.catalog_view import CatalogView, SegmentView, UsersyncView
from segpixel.domain.limits import MAX_ITEMS_PER_PIXEL_CALL, USERSYNC_RESYNC_SECONDS, VALUE_MAX
from segpixel.domain.members import host_allowed
from segpixel.domain.pixel import Item, PixelCall, item_value
from segpixel.domain.profile import Add


# Values of the hot path: treat them as immutable. They are not `frozen` dataclasses because
# building a frozen one costs five times as much, and every pixel call builds several.
@dataclass(slots=True)
class ItemOutcome:
    segment_id: int | None
    code: str | None
    action: str  # "add" | "remove"
    accepted: bool
    reason: str | None = None  # a sentence, for the warning header and debug=1
    value: int | None = None
    reason_code: str | None = None  # a stable label, for metrics

    @classmethod
    def reject(cls, item: Item, segment_id: int | None, code: str, reason: str) -> ItemOutcome:
        ref = item.ref if item.by_code else None
        return cls(segment_id, ref, item.action, False, reason, None, code)


@dataclass(slots=True)
class ItemsPlan:
    outcomes: tuple[ItemOutcome, ...]
    adds: tuple[Add, ...]  # to store
    removes: tuple[int, ...]
    added: tuple[SegmentView, ...]  # every accepted add, stored or used by this call only
    touched: tuple[SegmentView, ...]  # every segment the call names that exists
    rejected: int = 0

    @property
    def call_only(self) -> tuple[int, ...]:
        """Accepted adds of segments with expire_minutes 0: used by this call, never stored."""
        return tuple(s.id for s in self.added if s.expire_minutes == 0)

    def usersync_limit(self) -> int:
        """The lowest max_usersync_pixels among the added segments (SPEC §4.3)."""
        return min((s.max_usersync_pixels for s in self.added), default=0)

    def chains_anything(self) -> bool:
        """Whether any added segment has piggybacks or allows usersync pixels."""
        return any(s.piggybacks or s.max_usersync_pixels for s in self.added)


def plan_items(
    call: PixelCall, view: CatalogView, now: int, only_member: int | None = None
) -> ItemsPlan:
    """Resolve every item; `only_member` rejects segments of any other member (for /mapuid)."""
    outcomes: list[ItemOutcome] = []
    adds: dict[int, Add] = {}
    removes: dict[int, None] = {}
    added: dict[int, SegmentView] = {}
    touched: dict[int, SegmentView] = {}
    rejected = 0
    for item in call.items:
        segment, rejection = _resolve(item, call, view)
        if segment is not None and only_member is not None and segment.member_id != only_member:
            reason = f"segment {segment.id} belongs to another member"
            rejection = ItemOutcome.reject(item, segment.id, "foreign_segment", reason)
        if rejection is not None:
            outcomes.append(rejection)
            rejected += 1
            continue
        assert segment is not None
        touched[segment.id] = segment
        if item.action == "remove":
            removes[segment.id] = None
            outcomes.append(
                ItemOutcome(segment.id, item.ref if item.by_code else None, "remove", True)
            )
            continue
        outcome, add = _plan_add(item, call, segment, now, seen=segment.id in added)
        outcomes.append(outcome)
        if outcome.accepted:
            added[segment.id] = segment
            if add is not None:
                adds[segment.id] = add
        else:
            rejected += 1
    for item in call.overflow:
        outcomes.append(
            ItemOutcome.reject(
                item,
                item.segment_id(),
                "over_limit",
                f"over the limit of {MAX_ITEMS_PER_PIXEL_CALL} segment items per call",
            )
        )
        rejected += 1
    return ItemsPlan(
        tuple(outcomes),
        tuple(adds.values())
        if not removes
        else tuple(a for sid, a in adds.items() if sid not in removes),
        tuple(removes),
        tuple(added.values()),
        tuple(touched.values()),
        rejected,
    )


def _resolve(
    item: Item, call: PixelCall, view: CatalogView
) -> tuple[SegmentView | None, ItemOutcome | None]:
    if item.by_code:
        if call.member is None:
            return None, ItemOutcome.reject(
                item, None, "no_member", "a code needs the member parameter"
            )
        segment = view.segments_by_code.get((call.member, item.ref))
        if segment is None:
            reason = f"no segment with code {item.ref!r} in member {call.member}"
            return None, ItemOutcome.reject(item, None, "unknown_code", reason)
    else:
        segment_id = item.segment_id()
        segment = view.segments.get(segment_id) if segment_id is not None else None
        if segment is None:
            reason = f"unknown segment {item.ref[:20]!r}"
            return None, ItemOutcome.reject(item, segment_id, "unknown_segment", reason)
    if segment.member_id not in view.active_members:
        reason = f"member {segment.member_id} is inactive"
        return None, ItemOutcome.reject(item, segment.id, "inactive_member", reason)
    return segment, None


def _plan_add(
    item: Item, call: PixelCall, segment: SegmentView, now: int, seen: bool
) -> tuple[ItemOutcome, Add | None]:
    if seen:
        return ItemOutcome.reject(item, segment.id, "duplicate", "named twice in this call"), None
    if not segment.active:
        return ItemOutcome.reject(item, segment.id, "inactive_segment", "segment is inactive"), None
    parsed = item_value(item, call)
    if parsed.too_large:
        reason = f"value above {VALUE_MAX}"
        return ItemOutcome.reject(item, segment.id, "value_too_large", reason), None
    code = item.ref if item.by_code else None
    outcome = ItemOutcome(segment.id, code, "add", True, None, parsed.value)
    if segment.expire_minutes == 0:
        return outcome, None  # expire_minutes 0: used by this call only, never stored
    return outcome, Add(segment.id, now + segment.expire_minutes * 60, parsed.value)


# -- chained pixels ----------------------------------------------------------------------------


@dataclass(slots=True)
class Chained:
    kind: str  # "redir" | "piggyback" | "usersync"
    url: str
    pixel_type: str  # "img" | "js"
    fired: bool
    reason: str | None = None
    usersync_id: int | None = None


# Ours and the reference's spellings (SPEC §3.5): `$UID` has no braces in the reference's docs.
_MACRO = re.compile(
    r"\$\{(UID|GDPR|GDPR_APPLIES|GDPR_CONSENT|GDPR_CONSENT_STRING|CACHEBUSTER)\}|\$UID"
)


@dataclass(slots=True)
class Macros:
    uid: str
    gdpr: str
    gdpr_consent: str
    cachebuster: str  # random per fire, so a partner's pixel is never served from a cache

    def fill(self, url: str) -> str:
        """Every macro replaced once, URL-encoded (a value that looks like a macro stays text)."""
        if "$" not in url:
            return url
        return _MACRO.sub(self._value, url)

    def _value(self, match: re.Match[str]) -> str:
        name = match.group(1) or "UID"
        if name == "UID":
            value = self.uid
        elif name in ("GDPR", "GDPR_APPLIES"):
            value = self.gdpr
        elif name == "CACHEBUSTER":
            value = self.cachebuster
        else:
            value = self.gdpr_consent
        return quote(value, safe="")


def usersync_candidates(
    plan: ItemsPlan, view: CatalogView, syncs: dict[int, int], now: int
) -> list[UsersyncView]:
    """Active partners of the added segments' members, by priority, not synced in 7 days."""
    members = sorted({s.member_id for s in plan.added})
    partners = [p for m in members for p in view.usersyncs.get(m, ())]
    partners.sort(key=lambda p: (-p.priority, p.id))
    return [
        p
        for p in partners
        if now - syncs.get(p.id, -USERSYNC_RESYNC_SECONDS) >= USERSYNC_RESYNC_SECONDS
    ]


def plan_chain(
    call: PixelCall,
    plan: ItemsPlan,
    view: CatalogView,
    partners: list[UsersyncView],
    macros: Macros,
    privacy_block: str | None,
) -> tuple[Chained, ...]:
    """Redir, piggybacks and usersync pixels, in the order and limits of SPEC §3.3 and §4.

    `partners` are the usersync candidates (see usersync_candidates); `privacy_block` is why no
    partner pixel may fire (opted out, no consent), or None.
    """
    wanted = "js" if call.javascript else "img"
    if not call.javascript:  # only an image partner can be the redirect of an image pixel
        partners = [p for p in partners if p.pixel_type == "img"]
    chain: list[Chained] = []
    if call.redir:
        chain.append(_redir(call, plan, view))
    for segment in plan.added:
        for pixel in segment.piggybacks:
            url = macros.fill(pixel.url)
            if privacy_block:
                chain.append(Chained("piggyback", url, pixel.pixel_type, False, privacy_block))
            elif pixel.pixel_type != wanted:
                pixel_name = "a JavaScript" if call.javascript else "an image"
                reason = f"{pixel_name} pixel fires only {wanted} piggybacks"
                chain.append(Chained("piggyback", url, pixel.pixel_type, False, reason))
            else:
                chain.append(Chained("piggyback", url, pixel.pixel_type, True))
    limit = plan.usersync_limit()
    if limit and partners:
        for partner in partners[:limit]:
            url = macros.fill(partner.url)
            if privacy_block:
                chain.append(
                    Chained("usersync", url, partner.pixel_type, False, privacy_block, partner.id)
                )
            else:
                chain.append(Chained("usersync", url, partner.pixel_type, True, None, partner.id))
    if not call.javascript:
        chain = _one_redirect(chain)
    return tuple(chain)


def _redir(call: PixelCall, plan: ItemsPlan, view: CatalogView) -> Chained:
    url = call.redir or ""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        scheme = parts.scheme.lower()
    except ValueError:
        parts, host, scheme = None, "", ""
    kind = "js" if parts is not None and parts.path.lower().endswith(".js") else "img"
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return Chained(
            "redir", url, kind, False, "redir must not contain spaces or control characters"
        )
    if "\\" in url:  # browsers read it as '/': https://evil\@ok/ goes to evil; urlsplit says ok
        return Chained("redir", url, kind, False, "redir must not contain a backslash")
    if scheme not in ("http", "https") or not host:
        return Chained("redir", url, kind, False, "redir must be an absolute http(s) URL")
    members = {s.member_id for s in plan.touched}
    if call.member is not None:
        members.add(call.member)
    for member_id in members:
        member = view.members.get(member_id)
        if member is not None and host_allowed(host, member.redirect_domains):
            return Chained("redir", url, kind, True)
    piggyback_hosts = {
        (urlsplit(p.url).hostname or "").lower() for s in plan.touched for p in s.piggybacks
    }
    if host.lower() in piggyback_hosts:
        return Chained("redir", url, kind, True)
    return Chained(
        "redir", url, kind, False, f"redir host {host!r} is not on the member's redirect allow-list"
    )


def _one_redirect(chain: list[Chained]) -> list[Chained]:
    """An image pixel can redirect once: the first firing img pixel wins, the rest wait."""
    result, chosen = [], False
    for pixel in chain:
        if not pixel.fired:
            result.append(pixel)
        elif pixel.pixel_type != "img" and pixel.kind != "redir":
            result.append(_skip(pixel, "an image pixel can only redirect to an image"))
        elif chosen:
            result.append(_skip(pixel, "an image pixel redirects only once"))
        else:
            result.append(pixel)
            chosen = True
    return result


def _skip(pixel: Chained, reason: str) -> Chained:
    return Chained(pixel.kind, pixel.url, pixel.pixel_type, False, reason, pixel.usersync_id)
