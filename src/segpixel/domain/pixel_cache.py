"""The segment pixel's plan cache: a tag fires millions of times with the same query string.

What a query string means under one catalog view — its parameters, the parsed call and the items'
plan — is the same every time, except the adds' expiry (`now` + the segment's expire_minutes).
So it is computed once, at now = 0, and only the expiry is shifted per call (`at_time`). An entry
belongs to the view it was planned under: the cache empties itself when handed another view (the
snapshot holder swaps views whole, so a catalog change is seen on the very next call).
Bounded: least recently used entries go first. Pure: values in, values out.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from segpixel.domain.catalog_view import CatalogView
from segpixel.domain.pixel import PixelCall, parse_pixel_call, parse_query
from segpixel.domain.pixel_plan import ItemsPlan, plan_items
from segpixel.domain.profile import Add

PLAN_CACHE_SIZE = 4096  # distinct query strings kept; a site's tags are far fewer


@dataclass(slots=True)
class PlannedQuery:
    """A query string's parameters, call and plan at time 0: shared, never changed."""

    params: dict[str, str]
    call: PixelCall
    plan: ItemsPlan

    def at_time(self, now: int) -> ItemsPlan:
        """The plan at `now`: each add's expiry moved from 0 to `now` (all else is shared)."""
        plan = self.plan
        if not plan.adds:
            return plan
        adds = tuple(Add(a.segment_id, a.expires_at + now, a.value, a.text) for a in plan.adds)
        return ItemsPlan(plan.outcomes, adds, plan.removes, plan.added, plan.touched, plan.rejected)


def plan_query(raw: bytes, view: CatalogView) -> PlannedQuery:
    """Parse and plan a query string at time 0 (what the cache keeps)."""
    params = parse_query(raw)
    call = parse_pixel_call(params)
    return PlannedQuery(params, call, plan_items(call, view, 0))


class PlanCache:
    def __init__(self, size: int = PLAN_CACHE_SIZE):
        self.size = size
        self._view: CatalogView | None = None
        self._entries: OrderedDict[bytes, PlannedQuery] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, raw: bytes, view: CatalogView) -> PlannedQuery:
        """The planned query for `raw` under `view`: from the cache, or planned and kept."""
        entries = self._entries
        if view is not self._view:  # another catalog: nothing planned before holds
            entries.clear()
            self._view = view
        planned = entries.get(raw)
        if planned is not None:
            entries.move_to_end(raw)
            self.hits += 1
            return planned
        self.misses += 1
        planned = entries[raw] = plan_query(raw, view)
        if len(entries) > self.size:
            entries.popitem(last=False)
        return planned
