"""Segment loads over real HTTP on both stores (SPEC §8): pixels, /mapuid and batch uploads counted,
reported through POST /report → GET /report → GET /report-download, and shown beside segments.

The server's clock is moved forward to a known UTC time (noon, a month's last second) so that
"today" and the day and month boundaries are the test's, not the wall clock's.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from segpixel.domain.loads import month_number
from segpixel.domain.profile import Add, Mutation
from segpixel.edge import runtime
from segpixel.profiles.factory import make_profile_store
from segpixel.settings import Settings
from segpixel.stats.redis import segment_key
from tests.helpers import error_of
from tests.pixel.conftest import RUN_PREFIX, AdminApi, Pixel, ServerFactory, assert_gif
from tests.pixel.jobs import report_rows, request_report, uploaded, wait_report

DAY = 86_400
JSON = "application/json"


def move_to(px: Pixel, moment: datetime) -> None:
    """Set the server's clock forward to `moment` (UTC)."""
    px.clock.advance(moment.timestamp() - px.clock())


def next_noon(px: Pixel) -> datetime:
    now = datetime.fromtimestamp(px.clock(), UTC)
    return (now + timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)


def uid() -> int:
    return secrets.randbits(62) + 1


def test_every_source_is_counted_and_removes_are_not(px: Pixel, acme: dict[str, Any]) -> None:
    noon = next_noon(px)
    move_to(px, noon)
    sid, mid = acme["segment"]["id"], acme["member"]["id"]
    browsers = [px.browser() for _ in range(3)]
    for browser in browsers:
        assert_gif(browser.seg(f"add={sid}"))
    assert_gif(browsers[0].seg(f"add={sid}"))  # the same user again: a load, not a new user
    assert_gif(browsers[1].seg(f"remove={sid}"))  # a remove is no load
    assert_gif(browsers[2].get("/mapuid", {"member": mid, "user": "crm-1", "seg": sid}))
    job = uploaded(px.api, f"{uid()},{sid}\n{uid()},{sid}:60\n")
    assert (job["status"], job["users_updated"]) == ("done", 2)

    by_source = report_rows(
        px.api,
        columns=["segment_id", "segment_name", "source", "total_loads"],
        report_interval="today",
        filters=[{"segment_id": [sid]}],
        format="json",
    )
    by_day = report_rows(
        px.api,
        columns=["segment_id", "day", "total_loads", "daily_uniques"],
        report_interval="last_7_days",
        filters=[{"segment_id": sid}],
        format="csv",
    )

    assert by_source == [
        {"segment_id": sid, "segment_name": "Visitors", "source": "pixel", "total_loads": 4},
        {"segment_id": sid, "segment_name": "Visitors", "source": "mapuid", "total_loads": 1},
        {"segment_id": sid, "segment_name": "Visitors", "source": "batch", "total_loads": 2},
    ]
    today = noon.date().isoformat()
    assert by_day == [
        {"segment_id": str(sid), "day": today, "total_loads": "7", "daily_uniques": "5"}
    ]


def test_days_and_months_are_counted_in_utc(px: Pixel, acme: dict[str, Any]) -> None:
    now = datetime.fromtimestamp(px.clock(), UTC)
    first = (now.replace(day=1) + timedelta(days=32)).replace(day=1, hour=0, minute=0, second=0)
    move_to(px, first - timedelta(seconds=30))  # 23:59:30 on a month's last day
    sid = acme["segment"]["id"]
    early, late = px.browser(), px.browser()
    assert_gif(early.seg(f"add={sid}"))
    px.clock.advance(60)  # 00:00:30 on the 1st
    assert_gif(early.seg(f"add={sid}"))
    assert_gif(late.seg(f"add={sid}"))
    last = (first - timedelta(days=1)).date()

    rows = report_rows(
        px.api,
        columns=["day", "month", "total_loads", "daily_uniques", "monthly_uniques"],
        start_date=last.isoformat(),
        end_date=(first + timedelta(days=1)).date().isoformat(),
        filters=[{"segment_id": [sid]}],
        format="json",
    )

    assert rows == [
        {"day": last.isoformat(), "month": last.strftime("%Y-%m"), "total_loads": 1,
         "daily_uniques": 1, "monthly_uniques": 1},
        {"day": first.date().isoformat(), "month": first.strftime("%Y-%m"), "total_loads": 2,
         "daily_uniques": 2, "monthly_uniques": 2},
    ]  # fmt: skip
    month_rows = report_rows(
        px.api,
        columns=["month", "total_loads", "monthly_uniques", "avg_daily_uniques"],
        report_interval="month_to_date",
        filters=[{"segment_id": [sid]}],
        format="json",
    )
    assert month_rows == [
        {"month": first.strftime("%Y-%m"), "total_loads": 2, "monthly_uniques": 2,
         "avg_daily_uniques": 2},
    ]  # fmt: skip


