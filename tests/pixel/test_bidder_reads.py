"""Bidder-facing reads over HTTP on both profile stores (SPEC §7): `/user/segments`,
`/targeting/evaluate`, `/openrtb/user-data` — authenticated, and per member."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import ApiClient, error_of
from tests.pixel.ads import Shop, group, open_shop
from tests.pixel.conftest import Pixel, assert_gif, epoch


@pytest.fixture
def shop(px: Pixel) -> Shop:
    return open_shop(px)


def visitor_in(px: Pixel, *adds: str) -> str:
    """A browser's id after one pixel call adding `adds` (e.g. "12:5")."""
    browser = px.browser()
    assert_gif(browser.seg(f"add={','.join(adds)}"))
    assert browser.uid is not None
    px.clock.advance(2)  # past the bidder cache's TTL: the next read sees this add
    return browser.uid


def test_user_segments_lists_the_members_active_memberships(px: Pixel, shop: Shop) -> None:
    a = shop.segment("A", code="a")
    b = shop.segment("B")
    theirs = open_shop(px, "Other").segment("Theirs")
    px.sync()
    uid = visitor_in(px, f"{a['id']}:7", str(b["id"]), str(theirs["id"]))
    body = px.api.ok("GET", f"/user/segments?id={uid}&member_id={shop.member_id}")
    assert body["user_id"] == uid and body["count"] == 2
    by_id = {s["id"]: s for s in body["segments"]}
    assert set(by_id) == {a["id"], b["id"]}
    first = by_id[a["id"]]
    assert (first["code"], first["value"], first["count"]) == ("a", 7, 1)
    assert epoch(first["expires_at"]) > epoch(first["last_added"]) >= epoch(first["first_added"])
    unknown = px.api.ok("GET", f"/user/segments?id=12345&member_id={shop.member_id}")
    assert unknown["segments"] == []


def test_bidder_reads_need_a_login_and_stay_within_the_callers_member(
    px: Pixel, shop: Shop
) -> None:
    a = shop.segment("A")
    other = open_shop(px, "Other")
    px.sync()
    uid = visitor_in(px, str(a["id"]))
    anonymous = ApiClient(px.api.client)
    error_of(anonymous.get(f"/user/segments?id={uid}&member_id={shop.member_id}"), 401, "NOAUTH")
    outsider = px.api.make_user(f"o{other.member_id}", "member", member_id=other.member_id)
    error_of(outsider.get(f"/user/segments?id={uid}&member_id={shop.member_id}"), 403, "UNAUTH")
    # a member user's own member is implied
    own = outsider.ok("GET", f"/user/segments?id={uid}")
    assert own["member_id"] == other.member_id and own["segments"] == []
    body = {"user_id": uid, "profile": group({"id": a["id"]})}
    sentence = error_of(outsider.post("/targeting/evaluate", body), 400, "SYNTAX")
    assert "segment_group_targets[0].segments[0].id must be a segment you can see" in sentence
    rtb = {"id": "r1", "user": {"id": uid}}
    error_of(outsider.post(f"/openrtb/user-data?member_id={shop.member_id}", rtb), 403, "UNAUTH")


def test_an_advertiser_user_reads_member_level_and_its_own_segments_only(
    px: Pixel, shop: Shop
) -> None:
    shared = shop.segment("Shared")
    mine = px.api.make_segment(f"advertiser_id={shop.advertiser['id']}", "Mine")
    rival = px.api.make_advertiser(shop.member_id, "Rival")
    theirs = px.api.make_segment(f"advertiser_id={rival['id']}", "Theirs")
    px.sync()
    uid = visitor_in(px, str(shared["id"]), str(mine["id"]), str(theirs["id"]))
    user = px.api.make_user(
        f"adv{shop.advertiser['id']}",
        "advertiser",
        member_id=shop.member_id,
        advertiser_id=shop.advertiser["id"],
    )
    seen = user.ok("GET", f"/user/segments?id={uid}")["segments"]
    assert {s["id"] for s in seen} == {shared["id"], mine["id"]}


