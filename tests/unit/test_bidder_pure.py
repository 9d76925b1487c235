"""OpenRTB user data (domain/openrtb.py), the bidder profile cache (api/profile_cache.py, over a
real SQLite profile store) and what an ad call answers (edge/ad_render.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from segpixel.api.profile_cache import ProfileCache
from segpixel.domain.ads_view import CreativeView
from segpixel.domain.openrtb import bid_request_user_id, parse_user_id, with_user_data
from segpixel.domain.profile import Add, Mutation, Profile
from segpixel.edge.ad_render import make_ad, ttj_script, ut_body
from segpixel.errors import StoreUnavailable
from segpixel.profiles.factory import make_profile_store

# -- OpenRTB ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "uid"),
    [
        ("123", 123),
        (123, 123),
        ("9223372036854775807", 2**63 - 1),
        ("9223372036854775808", None),
        ("0", None),
        ("-5", None),
        ("12a", None),
        ("１２", None),
        (True, None),
        (None, None),
        (1.5, None),
    ],
)
def test_user_ids_are_our_positive_64_bit_ids(value: Any, uid: int | None) -> None:
    assert parse_user_id(value) == uid


def test_user_id_then_buyeruid() -> None:
    assert bid_request_user_id({"user": {"id": "5", "buyeruid": "6"}}) == 5
    assert bid_request_user_id({"user": {"id": "their-id", "buyeruid": "6"}}) == 6
    assert bid_request_user_id({"user": "5"}) is None
    assert bid_request_user_id({}) is None


def test_user_data_is_extended_with_string_ids_and_values() -> None:
    request = {"id": "r", "user": {"id": "5", "data": [{"id": "x"}, {"id": "3", "segment": []}]}}
    out = with_user_data(request, 3, "Acme", [(10, 7), (11, None)])
    assert out["user"]["data"] == [
        {"id": "x"},
        {"id": "3", "name": "Acme", "segment": [{"id": "10", "value": "7"}, {"id": "11"}]},
    ]
    assert request["user"]["data"] == [{"id": "x"}, {"id": "3", "segment": []}]  # untouched
    assert with_user_data({"user": {"data": "junk"}}, 3, "A", [])["user"]["data"] == [
        {"id": "3", "name": "A", "segment": []}
    ]


# -- the profile cache --------------------------------------------------------------------------


class Runtime:
    """What the cache uses of the worker's runtime: a clock and a profile read."""

    def __init__(self, store: Any):
        self.store = store
        self.now = 1_800_000_000.0
        self.reads = 0

    def clock(self) -> float:
        return self.now

    async def read_profile(self, user_id: int) -> Profile | None:
        self.reads += 1
        return await self.store.read(user_id, self.now)


async def test_a_profile_is_read_once_per_ttl_and_a_clock_moved_back_never_keeps_it(
    tmp_path: Path,
) -> None:
    store = make_profile_store(f"sqlite:///{tmp_path / 'profiles.db'}")
    await store.open()
    try:
        runtime = Runtime(store)
        cache = ProfileCache(runtime, ttl=1.0)
        now = int(runtime.now)
        await store.apply([Mutation(9, now, (Add(1, now + 3600),))])
        assert [m.segment_id for m in (await cache.read(9)).memberships] == [1]
        await store.apply([Mutation(9, now, (Add(2, now + 3600),))])
        runtime.now += 0.5
        assert [m.segment_id for m in (await cache.read(9)).memberships] == [1]  # cached
        assert runtime.reads == 1
        runtime.now += 0.6
        assert {m.segment_id for m in (await cache.read(9)).memberships} == {1, 2}
        runtime.now -= 100  # a clock set back: the entry is not "fresh" for 100 seconds
        await cache.read(9)
        assert runtime.reads == 3
    finally:
        await store.close()


async def test_the_cache_is_bounded_and_failures_are_not_remembered(tmp_path: Path) -> None:
    store = make_profile_store(f"sqlite:///{tmp_path / 'profiles.db'}")
    await store.open()
    runtime = Runtime(store)
    cache = ProfileCache(runtime, ttl=60, max_entries=3)
    for uid in range(1, 6):
        await cache.read(uid)
    assert list(cache._entries) == [3, 4, 5]
    await store.close()

    class Down(Runtime):
        async def read_profile(self, user_id: int) -> Profile | None:
            self.reads += 1
            return None  # what EdgeRuntime.read_profile answers when the store is down

    down = Down(store)
    failing = ProfileCache(down)
    for _ in range(2):
        with pytest.raises(StoreUnavailable):
            await failing.read(1)
    assert down.reads == 2
    with pytest.raises(StoreUnavailable, match="no profile store"):
        await ProfileCache(None).read(1)


# -- what an ad call answers --------------------------------------------------------------------

HTML = CreativeView(
    5, 1, 1, 300, 250, '<a href="${CLICK_URL}">Go</a></script>', None, "https://l.example/"
)
IMAGE = CreativeView(6, 1, 1, 728, 90, None, 'https://cdn.example/a.png?x=1&y="2"', None)


def test_trackers_are_absolute_and_the_click_macro_is_filled() -> None:
    ad = make_ad("https://px.example", HTML, 9)
    body = json.loads(ut_body(12, ad))
    assert body == {
        "placement_id": 12,
        "ad": {
            "creative_id": 5,
            "line_item_id": 9,
            "width": 300,
            "height": 250,
            "content": '<a href="https://px.example/ck?creative=5">Go</a></script>',
            "impression_url": "https://px.example/it?creative=5",
            "click_url": "https://px.example/ck?creative=5",
        },
    }
    assert json.loads(ut_body(12, None)) == {"placement_id": 12, "ad": None}


def test_an_image_creative_is_a_linked_image_with_escaped_attributes() -> None:
    content = make_ad("https://px.example", IMAGE, 1).content()
    assert content == (
        '<a href="https://px.example/ck?creative=6" target="_blank" rel="noopener">'
        '<img src="https://cdn.example/a.png?x=1&amp;y=&quot;2&quot;" width="728" height="90" '
        'alt="" style="border:0;display:block"></a>'
    )


def test_the_script_puts_the_creative_in_a_sandboxed_frame_without_document_write() -> None:
    script = ttj_script(make_ad("https://px.example", HTML, 9)).decode()
    assert "document.write" not in script and "eval(" not in script and "innerHTML" not in script
    assert "</script>" not in script and "<" not in script  # nothing can end the script early
    assert 'createElement("iframe")' in script and "srcdoc" in script
    sandbox = re.search(r'setAttribute\("sandbox",("[^"]*")\)', script)
    assert sandbox is not None and "allow-same-origin" not in sandbox.group(1)
    assert "https://px.example/it?creative=5" in script
    assert ttj_script(None) == b"/* segpixel: no ad */\n"


# -- the bidder routes' token memory -------------------------------------------------------------


def test_a_resolved_token_is_reused_for_one_ttl_only() -> None:
    from segpixel.api.bidder_auth import PrincipalCache
    from segpixel.domain.access import Principal

    cache = PrincipalCache(ttl=1.0, max_entries=2)
    alice = Principal(1, "alice", "member", member_id=3)
    cache.put("t1", alice, 100.0)
    assert cache.get("t1", 100.0) == alice and cache.get("t1", 100.99) == alice
    assert cache.get("t1", 101.0) is None  # lapsed: the next call checks the token again
    assert cache.get("t1", 99.0) is None  # a clock set back never extends it
    cache.put("t2", alice, 100.0)
    cache.put("t3", alice, 100.0)
    assert cache.get("t1", 100.0) is None and cache.get("t3", 100.0) == alice  # bounded
