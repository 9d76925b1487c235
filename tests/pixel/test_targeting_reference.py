"""Targeting as the reference reads it, end to end on both profile stores (SPEC §5.1, §7): the
group default `or` in `/targeting/evaluate` and in the `/ut` line-item choice, segments named by
code, and text values kept from the ad call and matched by `other_equals` / `other_in_list`."""

from __future__ import annotations

from typing import Any

import pytest

from tests.pixel.ads import Shop, open_shop, served
from tests.pixel.conftest import Pixel, assert_gif


@pytest.fixture
def shop(px: Pixel) -> Shop:
    return open_shop(px)


def default_group(*items: dict[str, Any]) -> dict[str, Any]:
    """One segment group as the reference's scripts write it: no boolean_operator anywhere."""
    return {"segment_group_targets": [{"segments": list(items)}]}


def test_a_group_without_operator_is_or_for_evaluate_and_for_the_ad_call(
    px: Pixel, shop: Shop
) -> None:
    a, b = shop.segment("A", code="a"), shop.segment("B", code="b")
    target, fallback = shop.creative("Either"), shop.creative("Fallback")
    line_item = shop.line_item(target, 10, default_group({"code": "a"}, {"id": b["id"]}))
    shop.line_item(fallback, 1)
    px.sync()
    browser = px.browser()
    assert_gif(browser.seg(f"add={b['id']}"))  # in B only: `and` would not match, `or` does
    px.clock.advance(2)  # past the bidder cache's TTL
    body = px.api.ok(
        "POST",
        "/targeting/evaluate",
        {"user_id": browser.uid, "profile": default_group({"id": a["id"]}, {"id": b["id"]})},
    )
    assert body["match"] is True, body
    body = px.api.ok(
        "POST", "/targeting/evaluate", {"user_id": browser.uid, "line_item_id": line_item["id"]}
    )
    assert body["match"] is True and [i["segment_id"] for i in body["items"]] == [a["id"], b["id"]]
    ad = served(browser, shop.placement["id"])
    assert ad is not None and ad["line_item_id"] == line_item["id"]
    nobody = px.browser()
    assert_gif(nobody.seg(f"add={shop.segment('C')['id']}"))
    ad = served(nobody, shop.placement["id"])
    assert ad is not None and ad["creative_id"] == fallback["id"]
    # evaluate names segments by code too: the caller's member, or ?member_id=
    body = px.api.ok(
        "POST",
        f"/targeting/evaluate?member_id={shop.member_id}",
        {
            "user_id": browser.uid,
            "profile": default_group({"code": "b", "name": "B, as named there"}),
        },
    )
    assert body["match"] is True and body["items"][0]["segment_id"] == b["id"]


def test_text_values_kept_from_the_ad_call_are_targetable(px: Pixel, shop: Shop) -> None:
    makes = shop.segment(
        "Makes",
        expire_minutes=1440,
        querystring_mapping={"param": "make", "values": ["ford*", "bmw"]},
    )
    ford, kas, fallback = shop.creative("Ford"), shop.creative("Ka"), shop.creative("Fallback")
    exact = shop.line_item(ford, 10, default_group({"id": makes["id"], "other_equals": "FORD"}))
    listed = shop.line_item(
        kas, 9, default_group({"id": makes["id"], "other_in_list": ["Ford-Ka", "ford-fiesta"]})
    )
    shop.line_item(fallback, 1)
    px.sync()

    def next_ad(query: str) -> dict[str, Any] | None:
        browser = px.browser()
        served(browser, shop.placement["id"], query)  # the ad call that keeps the text
        return served(browser, shop.placement["id"])  # targetable from the next call

    assert next_ad("make=Ford")["line_item_id"] == exact["id"]  # type: ignore[index]
    assert next_ad("make=FORD-KA")["line_item_id"] == listed["id"]  # type: ignore[index]
    assert next_ad("make=bmw")["creative_id"] == fallback["id"]  # type: ignore[index]
    # a later ad call with another make replaces the kept text, as a value is replaced
    browser = px.browser()
    served(browser, shop.placement["id"], "make=ford")
    served(browser, shop.placement["id"], "make=ford-fiesta")
    assert served(browser, shop.placement["id"])["line_item_id"] == listed["id"]  # type: ignore[index]
    stored = px.read_store(browser.uid)
    assert [m.text for m in stored.memberships if m.segment_id == makes["id"]] == ["ford-fiesta"]
    # a pixel add of the same segment brings no text: the kept one stays
    assert_gif(browser.seg(f"add={makes['id']}"))
    assert served(browser, shop.placement["id"])["line_item_id"] == listed["id"]  # type: ignore[index]


def test_a_zero_minute_text_segment_counts_in_the_same_call(px: Pixel, shop: Shop) -> None:
    now = shop.segment(
        "Now", expire_minutes=0, querystring_mapping={"param": "kw", "values": ["shoes", "hats"]}
    )
    hats, fallback = shop.creative("Hats"), shop.creative("Fallback")
    shop.line_item(hats, 10, default_group({"id": now["id"], "other_equals": "hats"}))
    shop.line_item(fallback, 1)
    px.sync()
    assert served(px.browser(), shop.placement["id"], "kw=Hats")["creative_id"] == hats["id"]  # type: ignore[index]
    assert served(px.browser(), shop.placement["id"], "kw=shoes")["creative_id"] == fallback["id"]  # type: ignore[index]