def test_a_member_reports_only_on_its_own_segments(px: Pixel) -> None:
    acme, other = px.member("Acme"), px.member("Other")
    mine = px.segment(acme["id"], "Mine")
    theirs = px.segment(other["id"], "Theirs")
    px.sync()
    browser = px.browser()
    assert_gif(browser.seg(f"add={mine['id']},{theirs['id']}"))
    name = f"acme-{secrets.token_hex(4)}"
    member = px.api.make_user(name, "member", member_id=acme["id"])

    refused = request_report(
        member,
        columns=["segment_id", "total_loads"],
        report_interval="today",
        filters=[{"segment_id": [mine["id"], theirs["id"]]}],
    )
    assert f"segment {theirs['id']} not found" in error_of(refused, 404, "NOTFOUND")
    assert error_of(request_report(member, f"member_id={other['id']}"), 400, "SYNTAX")
    everything = report_rows(
        member, columns=["segment_id", "total_loads"], report_interval="today", format="json"
    )
    assert everything == [{"segment_id": mine["id"], "total_loads": 1}]
    # Another member's report cannot be read or downloaded either.
    response = request_report(
        px.api, columns=["segment_id"], report_interval="today", filters=[{"segment_id": 1}]
    )
    report_id = response.json()["response"]["report_id"]
    wait_report(px.api, report_id)
    error_of(member.get(f"/report?id={report_id}"), 404, "NOTFOUND")
    error_of(member.get(f"/report-download?id={report_id}"), 404, "NOTFOUND")


def test_an_advertiser_reports_on_its_own_and_member_level_segments(px: Pixel) -> None:
    acme = px.member("Acme")
    cars, boats = (px.api.make_advertiser(acme["id"], name)["id"] for name in ("Cars", "Boats"))
    shared = px.segment(acme["id"], "Shared")["id"]
    own = px.api.make_segment(f"advertiser_id={cars}", "Own")["id"]
    other = px.api.make_segment(f"advertiser_id={boats}", "Other")["id"]
    px.sync()
    assert_gif(px.browser().seg(f"add={shared},{own},{other}"))
    name = f"cars-{secrets.token_hex(4)}"
    advertiser = px.api.make_user(name, "advertiser", member_id=acme["id"], advertiser_id=cars)

    rows = report_rows(
        advertiser, columns=["segment_id", "total_loads"], report_interval="today", format="json"
    )

    assert rows == [{"segment_id": shared, "total_loads": 1}, {"segment_id": own, "total_loads": 1}]
    refused = request_report(
        advertiser, columns=["segment_id"], report_interval="today", filters=[{"segment_id": other}]
    )
    error_of(refused, 404, "NOTFOUND")


