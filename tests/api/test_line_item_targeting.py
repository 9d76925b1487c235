"""Line item profiles as the reference writes them (SPEC §7): the group default `or`, segments
named by `code`, `name` ignored, text values on text query-string segments — stored as ids, the
way every pixel server reads them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import ApiClient, error_of

ITEM = "profile.segment_group_targets[0].segments"


@pytest.fixture
def admin(api: ApiClient) -> ApiClient:
    return api.login()


@pytest.fixture
def world(admin: ApiClient) -> dict[str, Any]:
    member = admin.make_member()
    m = f"member_id={member['id']}"
    other = admin.make_member("Other")
    return {
        "member": member,
        "advertiser": admin.make_advertiser(member["id"]),
        "cars": admin.make_segment(m, "Cars", code="cars"),
        "boats": admin.make_segment(m, "Boats", code="Boats"),
        "makes": admin.make_segment(
            m, "Makes", code="makes", querystring_mapping={"param": "make", "values": ["ford*"]}
        ),
        "year": admin.make_segment(
            m, "Year", querystring_mapping={"param": "year", "value_type": "numeric"}
        ),
        "foreign": admin.make_segment(f"member_id={other['id']}", "Theirs", code="theirs"),
    }


def post(admin: ApiClient, world: dict[str, Any], *items: dict[str, Any], **group: Any) -> Any:
    profile = {"segment_group_targets": [{"segments": list(items), **group}]}
    body = {"line-item": {"name": "LI", "profile": profile}}
    return admin.post(f"/line-item?advertiser_id={world['advertiser']['id']}", body)


def stored(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return response.json()["response"]["line-item"]["profile"]["segment_group_targets"][0]


def test_a_group_without_boolean_operator_is_or(admin: ApiClient, world: dict[str, Any]) -> None:
    group = stored(post(admin, world, {"id": world["cars"]["id"]}, {"id": world["boats"]["id"]}))
    assert group["boolean_operator"] == "or"
    profile = {"segment_targets": [{"id": world["cars"]["id"]}]}  # the flat form: `and`
    body = {"line-item": {"name": "Flat", "profile": profile}}
    item = admin.ok("POST", f"/line-item?advertiser_id={world['advertiser']['id']}", body)
    assert item["line-item"]["profile"]["segment_boolean_operator"] == "and"


def test_segments_named_by_code_are_stored_by_id(admin: ApiClient, world: dict[str, Any]) -> None:
    group = stored(
        post(
            admin,
            world,
            {"code": "cars", "name": "whatever the reference called it", "deleted": False},
            {"id": world["boats"]["id"], "code": "Boats"},
        )
    )
    assert [s["id"] for s in group["segments"]] == [world["cars"]["id"], world["boats"]["id"]]
    assert "code" not in group["segments"][0] and "name" not in group["segments"][0]


@pytest.mark.parametrize(
    ("item", "field", "words"),
    [
        pytest.param({"code": "nope"}, f"{ITEM}[0].code", "names no segment", id="unknown-code"),
        pytest.param({"code": "boats"}, f"{ITEM}[0].code", "names no segment", id="code-case"),
        pytest.param({"code": "theirs"}, f"{ITEM}[0].code", "names no segment", id="foreign"),
        pytest.param({"id": 1, "code": "cars"}, f"{ITEM}[0].code", "but id names", id="disagree"),
        pytest.param(
            {"code": "cars", "other_equals": "ford"}, f"{ITEM}[0].other_equals", "text", id="text"
        ),
    ],
)
def test_what_a_code_cannot_name_is_syntax(
    admin: ApiClient, world: dict[str, Any], item: dict[str, Any], field: str, words: str
) -> None:
    if item.get("id") == 1:
        item = {**item, "id": world["boats"]["id"]}
    response = post(admin, world, item)
    sentence = error_of(response, 400, "SYNTAX")
    assert words in sentence, sentence
    assert response.json()["response"]["errors"][0]["field"] == field


def test_text_values_on_text_query_string_segments(admin: ApiClient, world: dict[str, Any]) -> None:
    makes, year = world["makes"]["id"], world["year"]["id"]
    group = stored(
        post(
            admin,
            world,
            {"id": makes, "other_equals": "Ford"},
            {"code": "makes", "other_in_list": ["ford-ka", "FORD-GT"]},
        )
    )
    assert group["segments"][0]["other_equals"] == "Ford"
    assert group["segments"][1]["other_in_list"] == ["ford-ka", "FORD-GT"]
    # numbers written as strings, on a segment whose value is a number, are numbers
    group = stored(post(admin, world, {"id": year, "other_in_list": ["2019", "2020"]}))
    assert group["segments"][0]["other_in_list"] == [2019, 2020]
    response = post(admin, world, {"id": year, "other_equals": "new"})
    assert "text query-string segment" in error_of(response, 400, "SYNTAX")
    response = post(admin, world, {"id": makes, "other_in_list": ["ford", 3]})
    assert "numbers or text values, not both" in error_of(response, 400, "SYNTAX")
