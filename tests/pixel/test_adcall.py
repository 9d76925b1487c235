"""The ad call over HTTP on both profile stores (SPEC §5.3, §6, §7): query-string adds, targeting
that sees stored adds from the next call and 0-minute adds in the same call, exclusions that keep
unknown users out, and the creative's impression and click adds (which chain nothing)."""

from __future__ import annotations

import re

import pytest

from tests.pixel.ads import Shop, ad_call, follow, group, open_shop, segments_of, served
from tests.pixel.conftest import Pixel, assert_gif, warning_of


@pytest.fixture
def shop(px: Pixel) -> Shop:
    return open_shop(px)


def test_a_stored_qs_add_is_targetable_from_the_next_call_and_not_in_the_same_one(
    px: Pixel, shop: Shop
) -> None:
    a = shop.segment("A", code="a")
    b = shop.segment(
        "B", expire_minutes=1440, querystring_mapping={"param": "car", "values": ["ford"]}
    )
    both = shop.creative("Both")
    fallback = shop.creative("Fallback")
    target = shop.line_item(
        both,
        10,
        group({"id": a["id"], "expire_minutes": 60}, {"id": b["id"], "expire_minutes": 60}),
    )
    shop.line_item(fallback, 1)
    px.sync()
    browser = px.browser()
    assert_gif(browser.seg(f"add={a['id']}"))  # the page view: the pixel puts the user in A

    first = served(browser, shop.placement["id"], "car=ford")
    assert first is not None and first["creative_id"] == fallback["id"]  # B not targetable yet
    assert set(segments_of(px, browser, shop)) == {a["id"], b["id"]}  # but stored

    second = served(browser, shop.placement["id"])
    assert second is not None
    assert (second["creative_id"], second["line_item_id"]) == (both["id"], target["id"])
    assert second["width"] == 300 and second["height"] == 250
    assert second["content"] == "<p>Both</p>"

    px.clock.advance(61 * 60)  # outside "within 60 minutes" of the last adds
    later = served(browser, shop.placement["id"])
    assert later is not None and later["creative_id"] == fallback["id"]


def test_a_zero_minute_qs_segment_is_targetable_in_the_same_call_and_never_stored(
    px: Pixel, shop: Shop
) -> None:
    rock = shop.segment(
        "Rock",
        expire_minutes=0,
        querystring_mapping_key_value={"qs_key": "music", "qs_value": "rock"},
    )
    fans = shop.creative("Fans")
    fallback = shop.creative("Fallback")
    shop.line_item(fans, 10, group({"id": rock["id"]}))
    shop.line_item(fallback, 1)
    px.sync()
    newcomer = px.browser()  # no cookie at all: the 0-minute add alone decides
    ad = served(newcomer, shop.placement["id"], "Music=ROCK")
    assert ad is not None and ad["creative_id"] == fans["id"]
    assert newcomer.uid is not None  # the ad call gave the browser an id
    again = served(newcomer, shop.placement["id"])
    assert again is not None and again["creative_id"] == fallback["id"]
    assert segments_of(px, newcomer, shop) == {}
    assert px.read_store(newcomer.uid).memberships == ()


def test_an_exclusion_keeps_opted_out_and_unknown_users_out(px: Pixel, shop: Shop) -> None:
    converted = shop.segment("Converted")
    other = shop.segment("Other")
    prospects = shop.creative("Prospects")
    fallback = shop.creative("Fallback")
    shop.line_item(prospects, 10, group({"id": converted["id"], "action": "exclude"}))
    shop.line_item(fallback, 1)
    px.sync()
    placement = shop.placement["id"]

    unknown = px.browser()
    assert served(unknown, placement)["creative_id"] == fallback["id"]  # type: ignore[index]
    opted_out = px.browser()
    opted_out.set_cookie("-1")
    response = ad_call(opted_out, placement, "car=ford")
    assert response.json()["ad"]["creative_id"] == fallback["id"]
    assert "set-cookie" not in response.headers
    assert "opted out" in warning_of(response)

    known = px.browser()
    assert_gif(known.seg(f"add={other['id']}"))  # a returning user we know, not converted
    assert served(known, placement)["creative_id"] == prospects["id"]  # type: ignore[index]
    assert_gif(known.seg(f"add={converted['id']}"))
    assert served(known, placement)["creative_id"] == fallback["id"]  # type: ignore[index]