def test_bad_report_requests_answer_a_syntax_sentence(px: Pixel) -> None:
    unknown = request_report(px.api, columns=["segment_id", "clicks"], report_interval="today")
    assert "columns has 'clicks', which is not a column" in error_of(unknown, 400, "SYNTAX")
    no_day = request_report(
        px.api, columns=["segment_id", "daily_uniques"], report_interval="today"
    )
    assert "columns must include day to report daily_uniques" in error_of(no_day, 400, "SYNTAX")
    no_column = request_report(px.api, columns=["segment_id"], orders=["day"])
    assert "orders[0] must name one of the report's columns" in error_of(no_column, 400, "SYNTAX")
    not_json = px.api.request("POST", "/report", content=b"{", headers={"content-type": JSON})
    assert "not valid JSON" in error_of(not_json, 400, "SYNTAX")
    assert "id is required" in error_of(px.api.get("/report-download"), 400, "SYNTAX")
    error_of(px.api.get("/report-download?id=999999"), 404, "NOTFOUND")


def test_report_requests_as_the_reference_documents_them(px: Pixel) -> None:
    # no interval and no dates: today; `orders` sorts the rows; `emails`: a warning, no mail
    noon = next_noon(px)
    move_to(px, noon)
    member = px.member("Orders")
    segments = [px.segment(member["id"], name) for name in ("B", "A", "C")]
    px.sync()  # the pixel servers know the new segments
    for loads, segment in zip((2, 3, 1), segments, strict=True):
        for _ in range(loads):
            assert_gif(px.browser().seg(f"add={segment['id']}"))
    ids = [s["id"] for s in segments]
    request = {
        "columns": ["segment_name", "day", "total_loads"],
        "filters": [{"segment_id": ids}],
        "format": "json",
    }
    response = request_report(px.api, **request, emails=["ops@example.com"])
    assert response.status_code == 200, response.text
    (warning,) = response.json()["response"]["dbg_info"]["warnings"]
    assert "sends no mail" in warning
    by_loads = report_rows(
        px.api, **request, orders=[{"order_by": "total_loads", "direction": "DESC"}]
    )
    today = noon.date().isoformat()
    assert by_loads == [
        {"segment_name": "A", "day": today, "total_loads": 3},
        {"segment_name": "B", "day": today, "total_loads": 2},
        {"segment_name": "C", "day": today, "total_loads": 1},
    ]
    by_name = report_rows(px.api, **request, orders=["segment_name"])
    assert [r["segment_name"] for r in by_name] == ["A", "B", "C"]
    move_to(px, noon + timedelta(days=1))  # tomorrow: today's report is empty
    assert report_rows(px.api, **request) == []


def test_report_without_an_id_lists_the_callers_reports(px: Pixel) -> None:
    member = px.member("Listed")
    px.segment(member["id"], "Listed loads")
    boss = px.api.make_user(f"lister-{member['id']}", "member", member_id=member["id"])
    mine = request_report(boss, columns=["segment_id", "total_loads"], report_interval="today")
    report_id = mine.json()["response"]["report_id"]
    request_report(px.api, columns=["segment_id"], report_interval="today")  # the admin's
    listing = boss.ok("GET", "/report")
    assert [r["id"] for r in listing["reports"]] == [report_id], "only the caller's member's"
    assert listing["count"] == 1 and listing["reports"][0]["member_id"] == member["id"]
    everything = px.api.ok("GET", "/report?sort=id.desc&num_elements=1")
    assert everything["count"] >= 2 and len(everything["reports"]) == 1


def test_segments_show_their_quick_stats(px: Pixel) -> None:
    noon = next_noon(px)
    move_to(px, noon - timedelta(days=1, hours=1))  # 11:00 yesterday: before the 24 hours
    member = px.member("Quick")
    busy, quiet = px.segment(member["id"], "Busy"), px.segment(member["id"], "Quiet")
    px.sync()
    early = px.browser()
    assert_gif(early.seg(f"add={busy['id']}"))
    px.clock.advance(2 * 3600)  # 13:00 yesterday
    late = px.browser()
    assert_gif(late.seg(f"add={busy['id']}"))
    move_to(px, noon)
    assert_gif(late.seg(f"add={busy['id']}"))
    assert_gif(px.browser().seg(f"add={busy['id']}"))

    one = px.api.ok("GET", f"/segment?id={busy['id']}")["segment"]
    page = px.api.ok("GET", f"/segment?member_id={member['id']}")["segments"]

    # the early user's load is older than the top of the hour 24 hours ago (12:00 yesterday)
    assert (one["active_users_24h"], one["daily_loads"]) == (2, {"today": 2, "yesterday": 2})
    assert [(s["id"], s["active_users_24h"], s["daily_loads"]) for s in page] == [
        (busy["id"], 2, {"today": 2, "yesterday": 2}),
        (quiet["id"], 0, {"today": 0, "yesterday": 0}),
    ]


