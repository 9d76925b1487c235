"""Bulk bodies and id lists (SPEC §2, §2.1): `{"segments": [...]}` on POST and PUT and
`DELETE ?id=1,2,3`, each all or nothing in one transaction, an error naming the item."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import ApiClient, error_of


@pytest.fixture
def admin(api: ApiClient) -> ApiClient:
    return api.login()


@pytest.fixture
def member(admin: ApiClient) -> dict[str, Any]:
    return admin.make_member()


def segments_of(admin: ApiClient, member: dict[str, Any]) -> list[dict[str, Any]]:
    return admin.ok("GET", f"/segment?member_id={member['id']}")["segments"]


def test_a_bulk_post_creates_every_object(admin: ApiClient, member: dict[str, Any]) -> None:
    body = {"segments": [{"short_name": f"S{i}", "code": f"s{i}"} for i in range(3)]}
    answer = admin.ok("POST", f"/segment?member_id={member['id']}", body)
    assert answer["count"] == 3 and len(answer["ids"]) == 3
    assert [s["code"] for s in answer["segments"]] == ["s0", "s1", "s2"]
    assert all("daily_loads" in s for s in answer["segments"]), "quick stats, as on a GET"
    assert [s["id"] for s in segments_of(admin, member)] == answer["ids"]


def test_a_bulk_post_failing_on_one_item_creates_none(
    admin: ApiClient, member: dict[str, Any]
) -> None:
    admin.make_segment(f"member_id={member['id']}", code="taken")
    body = {"segments": [{"short_name": "A", "code": "a"}, {"short_name": "B", "code": "TAKEN"}]}
    response = admin.post(f"/segment?member_id={member['id']}", body)
    sentence = error_of(response, 409, "INTEGRITY")
    assert sentence.startswith("segments[1]"), sentence
    assert response.json()["response"]["errors"][0]["field"] == "segments[1].code"
    assert [s["code"] for s in segments_of(admin, member)] == ["taken"]


def test_a_bulk_put_that_fails_on_item_3_changes_nothing(
    admin: ApiClient, member: dict[str, Any]
) -> None:
    made = [
        admin.make_segment(f"member_id={member['id']}", f"S{i}", expire_minutes=60)
        for i in range(4)
    ]
    body = {
        "segments": [
            {"id": made[0]["id"], "expire_minutes": 120},
            {"id": made[1]["id"], "short_name": "Renamed"},
            {"id": made[2]["id"], "expire_minutes": 999_999},  # beyond 180 days
            {"id": made[3]["id"], "expire_minutes": 120},
        ]
    }
    response = admin.put("/segment", body)
    sentence = error_of(response, 400, "SYNTAX")
    assert sentence.startswith("segments[2].expire_minutes"), sentence
    fields = [e["field"] for e in response.json()["response"]["errors"]]
    assert fields == ["segments[2].expire_minutes"]
    after = {s["id"]: s for s in segments_of(admin, member)}
    for before in made:
        assert after[before["id"]]["expire_minutes"] == 60
        assert after[before["id"]]["short_name"] == before["short_name"]


def test_a_bulk_put_names_each_object_by_its_id(admin: ApiClient, member: dict[str, Any]) -> None:
    # The reference's example: one key, several values, each value a segment of its own.
    made = [admin.make_segment(f"member_id={member['id']}", g) for g in ("rock", "pop", "funk")]
    body = {
        "segments": [
            {
                "id": s["id"],
                "querystring_mapping_key_value": {
                    "qs_key": "music_genre",
                    "qs_value": s["short_name"],
                },
            }
            for s in made
        ]
    }
    answer = admin.ok("PUT", f"/segment?member_id={member['id']}", body)
    assert answer["ids"] == [s["id"] for s in made]
    assert [s["type"] for s in answer["segments"]] == ["querystring_key_value"] * 3
    # an item without an id cannot be placed; ?id= names the one item of a one-item list
    response = admin.put("/segment", {"segments": [{"short_name": "x"}]})
    assert "segments[0].id" in error_of(response, 400, "SYNTAX")
    one = admin.ok("PUT", f"/segment?id={made[0]['id']}", {"segments": [{"short_name": "Rock"}]})
    assert one["segments"][0]["short_name"] == "Rock"
    response = admin.put(f"/segment?id={made[0]['id']}", {"segments": [{"id": made[1]["id"]}]})
    assert "segments[0].id" in error_of(response, 400, "SYNTAX")


def test_bulk_bodies_on_other_services(admin: ApiClient, member: dict[str, Any]) -> None:
    body = {"advertisers": [{"name": "A", "code": "a"}, {"name": "B", "code": "b"}]}
    answer = admin.ok("POST", f"/advertiser?member_id={member['id']}", body)
    ids = answer["ids"]
    assert [a["code"] for a in answer["advertisers"]] == ["a", "b"]
    body = {"advertisers": [{"id": ids[0], "state": "inactive"}, {"id": ids[1], "code": "A"}]}
    response = admin.put("/advertiser", body)
    assert error_of(response, 409, "INTEGRITY").startswith("advertisers[1]")
    assert admin.ok("GET", f"/advertiser?id={ids[0]}")["advertiser"]["state"] == "active"
    # the payload keys of hyphenated services, in bulk too
    pixels = {
        "usersync-pixels": [{"name": f"P{i}", "url": f"https://s{i}.example/"} for i in range(2)]
    }
    assert admin.ok("POST", f"/usersync-pixel?member_id={member['id']}", pixels)["count"] == 2
    # one of the two forms, not both, not neither
    both = {"advertiser": {"name": "C"}, "advertisers": [{"name": "D"}]}
    sentence = error_of(admin.post(f"/advertiser?member_id={member['id']}", both), 400, "SYNTAX")
    assert '{"advertiser": {...}} or {"advertisers": [...]}' in sentence
    empty = {"advertisers": []}
    assert "advertisers" in error_of(
        admin.post(f"/advertiser?member_id={member['id']}", empty), 400, "SYNTAX"
    )


def test_delete_a_list_of_ids_all_or_nothing(admin: ApiClient, member: dict[str, Any]) -> None:
    m = f"member_id={member['id']}"
    a, b, c, used = (admin.make_segment(m, name) for name in ("A", "B", "C", "Used"))
    advertiser = admin.make_advertiser(member["id"])
    body = {"line-item": {"name": "LI", "profile": {"segment_targets": [{"id": used["id"]}]}}}
    admin.ok("POST", f"/line-item?advertiser_id={advertiser['id']}", body)
    # one id unknown: nothing is deleted
    response = admin.delete(f"/segment?id={a['id']},{b['id']},99999")
    assert "99999" in error_of(response, 404, "NOTFOUND")
    # one in use: nothing is deleted
    response = admin.delete(f"/segment?id={a['id']},{used['id']}")
    assert "line item" in error_of(response, 409, "INTEGRITY")
    assert len(segments_of(admin, member)) == 4
    answer = admin.ok("DELETE", f"/segment?id={a['id']},{b['id']},{c['id']}")
    assert answer["ids"] == [a["id"], b["id"], c["id"]] and answer["count"] == 3
    assert [s["id"] for s in segments_of(admin, member)] == [used["id"]]
    # every service takes the list
    pubs = admin.ok(
        "POST",
        f"/publisher?member_id={member['id']}",
        {"publishers": [{"name": "X"}, {"name": "Y"}]},
    )["ids"]
    assert admin.ok("DELETE", f"/publisher?id={pubs[0]},{pubs[1]}")["ids"] == pubs
