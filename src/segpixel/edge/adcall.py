"""`GET /ttj` and `GET /ut`: the ad call (SPEC §5.3).

Parse → identify → read the profile → store the query-string adds → line items compete → answer.
The profile is read BEFORE this call's adds are stored: a stored add becomes targetable from the
next call only, while a 0-minute add (never stored) is merged in for this call. Like a pixel, an
ad call never fails a page: what was skipped and why goes to `X-Segpixel-Warning`.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from segpixel.domain.ad_call import AdCall, Choice, choose, parse_ad_call
from segpixel.domain.ads_view import PlacementView
from segpixel.domain.catalog_view import CatalogView
from segpixel.domain.profile import Add, Mutation, Profile
from segpixel.domain.querystring import match_querystring
from segpixel.domain.targeting import matches, user_state
from segpixel.edge.ad_render import Ad, make_ad, ttj_script, ut_body
from segpixel.edge.http import (
    JS_TYPE,
    JSON_TYPE,
    Headers,
    Receive,
    Request,
    Scope,
    Send,
    respond,
)
from segpixel.edge.runtime import EdgeRuntime
from segpixel.edge.visitor import Visitor, identify, response_headers, write


@dataclass(slots=True)
class AdOutcome:
    call: AdCall
    visitor: Visitor
    choice: Choice | None
    warnings: list[str]


@dataclass(slots=True)
class QsPlan:
    adds: list[Add]  # stored: targetable from the next call
    # 0-minute segments (id, value, text value): for this call only
    call_only: list[tuple[int, int | None, str | None]]


class AdCallHandler:
    """The ad call's logic; `/ttj` and `/ut` differ only in how they answer."""

    def __init__(self, runtime: EdgeRuntime, rng: random.Random | None = None):
        self.rt = runtime
        self.rng = rng or random.Random()
        self.public_url = runtime.settings.public_url or ""
        registry = runtime.metrics.registry
        calls = registry.counter("segpixel_ad_calls_total", "Ad calls, by whether an ad answered")
        self.filled, self.empty = calls.labelled(ad="yes"), calls.labelled(ad="no")
        self.qs_adds = runtime.metrics.adds.labelled(source="querystring")
        self.latency = registry.histogram(
            "segpixel_ad_call_seconds", "Time to answer an ad call", runtime.metrics.latency.buckets
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        request = Request(scope)
        outcome = await self.handle(request)
        (self.filled if outcome.choice else self.empty).inc()
        headers = response_headers(self.rt, request, outcome.visitor, outcome.warnings)
        await self.answer(outcome, headers, send)
        self.latency.observe(time.perf_counter() - started)

    async def answer(self, outcome: AdOutcome, headers: Headers, send: Send) -> None:
        raise NotImplementedError

    async def handle(self, request: Request) -> AdOutcome:
        rt = self.rt
        now = int(rt.clock())
        view = rt.snapshot.current
        call = parse_ad_call(request.query)
        visitor = identify(rt, request)
        warnings = call.warnings
        placement = view.ads.placements.get(call.placement_id or 0)
        if placement is None or not placement.active:
            if call.placement_id is not None:
                warnings.append(f"placement {call.placement_id} is unknown or inactive: no ad")
            return AdOutcome(call, visitor, None, warnings)
        if visitor.block is not None:  # opted out or no consent: nothing about them is used
            warnings.append(f"no query-string adds: {visitor.block}")
            qs, profile = QsPlan([], []), None
        else:
            qs = self._querystring(call, placement, view, now, warnings)
            profile = await self._profile(visitor, warnings)
            await self._store(visitor, qs, now, warnings)
        # an unknown user (no cookie, no profile) never passes an exclusion
        state = user_state(profile, now, qs.call_only, known=profile is not None)
        choice = choose(
            view.ads.line_items.get(placement.member_id, ()),
            view.ads.creatives,
            call.size,
            lambda line_item: matches(line_item.targeting, state),
            self.rng,
        )
        return AdOutcome(call, visitor, choice, warnings)

    def _querystring(
        self,
        call: AdCall,
        placement: PlacementView,
        view: CatalogView,
        now: int,
        warnings: list[str],
    ) -> QsPlan:
        if placement.member_id not in view.active_members:
            return QsPlan([], [])
        found = match_querystring(
            call.key_values,
            placement.member_id,
            placement.place,
            view.ads.qs_params,
            view.ads.kv_keys,
        )
        warnings += found.warnings
        plan = QsPlan([], [])
        for hit in found.hits:
            segment = view.segment(hit.segment_id)
            if segment is None or not segment.active:
                warnings.append(f"{hit.key}: segment {hit.segment_id} is inactive")
            elif segment.expire_minutes == 0:
                plan.call_only.append((segment.id, hit.value, hit.text))
            else:
                expires = now + segment.expire_minutes * 60
                plan.adds.append(Add(segment.id, expires, hit.value, hit.text))
        return plan

    async def _profile(self, visitor: Visitor, warnings: list[str]) -> Profile | None:
        if visitor.new or visitor.user_id is None:
            return None  # no cookie: we know nothing about this browser
        profile = await self.rt.read_profile(visitor.user_id)
        if profile is None:
            warnings.append("the profile store did not answer: targeting sees an unknown user")
        return profile

    async def _store(self, visitor: Visitor, qs: QsPlan, now: int, warnings: list[str]) -> None:
        if visitor.user_id is None or not (qs.adds or qs.call_only):
            return
        mutation = Mutation(
            visitor.user_id,
            now,
            tuple(qs.adds),
            source="querystring",
            call_only=tuple(sid for sid, _, _ in qs.call_only),
        )
        written = await write(self.rt, mutation)
        if written.lost:
            warnings.append(written.lost)
        else:
            self.qs_adds.inc(len(qs.adds) + len(qs.call_only))

    def ad(self, outcome: AdOutcome) -> Ad | None:
        choice = outcome.choice
        if choice is None:
            return None
        return make_ad(self.public_url, choice.creative, choice.line_item.id)


class TtjHandler(AdCallHandler):
    """`/ttj`: JavaScript that renders the creative in the page."""

    async def answer(self, outcome: AdOutcome, headers: Headers, send: Send) -> None:
        await respond(send, 200, [*headers, JS_TYPE], ttj_script(self.ad(outcome)))


class UtHandler(AdCallHandler):
    """`/ut`: the same decision as JSON, for server-side callers."""

    async def answer(self, outcome: AdOutcome, headers: Headers, send: Send) -> None:
        body = ut_body(outcome.call.placement_id, self.ad(outcome))
        await respond(send, 200, [*headers, JSON_TYPE], body)