def test_evaluate_says_whether_and_why(px: Pixel, shop: Shop) -> None:
    a = shop.segment("A")
    b = shop.segment("B")
    px.sync()
    uid = visitor_in(px, f"{a['id']}:5")
    profile = group({"id": a["id"], "other_greater": 3}, {"id": b["id"], "action": "exclude"})
    body = px.api.ok("POST", "/targeting/evaluate", {"user_id": uid, "profile": profile})
    assert body["match"] is True and body["user_id"] == uid
    assert [i["matched"] for i in body["items"]] == [True, True]
    assert body["decided_by"]["index"] == 1
    profile = group({"id": a["id"], "other_greater": 5}, {"id": b["id"], "action": "exclude"})
    body = px.api.ok("POST", "/targeting/evaluate", {"user_id": int(uid), "profile": profile})
    assert body["match"] is False
    assert body["decided_by"]["segment_id"] == a["id"]
    assert "value 5, not greater than 5" in body["reason"]
    # a stored line item's profile
    creative = shop.creative("C")
    line_item = shop.line_item(creative, 5, group({"id": b["id"]}))
    body = px.api.ok(
        "POST", "/targeting/evaluate", {"user_id": uid, "line_item_id": line_item["id"]}
    )
    assert body["match"] is False and "not in segment" in body["reason"]


@pytest.mark.parametrize(
    ("body", "field", "fragment"),
    [
        pytest.param(
            {"user_id": "abc", "profile": {}},
            "user_id",
            "must be a number from 1 to 9223372036854775807",
            id="uid",
        ),
        pytest.param({"user_id": "1"}, "profile", "or line_item_id is required", id="neither"),
        pytest.param(
            {"user_id": "1", "profile": {"segment_targets": [{"id": 1, "action": "maybe"}]}},
            "profile.segment_targets[0].action",
            "must be 'include' or 'exclude'",
            id="rule",
        ),
    ],
)
def test_evaluate_validation(px: Pixel, body: dict[str, Any], field: str, fragment: str) -> None:
    sentence = error_of(px.api.post("/targeting/evaluate", body), 400, "SYNTAX")
    assert sentence.startswith(field) and fragment in sentence, sentence


def test_openrtb_user_data_fills_user_data_with_string_ids_and_values(
    px: Pixel, shop: Shop
) -> None:
    a = shop.segment("A")
    b = shop.segment("B")
    px.sync()
    uid = visitor_in(px, f"{a['id']}:42", str(b["id"]))
    request = {
        "id": "req-1",
        "imp": [{"id": "1", "banner": {"w": 300, "h": 250}}],
        "user": {
            "buyeruid": uid,
            "data": [
                {"id": "other-dmp", "segment": [{"id": "x"}]},
                {"id": str(shop.member_id), "segment": [{"id": "stale"}]},
            ],
        },
        "ext": {"keep": True},
    }
    response = px.api.post(f"/openrtb/user-data?member_id={shop.member_id}", request)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (
        answer["id"] == "req-1"
        and answer["imp"] == request["imp"]
        and answer["ext"] == {"keep": True}
    )
    data = answer["user"]["data"]
    assert data[0] == {"id": "other-dmp", "segment": [{"id": "x"}]}
    assert len(data) == 2  # our earlier entry is replaced, not repeated
    ours = data[1]
    assert ours["id"] == str(shop.member_id) and ours["name"] == "Acme"
    assert ours["segment"] == [{"id": str(a["id"]), "value": "42"}, {"id": str(b["id"])}]
    sentence = error_of(
        px.api.post(f"/openrtb/user-data?member_id={shop.member_id}", {"id": "r", "user": {}}),
        400,
        "SYNTAX",
    )
    assert sentence.startswith("user.id (or user.buyeruid) must hold our user id")
