"""`GET /seg`: the segment pixel (SPEC §3, §4). Parse → identify → plan → store → answer.

Whatever the input, the answer is a pixel (GIF, 302 or script) — a page must never break because
of a pixel; what was skipped and why goes to `X-Segpixel-Warning`, metrics, and `debug=1`.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from urllib.parse import quote

from segpixel.domain.catalog_view import CatalogView, UsersyncView
from segpixel.domain.pixel import PixelCall
from segpixel.domain.pixel_cache import PlanCache, PlannedQuery
from segpixel.domain.pixel_plan import (
    Chained,
    ItemsPlan,
    Macros,
    plan_chain,
    usersync_candidates,
)
from segpixel.domain.profile import Mutation
from segpixel.edge.debug import debug_body, memberships_json, opened_member, this_call
from segpixel.edge.http import (
    GIF,
    GIF_TYPE,
    JS_TYPE,
    JSON_TYPE,
    NO_STORE,
    Receive,
    Request,
    Scope,
    Send,
    query_bytes,
    respond,
)
from segpixel.edge.runtime import EdgeRuntime
from segpixel.edge.scripts import chain_script
from segpixel.edge.visitor import Visitor, WriteResult, identify, response_headers, write
from segpixel.profiles.writer import Stored

RATE_LIMITED_WARNING = b"rate limited: nothing stored or chained (SEGPIXEL_PIXEL_RATE_LIMIT)"
URL_SAFE = ":/?#[]@!$&'()*+,;=%~"  # already-valid URL characters stay; others are percent-encoded


@dataclass(slots=True)
class Outcome:
    """Everything the answer depends on, gathered while handling the call."""

    call: PixelCall
    visitor: Visitor
    items: ItemsPlan
    chain: tuple[Chained, ...]
    warnings: list[str]
    written: WriteResult

    @property
    def user_id(self) -> int | None:
        return self.visitor.user_id

    @property
    def stored(self) -> Stored | None:
        return self.written.stored


class SegHandler:
    def __init__(self, runtime: EdgeRuntime):
        self.rt = runtime
        self.plans = PlanCache()  # per worker; it follows the snapshot's view

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        limit = self.rt.pixel_limit
        if limit is not None and limit.take(self.rt.client_address(scope)):
            await self.skip(Request(scope), send)  # (not planned: a flood stays cheap)
            return
        view = self.rt.snapshot.current
        planned = self.plans.get(query_bytes(scope), view)
        request = Request(scope, planned.params)
        outcome = await self.handle(request, planned, view)
        await self.answer(request, outcome, send)
        self.rt.metrics.latency.observe(time.perf_counter() - started)

    async def handle(self, request: Request, planned: PlannedQuery, view: CatalogView) -> Outcome:
        rt = self.rt
        now = int(rt.clock())
        call = planned.call
        visitor = identify(rt, request)
        items = planned.at_time(now)
        warnings = list(call.warnings)
        if items.rejected:
            warnings += [
                f"{o.action} {o.segment_id or o.code}: {o.reason}"
                for o in items.outcomes
                if not o.accepted
            ]
        chain: tuple[Chained, ...] = ()
        if call.redir or items.chains_anything():  # most calls chain nothing
            partners = await self._usersync_partners(visitor, items, now, warnings)
            macros = Macros(
                str(visitor.user_id if visitor.block is None else 0),
                call.gdpr or "",
                call.gdpr_consent or "",
                str(random.getrandbits(32)),
            )
            chain = plan_chain(call, items, view, partners, macros, visitor.block)
            warnings += [
                f"{c.kind} not fired: {c.reason}" for c in chain if not c.fired and c.reason
            ]
        written = WriteResult()
        if visitor.block is not None:
            if items.adds or items.removes:
                warnings.append(f"nothing stored: {visitor.block}")
            rt.metrics.privacy.inc(reason=visitor.block.split(":")[0])
        else:
            written = await self._store(visitor, items, chain, now)
            if written.lost:
                warnings.append(written.lost)
        outcome = Outcome(call, visitor, items, chain, warnings, written)
        self._count(outcome)
        return outcome

    async def _usersync_partners(
        self, visitor: Visitor, items: ItemsPlan, now: int, warnings: list[str]
    ) -> list[UsersyncView]:
        if visitor.block is not None or not items.usersync_limit():
            return []
        syncs: dict[int, int] = {}  # a new visitor has synced with no one
        if not visitor.new and visitor.user_id is not None:
            profile = await self.rt.read_profile(visitor.user_id)
            if profile is None:
                warnings.append("usersync skipped: the profile store did not answer")
                return []
            syncs = profile.partner_syncs
        return usersync_candidates(items, self.rt.snapshot.current, syncs, now)

    async def _store(
        self, visitor: Visitor, items: ItemsPlan, chain: tuple[Chained, ...], now: int
    ) -> WriteResult:
        synced = tuple(c.usersync_id for c in chain if c.fired and c.usersync_id)
        removes = () if visitor.new else items.removes  # a new visitor is in no segment yet
        call_only = items.call_only
        if visitor.user_id is None or not (items.adds or removes or synced or call_only):
            return WriteResult()
        mutation = Mutation(visitor.user_id, now, items.adds, removes, synced, call_only=call_only)
        return await write(self.rt, mutation)

    def _count(self, outcome: Outcome) -> None:
        m = self.rt.metrics
        (m.fires_js if outcome.call.javascript else m.fires_img).inc()
        if outcome.visitor.block is None:
            if outcome.items.added:
                m.pixel_adds.inc(len(outcome.items.added))
            if outcome.items.removes:
                m.removes.inc(len(outcome.items.removes))
        for o in outcome.items.outcomes:
            if not o.accepted:
                m.rejects.inc(reason=o.reason_code or "other")
        for c in outcome.chain:
            if c.fired:
                m.chained.inc(kind=c.kind)

    async def debug(self, outcome: Outcome) -> bytes:
        """SPEC §3.6: stored memberships only of the member whose dongle the call carries."""
        now = self.rt.clock()
        view = self.rt.snapshot.current
        member = opened_member(outcome.call, view)
        user_id = outcome.user_id if outcome.visitor.block is None else None
        if member is None:
            stored = [] if outcome.visitor.block is not None else this_call(outcome.items, now)
            return debug_body(outcome, stored, "this call")
        profile = await self.rt.read_profile(user_id) if user_id else None
        return debug_body(outcome, memberships_json(profile, now, view, member), f"member {member}")

    async def skip(self, request: Request, send: Send) -> None:
        """Over the pixel rate limit: still a pixel, never an error a page could see."""
        self.rt.metrics.rate_limited.inc()
        headers = [NO_STORE, (b"x-segpixel-warning", RATE_LIMITED_WARNING)]
        if request.query.get("t") == "1":
            await respond(send, 200, [*headers, JS_TYPE], chain_script([]))
        else:
            await respond(send, 200, [*headers, GIF_TYPE], GIF)

    async def answer(self, request: Request, outcome: Outcome, send: Send) -> None:
        headers = response_headers(self.rt, request, outcome.visitor, outcome.warnings)
        status = 200
        if outcome.written.lost:  # honest: the add is not stored (the page still gets a pixel)
            status = 503
            headers.append((b"retry-after", b"5"))
        if outcome.call.debug:
            body = await self.debug(outcome)
            await respond(send, status, [*headers, JSON_TYPE], body)
            return
        fired = [c for c in outcome.chain if c.fired]
        if outcome.call.javascript:
            await respond(send, status, [*headers, JS_TYPE], chain_script(fired))
        elif fired and status == 200:
            self.rt.metrics.redirects.inc(kind=fired[0].kind)
            location = quote(fired[0].url, safe=URL_SAFE).encode("ascii")
            await respond(send, 302, [*headers, (b"location", location)])
        else:
            await respond(send, status, [*headers, GIF_TYPE], GIF)
