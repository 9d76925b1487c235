"""`/creative` and `/line-item` (SPEC §1.5, §2, §7): every verb, the segments and creatives they
name, what a segment in use protects, and who may do what."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import ApiClient, error_of


@pytest.fixture
def admin(api: ApiClient) -> ApiClient:
    return api.login()


@pytest.fixture
def world(admin: ApiClient) -> dict[str, Any]:
    member = admin.make_member()
    advertiser = admin.make_advertiser(member["id"], "Cars")
    rival = admin.make_advertiser(member["id"], "Boats")
    m = f"member_id={member['id']}"
    return {
        "member": member,
        "advertiser": advertiser,
        "rival": rival,
        "shared": admin.make_segment(m, "Shared"),
        "own": admin.make_segment(f"advertiser_id={advertiser['id']}", "Own"),
        "rivals": admin.make_segment(f"advertiser_id={rival['id']}", "Rivals"),
        "foreign": admin.make_segment(f"member_id={admin.make_member('Other')['id']}", "Foreign"),
    }


def creative_body(**fields: Any) -> dict[str, Any]:
    return {
        "creative": {
            "name": "Ford",
            "width": 300,
            "height": 250,
            "content": "<b>Ford</b>",
            **fields,
        }
    }


def make_creative(admin: ApiClient, advertiser_id: int, **fields: Any) -> dict[str, Any]:
    return admin.ok("POST", f"/creative?advertiser_id={advertiser_id}", creative_body(**fields))[
        "creative"
    ]


def make_line_item(admin: ApiClient, advertiser_id: int, **fields: Any) -> dict[str, Any]:
    body = {"line-item": {"name": "Spring", **fields}}
    return admin.ok("POST", f"/line-item?advertiser_id={advertiser_id}", body)["line-item"]


def test_a_creative_with_its_segment_actions(admin: ApiClient, world: dict[str, Any]) -> None:
    adv = world["advertiser"]
    actions = [
        {"id": world["shared"]["id"], "action": "add_on_view"},
        {"id": world["own"]["id"], "action": "add_on_click"},
    ]
    creative = make_creative(admin, adv["id"], click_url="https://ford.example/", segments=actions)
    assert creative["advertiser_id"] == adv["id"] and creative["member_id"] == world["member"]["id"]
    assert creative["segments"] == sorted(actions, key=lambda a: a["id"])
    assert (creative["width"], creative["media_url"], creative["state"]) == (300, None, "active")
    appended = admin.ok(
        "PUT",
        f"/creative?id={creative['id']}&append=true",
        {"creative": {"segments": [{"id": world["shared"]["id"], "action": "add_on_click"}]}},
    )["creative"]
    assert len(appended["segments"]) == 3
    replaced = admin.ok(
        "PUT", f"/creative?id={creative['id']}", {"creative": {"segments": [], "name": "Renamed"}}
    )["creative"]
    assert replaced["segments"] == [] and replaced["content"] == "<b>Ford</b>"
    listed = admin.ok("GET", f"/creative?advertiser_id={adv['id']}")
    assert listed["count"] == 1 and listed["creatives"][0]["name"] == "Renamed"


@pytest.mark.parametrize(
    ("which", "fragment"),
    [
        pytest.param("rivals", "must be a member-level segment or one of advertiser", id="rival"),
        pytest.param("foreign", "must be a segment of member", id="other-member"),
        pytest.param(
            "missing", "must be a segment you can see (segment 999999 not found)", id="gone"
        ),
    ],
)
def test_a_creative_adds_to_member_level_or_its_own_segments_only(
    admin: ApiClient, world: dict[str, Any], which: str, fragment: str
) -> None:
    sid = world[which]["id"] if which in world else 999_999
    response = admin.post(
        f"/creative?advertiser_id={world['advertiser']['id']}",
        creative_body(segments=[{"id": sid, "action": "add_on_view"}]),
    )
    sentence = error_of(response, 400, "SYNTAX")
    assert sentence.startswith("segments[0].id ") and fragment in sentence, sentence


def test_creative_validation_reaches_the_api_with_field_names(
    admin: ApiClient, world: dict
) -> None:
    url = f"/creative?advertiser_id={world['advertiser']['id']}"
    response = admin.post(url, creative_body(media_url="https://cdn.example/a.png", height=0))
    body = response.json()["response"]
    assert response.status_code == 400 and body["error_id"] == "SYNTAX"
    assert [e["field"] for e in body["errors"]] == ["height", "content"]
    response = admin.post(url, creative_body(segments=[{"id": 1, "action": "add_on_hover"}]))
    assert "segments[0].action must be 'add_on_view' or 'add_on_click'" in error_of(
        response, 400, "SYNTAX"
    )
    response = admin.post("/creative", creative_body())
    assert (
        error_of(response, 400, "SYNTAX")
        == "advertiser_id is required (as ?advertiser_id= or in the body)"
    )


def test_a_line_item_with_creatives_and_a_profile(admin: ApiClient, world: dict[str, Any]) -> None:
    adv = world["advertiser"]
    creative = make_creative(admin, adv["id"])
    profile = {
        "segment_boolean_operator": "or",
        "segment_group_targets": [
            {
                "boolean_operator": "and",
                "segments": [{"id": world["shared"]["id"], "expire_minutes": 60}],
            },
            {"segments": [{"id": world["own"]["id"], "action": "exclude", "other_greater": 2}]},
        ],
    }
    item = make_line_item(
        admin, adv["id"], priority=12, weight=3, creatives=[creative["id"]], profile=profile
    )
    assert (item["priority"], item["weight"], item["state"]) == (12, 3, "active")
    assert item["creatives"] == [{"id": creative["id"]}]
    stored = item["profile"]["segment_group_targets"]
    assert stored[0]["segments"][0] == {
        "id": world["shared"]["id"],
        "action": "include",
        "start_minutes": 0,
        "expire_minutes": 60,
        "other_equals": None,
        "other_less": None,
        "other_greater": None,
        "other_in_list": None,
        "min_count": None,
        "within_minutes": None,
    }
    assert stored[1]["boolean_operator"] == "or"  # a group's default, as the reference's
    default = make_line_item(admin, adv["id"], creatives=[{"id": creative["id"]}])
    assert (default["priority"], default["weight"], default["profile"]) == (5, None, None)
    flat = admin.ok(
        "PUT",
        f"/line-item?id={default['id']}",
        {"line-item": {"profile": {"segment_targets": [{"id": world["shared"]["id"]}]}}},
    )["line-item"]
    assert list(flat["profile"]) == ["segment_boolean_operator", "segment_targets"]
    assert flat["creatives"] == [{"id": creative["id"]}]  # not sent: kept


def test_line_item_rules_reach_the_api(admin: ApiClient, world: dict[str, Any]) -> None:
    adv, rival = world["advertiser"], world["rival"]
    theirs = make_creative(admin, rival["id"])
    url = f"/line-item?advertiser_id={adv['id']}"
    cases = [
        ({"priority": 21}, "priority must be between 1 and 20 (got 21)"),
        (
            {"creatives": [theirs["id"]]},
            f"creatives[0] must be a creative of advertiser {adv['id']}",
        ),
        ({"creatives": [999_999]}, "creatives[0] creative 999999 not found"),
        (
            {"profile": {"segment_targets": [{"id": world["rivals"]["id"]}]}},
            "profile.segment_targets[0].id must be a member-level segment or one of advertiser",
        ),
        (
            {
                "profile": {
                    "segment_targets": [{"id": 1}],
                    "segment_group_targets": [{"segments": [{"id": 1}]}],
                }
            },
            "profile.segment_group_targets and segment_targets cannot both be set",
        ),
        ({"profile": []}, "profile: input should be a valid dictionary"),
    ]
    for fields, fragment in cases:
        response = admin.post(url, {"line-item": {"name": "x", **fields}})
        assert fragment in error_of(response, 400, "SYNTAX"), fields
    assert admin.ok("GET", "/line-item")["count"] == 0


def test_segments_and_creatives_in_use_cannot_be_deleted(admin: ApiClient, world: dict) -> None:
    adv = world["advertiser"]
    shared, own = world["shared"], world["own"]
    creative = make_creative(
        admin, adv["id"], segments=[{"id": shared["id"], "action": "add_on_view"}]
    )
    item = make_line_item(
        admin,
        adv["id"],
        creatives=[creative["id"]],
        profile={"segment_targets": [{"id": own["id"]}, {"id": shared["id"]}]},
    )
    assert error_of(admin.delete(f"/segment?id={shared['id']}"), 409, "INTEGRITY") == (
        f"segment {shared['id']} is still used by creative(s) {creative['id']} and line item(s) "
        f"{item['id']}; change them first"
    )
    assert "line item(s)" in error_of(admin.delete(f"/segment?id={own['id']}"), 409, "INTEGRITY")
    assert error_of(admin.delete(f"/creative?id={creative['id']}"), 409, "INTEGRITY") == (
        f"creative {creative['id']} is still used by 1 line item(s); delete or change them first"
    )
    solo = admin.make_advertiser(world["member"]["id"], "Solo")
    make_creative(admin, solo["id"])
    assert error_of(admin.delete(f"/advertiser?id={solo['id']}"), 409, "INTEGRITY") == (
        f"advertiser {solo['id']} still has 1 creatives; delete them first"
    )
    admin.ok("PUT", f"/line-item?id={item['id']}", {"line-item": {"profile": None}})
    admin.ok("DELETE", f"/segment?id={own['id']}")  # no longer targeted
    admin.ok("DELETE", f"/line-item?id={item['id']}")
    admin.ok("DELETE", f"/creative?id={creative['id']}")
    admin.ok("DELETE", f"/segment?id={shared['id']}")


def test_an_advertiser_user_manages_its_own_creatives_and_line_items(
    admin: ApiClient, world: dict[str, Any]
) -> None:
    member, adv, rival = world["member"], world["advertiser"], world["rival"]
    theirs = make_creative(admin, rival["id"])
    buyer = admin.make_user("buyer", "advertiser", member_id=member["id"], advertiser_id=adv["id"])
    mine = buyer.ok("POST", "/creative", creative_body())["creative"]  # its advertiser implied
    assert mine["advertiser_id"] == adv["id"]
    item = buyer.ok(
        "POST",
        "/line-item",
        {
            "line-item": {
                "name": "Mine",
                "creatives": [mine["id"]],
                "profile": {"segment_targets": [{"id": world["own"]["id"]}]},
            }
        },
    )["line-item"]
    assert [c["id"] for c in buyer.ok("GET", "/creative")["creatives"]] == [mine["id"]]
    error_of(buyer.get(f"/creative?id={theirs['id']}"), 404, "NOTFOUND")
    error_of(buyer.post(f"/creative?advertiser_id={rival['id']}", creative_body()), 404, "NOTFOUND")
    response = buyer.put(
        f"/line-item?id={item['id']}", {"line-item": {"advertiser_id": rival["id"]}}
    )
    assert error_of(response, 400, "SYNTAX") == (
        "advertiser_id cannot be changed: a line item stays with its advertiser"
    )
    owner = admin.make_user("owner", "member", member_id=member["id"])
    assert owner.ok("GET", "/line-item")["count"] == 1
    outsider_member = admin.make_member("Elsewhere")
    outsider = admin.make_user("outsider", "member", member_id=outsider_member["id"])
    assert outsider.ok("GET", "/creative")["count"] == 0
    error_of(outsider.delete(f"/line-item?id={item['id']}"), 404, "NOTFOUND")