def test_impression_and_click_add_the_creatives_segments_and_chain_nothing(
    px: Pixel, shop: Shop
) -> None:
    chained = {
        "piggyback_pixels": [{"url": "https://pig.example/p.gif", "pixel_type": "img"}],
        "max_usersync_pixels": 1,
    }
    viewed = shop.segment("Viewed", **chained)
    clicked = shop.segment("Clicked", **chained)
    px.usersync(shop.member_id, "https://sync.example/s?uid=${UID}")
    landing = "https://ford.example/landing?from=ad&x=1"
    creative = shop.creative(
        "Ford",
        click_url=landing,
        content='<a href="${CLICK_URL}">Ford</a>',
        segments=[
            {"id": viewed["id"], "action": "add_on_view"},
            {"id": clicked["id"], "action": "add_on_click"},
        ],
    )
    shop.line_item(creative, 5)
    px.sync()
    browser = px.browser()
    ad = served(browser, shop.placement["id"])
    assert ad is not None
    assert re.fullmatch(rf"https?://[^/]+/it\?creative={creative['id']}", ad["impression_url"])
    assert re.fullmatch(rf"https?://[^/]+/ck\?creative={creative['id']}", ad["click_url"])
    assert ad["content"] == f'<a href="{ad["click_url"]}">Ford</a>'  # ${{CLICK_URL}} filled

    impression = follow(browser, ad["impression_url"])
    assert_gif(impression)  # never a redirect to the img piggyback or the partner
    assert set(segments_of(px, browser, shop)) == {viewed["id"]}

    click = follow(browser, ad["click_url"])
    assert click.status_code == 302
    assert click.headers["location"] == landing
    assert set(segments_of(px, browser, shop)) == {viewed["id"], clicked["id"]}
    assert px.read_store(browser.uid).partner_syncs == {}  # no usersync fired on those adds


def test_the_click_redirect_comes_from_the_catalog_only(px: Pixel, shop: Shop) -> None:
    creative = shop.creative("Ford", click_url="https://ford.example/")
    px.sync()
    browser = px.browser()
    response = browser.get("/ck", f"creative={creative['id']}&url=https://evil.example/&redir=x")
    assert (response.status_code, response.headers["location"]) == (302, "https://ford.example/")
    unknown = browser.get("/ck", "creative=999999999")
    assert_gif(unknown)
    assert "unknown" in warning_of(unknown)
    assert_gif(browser.get("/it", "creative=abc"))


def test_the_ttj_script_renders_the_creative_without_document_write(px: Pixel, shop: Shop) -> None:
    creative = shop.creative("Banner", content="<b>Ford</b></script><script>alert(1)</script>")
    shop.line_item(creative, 5)
    px.sync()
    browser = px.browser()
    response = ad_call(browser, shop.placement["id"], path="/ttj")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/javascript")
    script = response.text
    assert "document.write" not in script and "eval(" not in script
    assert 'createElement("iframe")' in script and "srcdoc" in script
    assert "</script>" not in script  # the creative's HTML is escaped inside the script
    assert f"/it?creative={creative['id']}" in script
    empty = ad_call(browser, 999_999_999, path="/ttj")
    assert empty.status_code == 200 and "no ad" in empty.text
    assert "unknown or inactive" in warning_of(empty)


def test_priority_then_only_creatives_of_the_requested_size_compete(px: Pixel, shop: Shop) -> None:
    high_wrong_size = shop.creative("Skyscraper", width=160, height=600)
    low = shop.creative("Low")
    shop.line_item(high_wrong_size, 20)
    shop.line_item(low, 2)
    px.sync()
    browser = px.browser()
    assert served(browser, shop.placement["id"])["creative_id"] == low["id"]  # type: ignore[index]
    tall = browser.get("/ut", f"id={shop.placement['id']}&size=160x600").json()["ad"]
    assert tall["creative_id"] == high_wrong_size["id"]


def test_inactive_line_items_creatives_and_placements_do_not_serve(px: Pixel, shop: Shop) -> None:
    creative = shop.creative("Only")
    line_item = shop.line_item(creative, 5)
    px.sync()
    browser = px.browser()
    assert served(browser, shop.placement["id"]) is not None
    px.api.ok("PUT", f"/line-item?id={line_item['id']}", {"line-item": {"state": "inactive"}})
    px.sync()
    assert served(browser, shop.placement["id"]) is None
    px.api.ok("PUT", f"/line-item?id={line_item['id']}", {"line-item": {"state": "active"}})
    px.api.ok("PUT", f"/site?id={shop.site['id']}", {"site": {"state": "inactive"}})
    px.sync()
    assert served(browser, shop.placement["id"]) is None
