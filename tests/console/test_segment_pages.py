"""The Segment Pixels list, a segment's page and its actions, escaping, and the quick stats."""

from __future__ import annotations

import html
import json
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx

from segpixel.console.routes.segments import CHART_DAYS
from tests.conftest import ServerProcess
from tests.console.conftest import Tenants
from tests.console.helpers import Console, flash_of
from tests.helpers import ApiClient

MakeConsole = Callable[..., Console]
XSS = '<img src=x onerror="alert(1)">'


def rows_of(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr id="segment-(\d+)"', page)]


def test_the_list_shows_advertiser_and_member_level_segments_searches_and_pages(
    console: MakeConsole, tenants: Tenants, admin_api: ApiClient
) -> None:
    cars = f"advertiser_id={tenants.cars['id']}"
    made = [admin_api.make_segment(cars, f"Audience {n:02}", code=f"aud{n:02}") for n in range(28)]
    shared = admin_api.make_segment(
        f"member_id={tenants.member['id']}", "Shared", advertiser_id=None
    )
    admin_api.make_segment(f"advertiser_id={tenants.bikes['id']}", "Bikes only")
    admin_api.make_segment(f"advertiser_id={tenants.other_advertiser['id']}", "Rival")
    admin_api.ok("PUT", f"/segment?id={made[3]['id']}", {"segment": {"state": "inactive"}})
    admin = console()
    base = f"/console/advertisers/{tenants.cars['id']}/segments"

    first = admin.get(base).text
    newest_first = [shared["id"]] + [s["id"] for s in reversed(made)]
    assert rows_of(first) == newest_first[:25]
    assert "1–25 of 29" in first and "Bikes only" not in first and "Rival" not in first
    second = admin.get(base, params={"start": 25}).text
    assert rows_of(second) == newest_first[25:]
    assert "26–29 of 29" in second

    assert rows_of(admin.get(base, params={"search": "aud07"}).text) == [made[7]["id"]]
    assert rows_of(admin.get(base, params={"search": "AUDIENCE 1"}).text) == [
        s["id"] for s in reversed(made[10:20])
    ]
    assert rows_of(admin.get(base, params={"search": str(shared["id"])}).text) == [shared["id"]]
    assert rows_of(admin.get(base, params={"state": "inactive"}).text) == [made[3]["id"]]
    nothing = admin.get(base, params={"search": "zzz"}).text
    assert "No segment matches “zzz”." in html.unescape(nothing)
    assert admin.get(base, params={"state": "gone"}).status_code == 404


def test_names_urls_and_searches_are_escaped_on_every_page(
    console: MakeConsole, tenants: Tenants, admin_api: ApiClient
) -> None:
    advertiser = admin_api.make_advertiser(tenants.member["id"], XSS)
    segment = admin_api.make_segment(
        f"advertiser_id={advertiser['id']}",
        XSS,
        piggyback_pixels=[
            {"url": 'https://x.example/"><script>alert(2)</script>', "pixel_type": "js"}
        ],
    )
    admin = console()
    base = f"/console/advertisers/{advertiser['id']}"
    pages = [
        "/console/advertisers",
        f"{base}/segments?search={XSS}",
        f"{base}/segments/{segment['id']}",
        f"{base}/segments/{segment['id']}/edit",
        f"{base}/segments/{segment['id']}/delete",
        f"{base}/export?segment={segment['id']}",
        f"{base}/tester",
    ]
    for path in pages:
        text = admin.get(path).text
        assert XSS not in text and "<script>alert" not in text, path
        assert html.escape(XSS) in text or "&lt;img" in text, path
    tester = admin.get(f"{base}/tester").text
    names = re.search(r'data-names="([^"]*)"', tester).group(1)
    assert json.loads(html.unescape(names)) == {str(segment["id"]): XSS}


def test_deactivate_move_to_member_level_and_delete(
    console: MakeConsole, tenants: Tenants, admin_api: ApiClient
) -> None:
    segment = admin_api.make_segment(f"advertiser_id={tenants.cars['id']}", "Movers")
    admin = console()
    page_url = f"/console/advertisers/{tenants.cars['id']}/segments/{segment['id']}"

    response = admin.post(f"{page_url}/state", {"state": "inactive"})
    assert response.status_code == 303 and response.headers["location"] == page_url
    page = admin.get(page_url).text
    assert "deactivated: pixels no longer add users to it" in flash_of(page)
    assert 'id="activate"' in page
    assert admin_api.ok("GET", f"/segment?id={segment['id']}")["segment"]["state"] == "inactive"
    admin.post(f"{page_url}/state", {"state": "active"})
    assert admin_api.ok("GET", f"/segment?id={segment['id']}")["segment"]["state"] == "active"
    assert admin.post(f"{page_url}/state", {"state": "gone"}).status_code == 400

    response = admin.post(f"{page_url}/move-to-member")
    assert response.status_code == 303
    assert admin_api.ok("GET", f"/segment?id={segment['id']}")["segment"]["advertiser_id"] is None
    page = admin.get(page_url).text
    assert "is now a member-level segment" in flash_of(page)
    assert 'id="move-to-member"' not in page and "badge-member" in page

    confirm = admin.get(f"{page_url}/delete").text
    assert "Delete segment" in confirm and "This cannot be undone." in confirm
    assert admin_api.ok("GET", f"/segment?id={segment['id']}")  # a GET deletes nothing
    response = admin.post(f"{page_url}/delete")
    assert response.status_code == 303
    listing = admin.get(response.headers["location"]).text
    assert flash_of(listing) == f"Segment {segment['id']} “Movers” deleted."
    assert rows_of(listing) == []
    assert admin.get(page_url).status_code == 404


def test_quick_stats_and_the_daily_chart_show_the_loads(
    console: MakeConsole, tenants: Tenants, admin_api: ApiClient, server: ServerProcess
) -> None:
    # The server (and its load counters) outlive the catalog wipes between tests, and segment ids
    # start again at 1: figures are compared with what the pages showed before the loads.
    loaded = admin_api.make_segment(f"advertiser_id={tenants.cars['id']}", "Loaded")
    quiet = admin_api.make_segment(f"advertiser_id={tenants.cars['id']}", "Quiet")
    _wait_for_snapshot(server, loaded["id"])
    admin = console()
    listing_url = f"/console/advertisers/{tenants.cars['id']}/segments"
    page_url = f"/console/advertisers/{tenants.cars['id']}/segments/{loaded['id']}"
    before = _quick(admin.get(listing_url).text)
    today_before = _today(admin.get(page_url).text)
    for uid in ("1001", "1002", "1002"):  # two users, three loads
        response = httpx.get(
            f"{server.base_url}/seg",
            params={"add": loaded["id"]},
            headers={"Cookie": f"uuid2={uid}"},
        )
        assert response.status_code == 200
    after = _quick(admin.get(listing_url).text)
    assert after[loaded["id"]] == (before[loaded["id"]][0] + 2, before[loaded["id"]][1] + 3)
    assert after[quiet["id"]] == before[quiet["id"]]
    page = admin.get(page_url).text
    assert '<svg viewBox="0 0 1100 260"' in page
    assert _today(page) == (today_before[0] + 3, today_before[1] + 2)
    kpis = [int(v.replace(",", "")) for v in re.findall(r'class="kpi-value">([\d,]+)<', page)]
    assert kpis[:2] == list(after[loaded["id"]])  # and yesterday's loads
    # The chart is every one of its days up to today, those without loads drawn as 0.
    days = dict(re.findall(r"<rect [^>]*><title>(\d{4}-\d\d-\d\d): ([\d,]+) loads", page))
    today = datetime.now(UTC).date()
    wanted = [today - timedelta(days=n) for n in range(CHART_DAYS - 1, -1, -1)]
    assert list(days) == [d.isoformat() for d in wanted]
    assert all(days[d.isoformat()] == "0" for d in wanted[:-1]), "no loads before today"


def _quick(listing: str) -> dict[int, tuple[int, int]]:
    """Active users 24 h and daily loads of each row of the Segment Pixels list."""
    out = {}
    for segment_id, row in re.findall(r'<tr id="segment-(\d+)"(.*?)</tr>', listing, re.S):
        numbers = re.findall(r'<td class="num"[^>]*>([^<]*)</td>', row)[1:]
        out[int(segment_id)] = tuple(int(n.replace(",", "")) for n in numbers)
    return out


def _today(page: str) -> tuple[int, int]:
    """Today's loads and uniques in the chart (0, 0 when there is no chart yet)."""
    found = re.findall(r"\d{4}-\d\d-\d\d: ([\d,]+) loads, ([\d,]+) uniques", page)
    if not found:
        return 0, 0
    loads, uniques = found[-1]
    return int(loads.replace(",", "")), int(uniques.replace(",", ""))


def _wait_for_snapshot(server: ServerProcess, segment_id: int) -> None:
    """Until the pixel server knows the segment (its catalog snapshot polls). The probe is a
    remove, which is accepted once the segment is known and is never counted as a load."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        debug = httpx.get(
            f"{server.base_url}/seg",
            params={"remove": segment_id, "debug": "1"},
            headers={"Cookie": "uuid2=999"},
        ).json()
        if debug["items"][0]["accepted"]:
            return
        time.sleep(0.05)
    raise AssertionError(f"the pixel server never saw segment {segment_id}")


def test_a_segment_still_in_use_is_not_deleted_and_the_page_says_why(
    console: MakeConsole, tenants: Tenants, admin_api: ApiClient
) -> None:
    segment = admin_api.make_segment(f"advertiser_id={tenants.cars['id']}", "Used")
    admin_api.ok(
        "POST",
        f"/creative?advertiser_id={tenants.cars['id']}",
        {
            "creative": {
                "name": "Banner",
                "width": 300,
                "height": 250,
                "content": "<b>ad</b>",
                "segments": [{"id": segment["id"], "action": "add_on_view"}],
            }
        },
    )
    url = f"/console/advertisers/{tenants.cars['id']}/segments/{segment['id']}/delete"
    response = console().post(url)
    assert response.status_code == 409
    assert "It cannot be deleted: segment" in response.text and "creative" in response.text
    assert admin_api.ok("GET", f"/segment?id={segment['id']}")["segment"]["short_name"] == "Used"
