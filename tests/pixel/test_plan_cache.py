"""The /seg plan cache never outlives a catalog change (SPEC §2: a change reaches the pixel
within 5 s). The same query string, byte for byte, is fired before and after each change: once
the server's snapshot has the change, the very next call follows it — the cache adds no delay
of its own. Over real HTTP on both profile stores."""

from __future__ import annotations

from datetime import datetime

from tests.pixel.conftest import Pixel, assert_gif, membership, warning_of


def test_the_same_query_string_follows_every_catalog_change(px: Pixel) -> None:
    m = px.member()
    px.sync()
    browser = px.browser()
    query = f"add_code=cached&member={m['id']}"
    assert "no segment with code 'cached'" in warning_of(browser.seg(query))

    segment = px.segment(m["id"], "Cached", code="cached", expire_minutes=60)
    px.sync()
    response = browser.seg(query)
    assert_gif(response)
    assert warning_of(response) == ""
    first = membership(browser.debug("", member=m), segment["id"])
    assert first is not None

    px.update_segment(segment["id"], expire_minutes=6000)  # the plan's expiry moves with it
    px.sync()
    assert_gif(browser.seg(query))
    later = membership(browser.debug("", member=m), segment["id"])
    assert later is not None
    grown = datetime.fromisoformat(later["expires_at"]) - datetime.fromisoformat(
        first["expires_at"]
    )
    assert grown.total_seconds() >= (6000 - 60) * 60 - 5

    px.update_segment(segment["id"], state="inactive")
    px.sync()
    assert "segment is inactive" in warning_of(browser.seg(query))
