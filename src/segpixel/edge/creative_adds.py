"""`GET /it` (impression) and `GET /ck` (click): a creative's segment adds (SPEC §6).

`/it?creative=C` adds the viewer to C's `add_on_view` segments and answers a GIF; `/ck?creative=C`
adds the clicker to its `add_on_click` segments and answers 302 to C's landing page, taken from
the catalog — the URL never comes from the request, so /ck cannot be used as an open redirect.
These adds fire no piggyback and no usersync pixel (SPEC §1.3 rule 1): nothing is chained here.
"""

from __future__ import annotations

from urllib.parse import quote

from segpixel.domain.ads_view import CreativeView
from segpixel.domain.profile import Add, Mutation
from segpixel.edge.http import GIF, GIF_TYPE, Headers, Receive, Request, Scope, Send, respond
from segpixel.edge.runtime import EdgeRuntime
from segpixel.edge.seg import URL_SAFE
from segpixel.edge.visitor import identify, response_headers, write


class CreativeAddHandler:
    """Apply one creative's adds for one action; subclasses answer."""

    def __init__(self, runtime: EdgeRuntime):
        self.rt = runtime
        self.creative_adds = runtime.metrics.adds.labelled(source="creative")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope)
        warnings: list[str] = []
        raw = request.query.get("creative", "")
        creative_id = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 10 else 0
        creative = self.rt.snapshot.current.ads.creatives.get(creative_id)
        visitor = identify(self.rt, request)
        stored = True
        if creative is None:
            warnings.append(f"creative {raw[:20]!r} is unknown: nothing added")
        elif visitor.block is not None:
            warnings.append(f"nothing stored: {visitor.block}")
        elif visitor.user_id is not None:
            stored = await self._add(visitor.user_id, creative, warnings)
        headers = response_headers(self.rt, request, visitor, warnings)
        await self.answer(creative, headers, stored, send)

    def segment_ids(self, creative: CreativeView) -> tuple[int, ...]:
        return creative.on_view

    async def _add(self, user_id: int, creative: CreativeView, warnings: list[str]) -> bool:
        view = self.rt.snapshot.current
        now = int(self.rt.clock())
        adds: list[Add] = []
        call_only: list[int] = []
        for segment_id in self.segment_ids(creative):
            segment = view.segment(segment_id)
            if (
                segment is None
                or not segment.active
                or segment.member_id not in view.active_members
            ):
                warnings.append(f"segment {segment_id} is inactive: not added")
            elif segment.expire_minutes == 0:
                call_only.append(segment_id)  # a load, never stored
            else:
                adds.append(Add(segment_id, now + segment.expire_minutes * 60))
        if not (adds or call_only):
            return True
        mutation = Mutation(
            user_id, now, tuple(adds), source="creative", call_only=tuple(call_only)
        )
        written = await write(self.rt, mutation)
        if written.lost:
            warnings.append(written.lost)
            return False
        self.creative_adds.inc(len(adds) + len(call_only))
        return True

    async def answer(
        self, creative: CreativeView | None, headers: Headers, stored: bool, send: Send
    ) -> None:
        """A GIF; 503 when the add could not be kept (as /seg answers), the page unharmed."""
        await respond(send, 200 if stored else 503, [*headers, GIF_TYPE], GIF)


class ImpressionHandler(CreativeAddHandler):
    """`/it?creative=C`"""


class ClickHandler(CreativeAddHandler):
    """`/ck?creative=C`: the click always reaches the landing page, even if the add was lost."""

    def segment_ids(self, creative: CreativeView) -> tuple[int, ...]:
        return creative.on_click

    async def answer(
        self, creative: CreativeView | None, headers: Headers, stored: bool, send: Send
    ) -> None:
        if creative is None or not creative.click_url:
            await super().answer(creative, headers, stored, send)
            return
        location = quote(creative.click_url, safe=URL_SAFE).encode("ascii")
        await respond(send, 302, [*headers, (b"location", location)])
