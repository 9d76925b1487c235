"""Round trips (SPEC §2.1): what a GET returns can be sent back, for every service; the fields
the reference documents but segpixel does not implement are accepted, not stored and named in
`dbg_info.warnings`; a typo is still SYNTAX naming it. Over HTTP and in-process, on SQLite and
PostgreSQL catalogs."""

from __future__ import annotations

from typing import Any

import pytest

from segpixel.api.service_fields import SERVICES
from tests.helpers import ApiClient, error_of


@pytest.fixture
def admin(api: ApiClient) -> ApiClient:
    return api.login()


@pytest.fixture
def world(admin: ApiClient) -> dict[str, dict[str, Any]]:
    """One object of every service of SPEC §2, each with its optional fields filled in."""
    member = admin.make_member("Acme", redirect_domains=["shop.example"])
    mid = member["id"]
    advertiser = admin.make_advertiser(mid, "Cars", code="cars")
    publisher = admin.ok("POST", f"/publisher?member_id={mid}", {"publisher": {"name": "News"}})
    publisher = publisher["publisher"]
    site = admin.ok("POST", f"/site?publisher_id={publisher['id']}", {"site": {"name": "news"}})
    site = site["site"]
    placement = admin.ok("POST", f"/placement?site_id={site['id']}", {"placement": {"name": "T"}})
    segment = admin.make_segment(
        f"member_id={mid}",
        "Car buyers",
        code="car_buyers",
        description="people who look at cars",
        expire_minutes=1440,
        piggyback_pixels=[{"url": "https://pb.example/p.gif", "pixel_type": "img"}],
    )
    text = admin.make_segment(
        f"member_id={mid}",
        "Makes",
        querystring_mapping={
            "param": "make",
            "values": ["ford", "bmw*"],
            "publishers": [{"id": publisher["id"]}],
        },
    )
    creative = admin.ok(
        "POST",
        f"/creative?advertiser_id={advertiser['id']}",
        {
            "creative": {
                "name": "Ford",
                "width": 300,
                "height": 250,
                "content": "<b>Ford</b>",
                "click_url": "https://shop.example/ford",
                "segments": [{"id": segment["id"], "action": "add_on_click"}],
            }
        },
    )["creative"]
    line_item = admin.ok(
        "POST",
        f"/line-item?advertiser_id={advertiser['id']}",
        {
            "line-item": {
                "name": "Spring",
                "priority": 7,
                "creatives": [creative["id"]],
                "profile": {
                    "segment_group_targets": [
                        {
                            "segments": [
                                {"id": segment["id"]},
                                {"id": text["id"], "action": "exclude"},
                            ]
                        }
                    ]
                },
            }
        },
    )["line-item"]
    usersync = admin.ok(
        "POST",
        f"/usersync-pixel?member_id={mid}",
        {"usersync-pixel": {"name": "P", "url": "https://sync.example/?u=${UID}", "priority": 3}},
    )["usersync-pixel"]
    user = admin.ok(
        "POST",
        "/user",
        {
            "user": {
                "username": "ops",
                "password": "password-123",
                "role": "member",
                "member_id": mid,
            }
        },
    )["user"]
    return {
        "member": member,
        "advertiser": advertiser,
        "segment": segment,
        "usersync-pixel": usersync,
        "user": user,
        "publisher": publisher,
        "site": site,
        "placement": placement["placement"],
        "creative": creative,
        "line-item": line_item,
    }


CRUD = [key for key in SERVICES if key not in ("report", "batch-segment")]


def got(admin: ApiClient, key: str, object_id: int) -> dict[str, Any]:
    return admin.ok("GET", f"/{key}?id={object_id}")[key]


