"""One user id range everywhere (SPEC §9.2, §10): 1..2^63−1 in cookies, batch lines, mapuid and
every read, over HTTP on both profile stores — an id accepted anywhere can be read back
everywhere, and one outside the range is refused everywhere, with a sentence."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from tests.helpers import error_of
from tests.pixel.conftest import Pixel, assert_gif
from tests.pixel.jobs import uploaded

TOP = 2**63 - 1
ABOVE = [2**63, 2**64 - 1, 2**64]


def test_the_top_id_round_trips_from_cookie_to_every_read(px: Pixel, acme: dict[str, Any]) -> None:
    sid, member_id = acme["segment"]["id"], acme["member"]["id"]
    browser = px.browser()
    browser.set_cookie(str(TOP))
    assert_gif(browser.seg(f"add={sid}"))
    assert browser.uid == str(TOP)  # kept, not replaced
    assert_gif(browser.get(f"/mapuid?member={member_id}&user=crm-1&seg={sid}"))
    px.clock.advance(2)  # past the bidder cache
    body = px.api.ok("GET", f"/user/segments?id={TOP}&member_id={member_id}")
    assert [s["id"] for s in body["segments"]] == [sid]
    assert body["segments"][0]["count"] == 2


@pytest.mark.parametrize("above", ABOVE, ids=["2^63", "2^64-1", "2^64"])
def test_a_cookie_above_the_range_is_a_new_visitor(
    px: Pixel, acme: dict[str, Any], above: int
) -> None:
    browser = px.browser()
    browser.set_cookie(str(above))
    assert_gif(browser.seg(f"add={acme['segment']['id']}"))
    assert browser.uid is not None and 0 < int(browser.uid) <= TOP


def test_batch_lines_outside_the_range_are_rejected_with_their_line(
    px: Pixel, acme: dict[str, Any]
) -> None:
    sid = acme["segment"]["id"]
    high = TOP - secrets.randbelow(10**9)  # near the top (TOP itself: unit tests), and unused
    lines = [f"{high},{sid}", *(f"{above},{sid}" for above in ABOVE), f"0,{sid}"]
    job = uploaded(px.api, "\n".join(lines) + "\n")
    assert (job["lines_read"], job["users_updated"], job["rejected_lines"]) == (5, 1, 4)
    assert [r["line"] for r in job["rejected"]] == [2, 3, 4, 5]
    for rejected, above in zip(job["rejected"], [*ABOVE, 0], strict=True):
        assert rejected["reason"] == (
            f"user id must be a number from 1 to {TOP} (got '{above}')"
        ), rejected
    px.clock.advance(2)
    body = px.api.ok("GET", f"/user/segments?id={high}&member_id={acme['member']['id']}")
    assert [s["id"] for s in body["segments"]] == [sid]


@pytest.mark.parametrize("above", ABOVE[:2], ids=["2^63", "2^64-1"])
def test_reads_and_erasure_refuse_ids_above_the_range(
    px: Pixel, acme: dict[str, Any], above: int
) -> None:
    member_id = acme["member"]["id"]
    for method, path in (
        ("GET", f"/user/segments?id={above}&member_id={member_id}"),
        ("DELETE", f"/user-data?id={above}"),
    ):
        sentence = error_of(px.api.request(method, path), 400, "SYNTAX")
        assert "id" in sentence, sentence
    response = px.api.post(
        "/targeting/evaluate",
        {"user_id": str(above), "profile": {"segment_targets": [{"id": acme["segment"]["id"]}]}},
    )
    sentence = error_of(response, 400, "SYNTAX")
    assert sentence.startswith(f"user_id must be a number from 1 to {TOP}"), sentence