def test_a_server_counts_past_months_ahead_of_the_first_report(
    px: Pixel,
    acme: dict[str, Any],
    extra_servers: ServerFactory,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    """Every server runs a background round (edge/runtime.py) doing what the first report over
    past months would otherwise do: on Redis, count a past month's daily uniques and keep them.
    A server of its own (real clock, its own Redis keys) started with the round due at once."""
    monkeypatch.setattr(runtime, "PRECOUNT_FIRST", 0.0)
    sid = acme["segment"]["id"]
    this_month = datetime.now(UTC).replace(day=1).date()
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    past = int(datetime(last_month.year, last_month.month, 3, 12, tzinfo=UTC).timestamp())
    prefix = f"{RUN_PREFIX}ahead{secrets.token_hex(3)}:"
    write_loads(extra_servers.settings(redis_prefix=prefix), sid, [past, past + 60])

    server = extra_servers.start(redis_prefix=prefix)
    if px.store_kind == "redis":
        client = request.getfixturevalue("redis_client")
        kept = f"{segment_key(prefix, sid)}u:{month_number(last_month)}"
        deadline = time.monotonic() + 10
        while client.get(kept) is None:
            assert time.monotonic() < deadline, "the server did not count last month ahead"
            time.sleep(0.05)
        assert client.get(kept).split(b",")[2] == b"2"  # (day 3's users)

    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        rows = report_rows(
            AdminApi(http),
            columns=["day", "total_loads", "daily_uniques"],
            start_date=last_month.isoformat(),
            end_date=this_month.isoformat(),
            filters=[{"segment_id": [sid]}],
            format="json",
        )
    day = last_month.replace(day=3).isoformat()
    assert rows == [{"day": day, "total_loads": 2, "daily_uniques": 2}]


def write_loads(settings: Settings, segment_id: int, times: list[int]) -> None:
    """A new user's pixel load of the segment at each time, written through the store the
    settings name (as a server started with them would write it)."""
    resolved = settings.resolved()
    store = make_profile_store(resolved.profile_url or "", redis_prefix=resolved.redis_prefix)
    expires = int(time.time()) + DAY

    async def write() -> None:
        await store.open()
        try:
            await store.apply([Mutation(uid(), at, (Add(segment_id, expires),)) for at in times])
        finally:
            await store.close()

    asyncio.run(write())


def test_csv_cells_a_spreadsheet_would_run_as_formulas_are_written_inert(px: Pixel) -> None:
    """ISSUE 14 item 6: a segment named `=HYPERLINK(…)` (a tenant's own text) reaches the
    download with a leading apostrophe, in the CSV only."""
    member = px.member("Formulas")
    names = ['=HYPERLINK("https://evil.example")', "+1+1", "-2", "@SUM(A1)", "\tx", "\rx", "ok-1"]
    ids = [px.segment(member["id"], name)["id"] for name in names]
    px.sync()
    assert_gif(px.browser().seg(f"add={','.join(map(str, ids))}"))
    query = f"member_id={member['id']}"
    rows = report_rows(
        px.api, query, columns=["segment_id", "segment_name"], report_interval="today", format="csv"
    )
    assert [r["segment_name"] for r in rows] == [f"'{n}" for n in names[:-1]] + ["ok-1"]
    json_rows = report_rows(
        px.api,
        query,
        columns=["segment_id", "segment_name"],
        report_interval="today",
        format="json",
    )
    assert [r["segment_name"] for r in json_rows] == names  # JSON is no spreadsheet
