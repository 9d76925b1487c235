"""The /seg plan cache (domain/pixel_cache.py): the same answer as planning every call, for the
view it was handed, within its bound."""

from __future__ import annotations

from dataclasses import replace

import pytest

from segpixel.domain.catalog_view import CatalogView
from segpixel.domain.pixel import parse_pixel_call, parse_query
from segpixel.domain.pixel_cache import PlanCache
from segpixel.domain.pixel_plan import plan_items
from tests.unit.test_pixel_plan import NOW, SEGMENTS, VIEW

QUERIES = [
    "add=10",
    "add=10,11:5,15&t=1",
    "add=10:7&value=3&remove=14",
    "add_code=shoes:4&member=1&remove_code=nosync",
    "add=10,10,12,13,30,999&other=2",  # duplicate, inactive, call-only, inactive member, unknown
    "add=" + ",".join(str(i) for i in range(40)),  # over the per-call limit
    "add=11:99999999999",
    "",
]


@pytest.mark.parametrize("query", QUERIES)
def test_a_cached_plan_at_any_time_equals_the_plan_made_at_that_time(query: str) -> None:
    cache = PlanCache()
    for now in (NOW, NOW + 3600, NOW + 86_400 * 7):  # the first call plans, the others hit
        planned = cache.get(query.encode(), VIEW)
        call = parse_pixel_call(parse_query(query.encode()))
        assert planned.params == parse_query(query.encode())
        assert planned.call == call
        assert planned.at_time(now) == plan_items(call, VIEW, now)
    assert cache.misses == 1 and cache.hits == 2


def test_a_new_catalog_view_is_planned_afresh_never_served_from_the_old() -> None:
    cache = PlanCache()
    query = b"add=10,16"
    before = cache.get(query, VIEW).at_time(NOW)
    assert [o.accepted for o in before.outcomes] == [True, False]  # 16 does not exist yet

    # The snapshot holder swaps in a new view: segment 16 made, 10 deactivated, 15's expiry changed.
    segments = {**SEGMENTS, 16: replace(SEGMENTS[14], id=16)}
    segments[10] = replace(SEGMENTS[10], active=False)
    changed = CatalogView(
        version=2, segments=segments, members=VIEW.members, usersyncs=VIEW.usersyncs
    )
    after = cache.get(query, changed).at_time(NOW)
    assert after == plan_items(parse_pixel_call(parse_query(query)), changed, NOW)
    assert [o.accepted for o in after.outcomes] == [False, True]

    longer = {**segments, 15: replace(SEGMENTS[15], expire_minutes=10)}
    again = CatalogView(version=3, segments=longer, members=VIEW.members)
    assert cache.get(b"add=15", again).at_time(NOW).adds[0].expires_at == NOW + 600


def test_a_cache_full_of_distinct_query_strings_stays_within_its_bound() -> None:
    cache = PlanCache(size=100)
    kept = b"add=10"
    for i in range(10_000):
        cache.get(f"add={i}&x={i}".encode(), VIEW)
        cache.get(kept, VIEW)  # used all along: the least recently used go first, not it
        assert len(cache) <= 100
    assert cache.hits == 9_999  # every call of `kept` after the first
    assert len(cache) == 100
