"""Create New Segment / Edit over HTTP: what is saved, and each error at its field (SPEC §1.2)."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import pytest

from tests.console.conftest import Tenants
from tests.console.helpers import Console, field_errors, flash_of, segment_form
from tests.helpers import ApiClient

MakeConsole = Callable[..., Console]
IMG = "https://partner.example/px.gif?id=1"
IMG2 = "https://partner.example/px2.gif"
JS = "https://partner.example/px.js"
CHOICES = {"type", "expire_mode", "expire_unit", "level", "state", "pb_type", "qs_value_type"}


def new_url(t: Tenants) -> str:
    return f"/console/advertisers/{t.cars['id']}/segments/new"


def stored(api: ApiClient, t: Tenants) -> list[dict[str, Any]]:
    return api.ok("GET", f"/segment?member_id={t.member['id']}")["segments"]


def test_the_seeds_fields_are_saved_as_the_segment_service_has_them(
    console: MakeConsole, tenants: Tenants, admin_api: ApiClient
) -> None:
    admin = console()
    response = admin.post(
        new_url(tenants),
        segment_form(
            short_name="Car buyers",
            description="Checkout page",
            code="Auto_buyers-1",
            max_usersync_pixels="3",
            expire_mode="custom",
            expire_amount="12",
            expire_unit="hours",
            pb_url=[IMG, ""],
            pb_type=["img", "img"],
        ),
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/console/advertisers/{tenants.cars['id']}/segments"
    (segment,) = stored(admin_api, tenants)
    expected = {
        "member_id": tenants.member["id"],
        "advertiser_id": tenants.cars["id"],
        "short_name": "Car buyers",
        "code": "Auto_buyers-1",
        "description": "Checkout page",
        "state": "active",
        "expire_minutes": 720,
        "max_usersync_pixels": 3,
        "type": "pixel",
        "piggyback_pixels": [{"url": IMG, "pixel_type": "img"}],
        "querystring_mapping": None,
        "querystring_mapping_key_value": None,
    }
    assert {k: segment[k] for k in expected} == expected
    listing = admin.get(response.headers["location"]).text
    assert flash_of(listing) == f"Segment {segment['id']} “Car buyers” created."
    row = listing.split(f'<tr id="segment-{segment["id"]}"')[1].split("</tr>")[0]
    assert row.startswith(' class="just-saved"')
    for text in ("Car buyers", "Auto_buyers-1", "12 hours", "Pixel", "Active", "Advertiser"):
        assert text in row, text
    assert flash_of(admin.get(response.headers["location"]).text) is None  # shown once


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param({}, {"expire_minutes": None, "type": "pixel"}, id="180-days-default"),
        pytest.param(
            {"expire_mode": "custom", "expire_amount": "180", "expire_unit": "days"},
            {"expire_minutes": 259_200},
            id="180-days-typed",
        ),
        pytest.param(
            {"expire_mode": "custom", "expire_amount": "0", "expire_unit": "minutes"},
            {"expire_minutes": 0},
            id="this-request-only",
        ),
        pytest.param({"level": "member"}, {"advertiser_id": None}, id="member-level"),
        pytest.param({"state": "inactive"}, {"state": "inactive"}, id="inactive"),
        pytest.param(
            {"pb_url": [JS, "", JS + "?2"], "pb_type": ["js", "img", "js"]},
            {
                "piggyback_pixels": [
                    {"url": JS, "pixel_type": "js"},
                    {"url": JS + "?2", "pixel_type": "js"},
                ]
            },
            id="js-piggybacks-blank-row-skipped",
        ),
        pytest.param(
            {
                "type": "querystring",
                "qs_param": "section",
                "qs_value_type": "text",
                "qs_values": "sports\nshoe*\n",
                "qs_allow_empty_text": "on",
                "max_usersync_pixels": "1",
            },
            {
                "type": "querystring",
                "querystring_mapping": {
                    "param": "section",
                    "value_type": "text",
                    "values": ["sports", "shoe*"],
                    "allow_empty_text": True,
                    "publishers": [],
                    "sites": [],
                    "placements": [],
                },
            },
            id="query-string",
        ),
        pytest.param(
            {"type": "querystring", "qs_param": "age", "qs_value_type": "numeric"},
            {"type": "querystring"},
            id="query-string-numeric",
        ),
        pytest.param(
            {"type": "querystring_key_value", "kv_key": "genre", "kv_value": "jazz"},
            {
                "type": "querystring_key_value",
                "querystring_mapping_key_value": {"qs_key": "genre", "qs_value": "jazz"},
            },
            id="query-string-key-value",
        ),
    ],
)
def test_what_each_choice_saves(
    console: MakeConsole,
    tenants: Tenants,
    admin_api: ApiClient,
    fields: dict[str, Any],
    expected: dict[str, Any],
) -> None:
    response = console().post(new_url(tenants), segment_form(**fields))
    assert response.status_code == 303, field_errors(response.text)
    (segment,) = stored(admin_api, tenants)
    assert {k: segment[k] for k in expected} == expected


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        pytest.param(
            {"code": "car buyers!"},
            "code",
            "Code 'car buyers!' contains a space and '!', which a code cannot have: use letters, "
            "digits, '_' and '-' only.",
            id="bad-code-characters",
        ),
        pytest.param({"code": "a.b"}, "code", "contains '.', which", id="dot-in-code"),
        pytest.param(
            {"code": "x" * 51},
            "code",
            "Code is 51 characters long; a code has at most 50.",
            id="code-too-long",
        ),
        pytest.param(
            {"expire_mode": "custom", "expire_amount": "191", "expire_unit": "days"},
            "expire",
            "Keep user in segment can be at most 180 days (259,200 minutes); 191 days is longer. "
            "Choose 180 days or a shorter time.",
            id="191-days",
        ),
        pytest.param(
            {"expire_mode": "custom", "expire_amount": "4321", "expire_unit": "hours"},
            "expire",
            "4321 hours is longer",
            id="4321-hours",
        ),
        pytest.param(
            {"expire_mode": "custom", "expire_amount": "two", "expire_unit": "days"},
            "expire",
            "Keep user in segment must be a whole number, 0 or more (got 'two').",
            id="amount-not-a-number",
        ),
        pytest.param(
            {"expire_mode": "custom", "expire_amount": "", "expire_unit": "days"},
            "expire",
            "Keep user in segment: enter a number of days, or choose 180 days.",
            id="amount-missing",
        ),
        pytest.param(
            {"pb_url": [IMG, IMG2], "pb_type": ["img", "img"]},
            "piggybacks",
            "Piggyback pixels may hold only one 'img' pixel (got 2): an image pixel can redirect "
            "only once; use 'js' pixels to chain several (rule 3)",
            id="two-image-piggybacks",
        ),
        pytest.param(
            {"pb_url": [IMG, JS], "pb_type": ["img", "js"]},
            "piggybacks",
            "Piggyback pixels must all be of one type, 'img' or 'js': image pixels can only "
            "piggyback image pixels and JavaScript pixels only JavaScript pixels (rule 2)",
            id="image-and-js-mixed",
        ),
        pytest.param(
            {"pb_url": ["", "partner.example/px.gif"], "pb_type": ["img", "img"]},
            "pb-1-url",
            "URL must be an absolute http:// or https:// URL (got 'partner.example/px.gif') "
            "(rule 4)",
            id="piggyback-not-absolute-at-its-row",
        ),
        pytest.param({"short_name": "  "}, "short_name", "Name is required", id="blank-name"),
        pytest.param(
            {"max_usersync_pixels": "many"},
            "max_usersync_pixels",
            "Max Usersync Pixels must be a whole number, 0 or more (got 'many').",
            id="usersync-not-a-number",
        ),
        pytest.param(
            {"max_usersync_pixels": "101"},
            "max_usersync_pixels",
            "Max Usersync Pixels must be between 0 and 100 (got 101)",
            id="usersync-too-many",
        ),
        pytest.param(
            {"type": "querystring_key_value", "kv_key": "genre", "max_usersync_pixels": "2"},
            "max_usersync_pixels",
            "Max Usersync Pixels cannot be set on a segment with querystring_mapping_key_value",
            id="usersync-on-key-value",
        ),
        pytest.param(
            {"type": "querystring", "qs_param": ""},
            "qs_param",
            "Parameter is required and must not be blank",
            id="query-string-without-param",
        ),
        pytest.param(
            {"type": "querystring", "qs_param": "s", "qs_values": ""},
            "qs_values",
            "Values must list at least one value",
            id="query-string-text-without-values",
        ),
        pytest.param(
            {"type": "querystring", "qs_param": "s", "qs_values": "a", "qs_sites": "1, x"},
            "qs_sites",
            "Sites must be ids (whole numbers) separated by commas; 'x' is not one.",
            id="site-ids-not-numbers",
        ),
        pytest.param(
            {"type": "querystring", "qs_param": "s", "qs_values": "a", "qs_sites": "999"},
            "qs_sites",
            "Sites must be a site of member 1 (site 999 not found)",
            id="site-of-no-one",
        ),
        pytest.param(
            {"type": "querystring_key_value", "kv_key": "a b"},
            "kv_key",
            "Key must not contain spaces",
            id="key-with-space",
        ),
        pytest.param({"type": "banner"}, "type", "Type must be Pixel", id="unknown-type"),
    ],
)
def test_each_invalid_input_is_told_at_its_field_and_nothing_is_saved(
    console: MakeConsole,
    tenants: Tenants,
    admin_api: ApiClient,
    fields: dict[str, Any],
    field: str,
    says: str,
) -> None:
    response = console().post(new_url(tenants), segment_form(**fields))
    assert response.status_code == 422
    errors = field_errors(response.text)
    assert field in errors, errors
    assert any(says in message for message in errors[field]), errors[field]
    assert stored(admin_api, tenants) == []
    # what was typed is still in the form, to be corrected rather than typed again
    for key, value in fields.items():
        if key in CHOICES:
            continue
        for text in value if isinstance(value, list) else [value]:
            assert html.escape(text.strip()) in response.text, (key, text)


def test_several_mistakes_are_all_told_at_once_and_the_broken_rule_is_marked(
    console: MakeConsole, tenants: Tenants
) -> None:
    response = console().post(
        new_url(tenants),
        segment_form(
            code="bad code",
            expire_mode="custom",
            expire_amount="191",
            pb_url=[IMG, IMG2],
            pb_type=["img", "img"],
        ),
    )
    assert set(field_errors(response.text)) == {"code", "expire", "piggybacks"}
    assert "3 problems need fixing" in response.text
    assert '<li id="rule-3" class="broken">' in response.text
    assert '<li id="rule-2">' in response.text
    assert 'data-tabs="details"' in response.text  # problems on both tabs: start with Details


def test_piggyback_problems_alone_open_the_piggyback_tab(
    console: MakeConsole, tenants: Tenants
) -> None:
    response = console().post(
        new_url(tenants), segment_form(pb_url=[IMG, JS], pb_type=["img", "js"])
    )
    assert 'data-tabs="piggyback"' in response.text
    assert "on the Piggyback Pixels tab" in response.text


def test_a_code_taken_in_another_case_is_told_at_the_code_field(
    console: MakeConsole, tenants: Tenants, admin_api: ApiClient
) -> None:
    admin_api.make_segment(f"advertiser_id={tenants.bikes['id']}", "Autos", code="Auto")
    response = console().post(new_url(tenants), segment_form(code="auto"))
    assert response.status_code == 422
    (message,) = field_errors(response.text)["code"]
    assert message == (
        "Code 'auto' is already used by another segment of this member as 'Auto' "
        "(codes must be unique ignoring case)"
    )


def test_the_no_script_add_row_button_adds_a_row_and_saves_nothing(
    console: MakeConsole, tenants: Tenants, admin_api: ApiClient
) -> None:
    response = console().post(
        new_url(tenants), segment_form(pb_url=[JS], pb_type=["js"], action="add_piggyback")
    )
    assert response.status_code == 200
    assert 'id="pb-1-url"' in response.text and f'value="{JS}"' in response.text
    assert stored(admin_api, tenants) == []


def test_edit_shows_the_stored_segment_and_saves_only_what_changed(
    console: MakeConsole, tenants: Tenants, admin_api: ApiClient
) -> None:
    segment = admin_api.make_segment(
        f"advertiser_id={tenants.cars['id']}",
        "Readers",
        code="readers",
        expire_minutes=4320,
        max_usersync_pixels=2,
        piggyback_pixels=[{"url": JS, "pixel_type": "js"}],
        querystring_mapping={"param": "sec", "values": ["news", "sport*"]},
    )
    admin = console()
    url = f"/console/advertisers/{tenants.cars['id']}/segments/{segment['id']}/edit"
    page = admin.get(url).text
    for shown in ('value="Readers"', 'value="readers"', 'value="3"', f'value="{JS}"'):
        assert shown in page, shown
    assert '<option value="days" selected>' in page
    assert (
        'value="querystring" data-type-choice aria-describedby="type-querystring-hint" checked'
        in page
    )
    assert "news\nsport*</textarea>" in page
    # saving the form untouched changes nothing
    form = segment_form(
        short_name="Readers",
        code="readers",
        expire_mode="custom",
        expire_amount="3",
        expire_unit="days",
        max_usersync_pixels="2",
        pb_url=[JS],
        pb_type=["js"],
        type="querystring",
        qs_param="sec",
        qs_values="news\nsport*",
    )
    assert admin.post(url, form).status_code == 303
    after = admin_api.ok("GET", f"/segment?id={segment['id']}")["segment"]
    assert {k: v for k, v in after.items() if k != "last_modified"} == {
        k: v for k, v in segment.items() if k != "last_modified"
    }
    # a change of name and type is saved, and the old mapping goes
    response = admin.post(url, {**form, "short_name": "Readers 2", "type": "pixel"})
    assert response.status_code == 303
    after = admin_api.ok("GET", f"/segment?id={segment['id']}")["segment"]
    assert after["short_name"] == "Readers 2" and after["querystring_mapping"] is None
    assert flash_of(admin.get(response.headers["location"]).text) == (
        f"Segment {segment['id']} “Readers 2” saved."
    )
