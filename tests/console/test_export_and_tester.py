"""Export pixels (the reference's exact tags, `domain.tags`) and the pixel tester's data."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.conftest import ServerProcess
from tests.console.conftest import Tenants
from tests.console.helpers import Console, field_errors, tags_of
from tests.helpers import ApiClient

MakeConsole = Callable[..., Console]


def wrapped(names: str, tag: str) -> str:
    return f"<!-- Segment Pixel - {names} - DO NOT MODIFY -->\n{tag}\n<!-- End of Segment Pixel -->"


def script(url: str) -> str:
    return f'<script src="{url}" type="text/javascript"></script>'


def image(url: str) -> str:
    return f'<img src="{url}" width="1" height="1" />'


@pytest.fixture
def two(tenants: Tenants, admin_api: ApiClient) -> tuple[dict[str, Any], dict[str, Any]]:
    cars = admin_api.make_segment(f"advertiser_id={tenants.cars['id']}", "Car buyers", code="Auto")
    vans = admin_api.make_segment(f"advertiser_id={tenants.cars['id']}", "Van buyers", code="vans")
    return cars, vans


def export(admin: Console, t: Tenants, ids: list[int], **options: Any) -> httpx.Response:
    form = {"segment": [str(i) for i in ids], "tag_type": "js", "secure": "on", **options}
    return admin.post(f"/console/advertisers/{t.cars['id']}/export", form)


def test_the_dialog_opens_with_the_selection_and_the_recommended_defaults(
    console: MakeConsole, tenants: Tenants, two: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    cars, vans = two
    page = (
        console()
        .get(
            f"/console/advertisers/{tenants.cars['id']}/export",
            params={"segment": [cars["id"], vans["id"]]},
        )
        .text
    )
    assert 'name="tag_type" value="js" checked' in page
    assert 'name="secure" id="secure" checked' in page
    assert page.count('<input type="hidden" name="segment"') == 2
    assert "Car buyers" in page and "Van buyers" in page
    assert "textarea" not in page  # nothing generated until asked


def test_generate_tags_in_the_references_exact_form(
    console: MakeConsole,
    tenants: Tenants,
    two: tuple[dict[str, Any], dict[str, Any]],
    server: ServerProcess,
) -> None:
    cars, vans = two
    admin = console()
    host = server.base_url.removeprefix("http://")
    a, b = cars["id"], vans["id"]
    cases: list[tuple[dict[str, Any], list[int], list[str]]] = [
        ({}, [a], [wrapped("Car buyers", script(f"https://{host}/seg?add={a}&t=1"))]),
        (
            {"tag_type": "img", "secure": ""},
            [a],
            [wrapped("Car buyers", image(f"http://{host}/seg?add={a}&t=2"))],
        ),
        (
            {"use_codes": "on"},
            [a, b],
            [
                wrapped(
                    "Car buyers, Van buyers",
                    script(f"https://{host}/seg?add_code=Auto,vans&member={cars['member_id']}&t=1"),
                )
            ],
        ),
        (
            {"combine": "separate", "tag_type": "img"},
            [a, b],
            [
                wrapped("Car buyers", image(f"https://{host}/seg?add={a}&t=2")),
                wrapped("Van buyers", image(f"https://{host}/seg?add={b}&t=2")),
            ],
        ),
        (
            {"value_mode": "all", "value": "${PRICE}", "also_add": f"{b}:3", "remove": str(a)},
            [a],
            [
                wrapped(
                    "Car buyers",
                    script(f"https://{host}/seg?add={a},{b}:3&remove={a}&value=${{PRICE}}&t=1"),
                )
            ],
        ),
        (
            {"value_mode": "each", f"value_{a}": "5", f"value_{b}": ""},
            [a, b],
            [wrapped("Car buyers, Van buyers", script(f"https://{host}/seg?add={a}:5,{b}&t=1"))],
        ),
        (
            {"redirect": "https://dsp.example.net/px?a=1&b=2"},
            [a],
            [
                wrapped(
                    "Car buyers",
                    script(
                        f"https://{host}/seg?add={a}"
                        "&redir=https%3A%2F%2Fdsp.example.net%2Fpx%3Fa%3D1%26b%3D2&t=1"
                    ),
                )
            ],
        ),
    ]
    for options, ids, expected in cases:
        response = export(admin, tenants, ids, **options)
        assert response.status_code == 200, (options, field_errors(response.text))
        assert tags_of(response.text) == expected, options
        assert 'data-copy="tag-1"' in response.text


def test_a_redirect_outside_the_members_domains_is_warned_about(
    console: MakeConsole, tenants: Tenants, two: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    page = export(console(), tenants, [two[0]["id"]], redirect="https://dsp.example.net/px").text
    assert len(tags_of(page)) == 1
    assert "dsp.example.net is not one of Acme Media" in html.unescape(page)


@pytest.mark.parametrize(
    ("options", "field", "says"),
    [
        pytest.param(
            {"use_codes": "on"},
            "use_codes",
            "has no code. Give it one (Edit, then + Advanced Options: Code) or export by id.",
            id="codes-without-code",
        ),
        pytest.param(
            {"also_add": "99999"},
            "also_add",
            "Add to further segments: '99999' is not the id of a segment on this screen",
            id="unknown-further-segment",
        ),
        pytest.param(
            {"remove": "Auto"},
            "remove",
            "(with Use codes off, name segments by id)",
            id="code-while-by-id",
        ),
        pytest.param(
            {"value_mode": "all", "value": "1&t=1"},
            "value",
            "Value must be a number from 1 to 2,147,483,647 or a macro",
            id="value-that-would-break-the-url",
        ),
        pytest.param(
            {"value_mode": "all", "value": ""},
            "value",
            "Value: enter the value for every segment, or choose no value.",
            id="value-missing",
        ),
        pytest.param(
            {"redirect": "javascript:alert(1)"},
            "redirect",
            "Redirect URL must be an absolute http:// or https:// URL.",
            id="redirect-not-http",
        ),
    ],
)
def test_export_mistakes_are_told_at_their_fields(
    console: MakeConsole,
    tenants: Tenants,
    admin_api: ApiClient,
    options: dict[str, Any],
    field: str,
    says: str,
) -> None:
    codeless = admin_api.make_segment(f"advertiser_id={tenants.cars['id']}", "No code")
    admin_api.make_segment(f"advertiser_id={tenants.cars['id']}", "Coded", code="Auto")
    response = export(console(), tenants, [codeless["id"]], **options)
    assert response.status_code == 422
    errors = field_errors(response.text)
    assert any(says in m for m in errors.get(field, [])), errors
    assert tags_of(response.text) == []


def test_export_refuses_segments_of_another_screen(
    console: MakeConsole, tenants: Tenants, admin_api: ApiClient
) -> None:
    bikes = admin_api.make_segment(f"advertiser_id={tenants.bikes['id']}", "Bikes")
    admin = console()
    assert export(admin, tenants, [bikes["id"]]).status_code == 404
    response = admin.get(
        f"/console/advertisers/{tenants.cars['id']}/export", params={"segment": "x"}
    )
    assert response.status_code == 404


def test_the_tester_reads_segments_with_the_dongle_only_for_those_who_manage_the_member(
    console: MakeConsole, tenants: Tenants, admin_api: ApiClient, server: ServerProcess
) -> None:
    own = admin_api.make_segment(f"advertiser_id={tenants.cars['id']}", "Own")
    shared = admin_api.make_segment(
        f"member_id={tenants.member['id']}", "Shared", advertiser_id=None
    )
    bikes = admin_api.make_segment(f"advertiser_id={tenants.bikes['id']}", "Bikes")
    dongle = admin_api.ok("GET", f"/member?id={tenants.member['id']}")["member"]["dongle"]
    tester = f"/console/advertisers/{tenants.cars['id']}/tester"

    admin_page = console().get(tester).text
    url = re.search(r'data-segments-url="([^"]*)"', admin_page).group(1)
    assert html.unescape(url) == f"/cookie?member_id={tenants.member['id']}&dongle={dongle}"

    admin_api.make_user(
        "cars-user", "advertiser", member_id=tenants.member["id"], advertiser_id=tenants.cars["id"]
    )
    cars = console("cars-user", "password-123")
    page = cars.get(tester).text
    assert dongle not in page
    url = html.unescape(re.search(r'data-segments-url="([^"]*)"', page).group(1))
    assert url == f"{tester}/browser-segments"
    # this browser is in all three segments; the advertiser user is shown the two it may see
    for segment in (own, shared, bikes):
        _add_when_known(server, segment["id"], "4242")
    cars.http.cookies.set("uuid2", "4242")
    seen = cars.get(url).json()
    assert seen["user_id"] == "4242" and seen["member_id"] == tenants.member["id"]
    assert sorted(s["id"] for s in seen["segments"]) == sorted([own["id"], shared["id"]])
    assert {"first_added", "last_added", "expires_at", "count", "value", "code"} <= set(
        seen["segments"][0]
    )
    # the whole member's, through /cookie, for the admin
    full = httpx.get(
        f"{server.base_url}/cookie",
        params={"member_id": tenants.member["id"], "dongle": dongle},
        headers={"Cookie": "uuid2=4242"},
    ).json()
    assert len(full["segments"]) == 3
    cars.http.cookies.set("uuid2", "-1")
    assert cars.get(url).json() == {
        "user_id": None,
        "opted_out": True,
        "member_id": tenants.member["id"],
        "segments": [],
    }


def _add_when_known(server: ServerProcess, segment_id: int, uid: str) -> None:
    for _ in range(200):
        debug = httpx.get(
            f"{server.base_url}/seg",
            params={"add": segment_id, "debug": "1"},
            headers={"Cookie": f"uuid2={uid}"},
        ).json()
        if debug["items"][0]["accepted"]:
            return
        httpx.get(f"{server.base_url}/health")  # a moment for the catalog snapshot
    raise AssertionError(f"the pixel server never saw segment {segment_id}")