def unchanged(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What differs between two GETs, but for the fields that move by themselves."""
    moving = {"last_modified", "active_users_24h", "daily_loads"}
    return {
        k: (v, after.get(k)) for k, v in before.items() if k not in moving and after.get(k) != v
    }


@pytest.mark.parametrize("key", CRUD)
def test_a_get_body_put_back_whole_changes_nothing(
    admin: ApiClient, world: dict[str, dict[str, Any]], key: str
) -> None:
    obj = world[key]
    body = got(admin, key, obj["id"])
    answer = admin.ok("PUT", f"/{key}?id={obj['id']}", {key: body})
    assert "dbg_info" not in answer, answer  # nothing was ignored: every field is ours
    assert unchanged(body, answer[key]) == {}
    assert unchanged(body, got(admin, key, obj["id"])) == {}
    # the body's own id names the object as well as ?id= does (what save() of a client sends)
    answer = admin.ok("PUT", f"/{key}", {key: body})
    assert answer["id"] == obj["id"] and unchanged(body, answer[key]) == {}


@pytest.mark.parametrize("key", CRUD)
def test_a_typo_is_still_refused_naming_it(
    admin: ApiClient, world: dict[str, dict[str, Any]], key: str
) -> None:
    obj = world[key]
    body = {**got(admin, key, obj["id"]), "nmae": "x"}
    sentence = error_of(admin.put(f"/{key}?id={obj['id']}", {key: body}), 400, "SYNTAX")
    assert "nmae" in sentence and "not a known field" in sentence, sentence


@pytest.mark.parametrize("key", [k for k in CRUD if SERVICES[k].unimplemented])
def test_reference_fields_not_implemented_are_accepted_ignored_and_named(
    admin: ApiClient, world: dict[str, dict[str, Any]], key: str
) -> None:
    obj = world[key]
    names = SERVICES[key].unimplemented[:3]
    body = {**got(admin, key, obj["id"]), **{name: 1 for name in names}}
    answer = admin.ok("PUT", f"/{key}?id={obj['id']}", {key: body})
    warnings = answer["dbg_info"]["warnings"]
    assert len(warnings) == len(names), warnings
    for name, warning in zip(names, warnings, strict=True):
        assert warning.startswith(f"{name} is documented by the reference but not implemented")
    stored = got(admin, key, obj["id"])
    assert not set(names) & set(stored), "accepted, never stored nor shown"


def test_the_segment_fields_of_the_reference_are_named_in_the_warnings(
    admin: ApiClient, world: dict[str, dict[str, Any]]
) -> None:
    # The list, at least, and every one of them in one PUT.
    wanted = (
        "category",
        "price",
        "enable_rm_piggyback",
        "parent_segment_id",
        "provider_id",
        "data_segment_type_id",
        "data_category_id",
        "last_activity",
    )
    seg = world["segment"]
    body = {"segment": {name: None for name in wanted}}
    warnings = admin.ok("PUT", f"/segment?id={seg['id']}", body)["dbg_info"]["warnings"]
    assert [w.split()[0] for w in warnings] == list(wanted)


def test_a_segment_as_the_reference_answers_it_can_be_posted(
    admin: ApiClient, world: dict[str, dict[str, Any]]
) -> None:
    # The reference's own "View a segment" answer (segment-service.md), with its read-only and
    # unimplemented fields, POSTed as a migration script does: a new segment, warnings, no error.
    reference = {
        "id": 11836,
        "code": None,
        "state": "active",
        "short_name": "March 10",
        "description": None,
        "member_id": world["member"]["id"],
        "category": None,
        "price": "0",
        "expire_minutes": None,
        "enable_rm_piggyback": True,
        "max_usersync_pixels": 0,
        "last_modified": "2010-03-10 23:23:48",
        "provider": None,
        "parent_segment_id": None,
        "advertiser_id": world["advertiser"]["id"],
        "piggyback_pixels": None,
        "querystring_mapping": {
            "param": "experience_level",
            "value_type": "text",
            "values": ["beginner", "advanced"],
            "publishers": [{"id": world["publisher"]["id"], "name": "Publisher 6"}],
            "sites": None,
            "placements": None,
        },
    }
    answer = admin.ok("POST", "/segment", {"segment": reference})
    made = answer["segment"]
    assert made["id"] != 11836 and made["short_name"] == "March 10"
    assert made["advertiser_id"] == world["advertiser"]["id"]
    assert made["querystring_mapping"]["publishers"] == [{"id": world["publisher"]["id"]}]
    warnings = answer["dbg_info"]["warnings"]
    assert warnings[0].startswith("id is assigned by segpixel"), warnings
    named = {w.split()[0] for w in warnings[1:]}
    assert named == {"category", "price", "enable_rm_piggyback", "provider", "parent_segment_id"}


def test_read_only_fields_must_agree_when_they_name_something(
    admin: ApiClient, world: dict[str, dict[str, Any]]
) -> None:
    seg = world["segment"]
    other = world["user"]["id"] + 1000
    sentence = error_of(
        admin.put(f"/segment?id={seg['id']}", {"segment": {"id": other}}), 400, "SYNTAX"
    )
    assert "id" in sentence and str(seg["id"]) in sentence and str(other) in sentence
    # the type is derived from the mappings: sent back, it must say what the segment is
    sentence = error_of(
        admin.put(f"/segment?id={seg['id']}", {"segment": {"type": "querystring"}}), 400, "SYNTAX"
    )
    assert "type" in sentence and "'pixel'" in sentence, sentence
    body = {
        "segment": {
            "type": "querystring",
            "querystring_mapping": {"param": "colour", "values": ["red"]},
        }
    }
    assert admin.ok("PUT", f"/segment?id={seg['id']}", body)["segment"]["type"] == "querystring"
    # member_id is the owner: unchanged it is accepted, another one is refused
    moved = {"advertiser": {"member_id": world["member"]["id"] + 1}}
    sentence = error_of(
        admin.put(f"/advertiser?id={world['advertiser']['id']}", moved), 400, "SYNTAX"
    )
    assert "member_id" in sentence


def test_quick_stats_and_last_modified_sent_back_are_ignored(
    admin: ApiClient, world: dict[str, dict[str, Any]]
) -> None:
    seg = world["segment"]
    body = {
        "segment": {
            "short_name": "Renamed",
            "last_modified": "1999-01-01 00:00:00",
            "active_users_24h": 123456,
            "daily_loads": {"today": 9, "yesterday": 9},
        }
    }
    answer = admin.ok("PUT", f"/segment?id={seg['id']}", body)
    assert "dbg_info" not in answer
    assert answer["segment"]["short_name"] == "Renamed"
    assert answer["segment"]["last_modified"] != "1999-01-01 00:00:00"


def test_allow_empty_text_with_values_null_is_valid(
    admin: ApiClient, world: dict[str, dict[str, Any]]
) -> None:
    mapping = {"param": "ref", "value_type": "text", "values": None, "allow_empty_text": True}
    made = admin.make_segment(
        f"member_id={world['member']['id']}", "Any", querystring_mapping=mapping
    )
    assert made["querystring_mapping"]["allow_empty_text"] is True
    assert made["querystring_mapping"]["values"] == []
    # without allow_empty_text, no values is still a rule broken, named
    mapping = {"param": "ref2", "value_type": "text", "values": None}
    response = admin.post(
        f"/segment?member_id={world['member']['id']}",
        {"segment": {"short_name": "x", "querystring_mapping": mapping}},
    )
    assert "querystring_mapping.values" in error_of(response, 400, "SYNTAX")


def test_line_item_creatives_as_the_reference_shows_them(
    admin: ApiClient, world: dict[str, dict[str, Any]]
) -> None:
    li, creative = world["line-item"], world["creative"]
    shown = [
        {"id": creative["id"], "name": "Ford", "width": 300, "state": "active", "is_expired": False}
    ]
    answer = admin.ok("PUT", f"/line-item?id={li['id']}", {"line-item": {"creatives": shown}})
    assert answer["line-item"]["creatives"] == [{"id": creative["id"]}]
