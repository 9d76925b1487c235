"""Batch segment upload over real HTTP on both stores (SPEC §9): the file as the body or as the
multipart field `file`, a job that reports lines read, users updated and each rejected line."""

from __future__ import annotations

import secrets
from typing import Any

from tests.helpers import error_of
from tests.pixel.conftest import Pixel
from tests.pixel.jobs import report_rows, upload, uploaded, wait_batch


def uid() -> int:
    return secrets.randbits(62) + 1


def segment_ids(px: Pixel, user_id: int) -> list[int]:
    return [m.segment_id for m in px.read_store(user_id).memberships]


def test_a_well_formed_file_adds_and_counts_loads(px: Pixel, acme: dict[str, Any]) -> None:
    sid = acme["segment"]["id"]
    other = px.segment(acme["member"]["id"], "Other", expire_minutes=30)["id"]
    px.sync()
    users = [uid() for _ in range(3)]
    text = f"{users[0]},{sid}\n{users[1]},{sid}:120:7;{other}\n{users[2]},{other}:0:5"

    job = uploaded(px.api, text)

    assert {k: job[k] for k in ("status", "lines_read", "users_updated", "rejected_lines")} == {
        "status": "done",
        "lines_read": 3,
        "users_updated": 3,
        "rejected_lines": 0,
    }
    assert job["rejected"] == [] and job["error"] is None
    now = px.clock()
    profile = px.read_store(users[1])
    by_id = {m.segment_id: m for m in profile.memberships}
    assert by_id[sid].value == 7 and abs(by_id[sid].expires_at - (now + 120 * 60)) < 60
    assert abs(by_id[other].expires_at - (now + 30 * 60)) < 60  # 0: the segment's own expiry
    assert px.read_store(users[2]).memberships[0].value == 5
    rows = report_rows(
        px.api,
        columns=["segment_id", "source", "total_loads"],
        report_interval="today",
        filters=[{"segment_id": [sid, other]}],
        format="json",
    )
    assert rows == [
        {"segment_id": sid, "source": "batch", "total_loads": 2},
        {"segment_id": other, "source": "batch", "total_loads": 2},
    ]


def test_codes_with_member_id_in_a_multipart_upload(px: Pixel) -> None:
    member = px.member("Codes")
    cars = px.segment(member["id"], "Cars", code="cars")["id"]
    digits = px.segment(member["id"], "Digits", code="123")["id"]
    px.sync()
    user = uid()

    job = uploaded(px.api, f"{user},cars;123\n", f"member_id={member['id']}", multipart=True)

    assert (job["status"], job["users_updated"], job["member_id"]) == ("done", 1, member["id"])
    assert sorted(segment_ids(px, user)) == sorted([cars, digits])
    unknown = uploaded(px.api, f"{user},Cars\n", f"member_id={member['id']}")  # case-sensitive
    assert unknown["rejected"] == [
        {"line": 1, "reason": f"unknown segment 'Cars' in member {member['id']}"}
    ]


def test_minus_one_removes(px: Pixel, acme: dict[str, Any]) -> None:
    sid = acme["segment"]["id"]
    other = px.segment(acme["member"]["id"], "Kept")["id"]
    px.sync()
    user = uid()
    uploaded(px.api, f"{user},{sid};{other}\n")
    assert sorted(segment_ids(px, user)) == sorted([sid, other])

    job = uploaded(px.api, f"{user},{sid}:-1\n")

    assert job["users_updated"] == 1
    assert segment_ids(px, user) == [other]
    rows = report_rows(
        px.api,
        columns=["segment_id", "total_loads"],
        report_interval="today",
        filters=[{"segment_id": sid}],
        format="json",
    )
    assert rows == [{"segment_id": sid, "total_loads": 1}]  # the remove is no load


def test_a_mixed_file_applies_good_lines_and_lists_the_rejected_ones(
    px: Pixel, acme: dict[str, Any]
) -> None:
    sid = acme["segment"]["id"]
    good = [uid(), uid()]
    text = "\n".join(
        [
            f"{good[0]},{sid}",
            "not a line",
            f"abc,{sid}",
            f"{uid()},{sid}:99999999",
            "",
            f"{uid()},{sid};999999",
            f"{good[1]},{sid}:60:12",
            f"{uid()},{sid}:60:0",
        ]
    )

    job = uploaded(px.api, text + "\n")

    assert (job["lines_read"], job["users_updated"], job["rejected_lines"]) == (8, 2, 5)
    assert job["rejected"] == [
        {"line": 2, "reason": "expected UID,SEG[:EXPIRE_MINUTES[:VALUE]];SEG... (no comma)"},
        {"line": 3, "reason": f"user id must be a number from 1 to {2**63 - 1} (got 'abc')"},
        {"line": 4, "reason": f"segment '{sid}': expire minutes must be -1 (remove), 0 (the "
                              "segment's own) or 1 to 259200 (got '99999999')"},
        {"line": 6, "reason": "unknown segment '999999'"},
        {"line": 8, "reason": f"segment '{sid}': value must be 1 to 2147483647 (got '0')"},
    ]  # fmt: skip
    assert all(segment_ids(px, u) == [sid] for u in good)


def test_a_malformed_file_rejects_every_line(px: Pixel) -> None:
    job = uploaded(px.api, "\x00\x01\n" + "é" * 10 + "\n\xff\n")
    assert (job["status"], job["users_updated"], job["rejected_lines"]) == ("done", 0, 3)


def test_tenancy_and_bad_uploads(px: Pixel) -> None:
    acme, other = px.member("Acme"), px.member("Other")
    mine = px.segment(acme["id"], "Mine")["id"]
    theirs = px.segment(other["id"], "Theirs")["id"]
    px.sync()
    member = px.api.make_user(f"acme-{secrets.token_hex(4)}", "member", member_id=acme["id"])

    job = uploaded(member, f"{uid()},{mine}\n{uid()},{theirs}\n")

    assert job["member_id"] == acme["id"]
    assert job["rejected"] == [{"line": 2, "reason": f"unknown segment '{theirs}'"}]
    error_of(upload(member, f"{uid()},{mine}", f"member_id={other['id']}"), 403, "UNAUTH")
    assert "file is empty" in error_of(upload(member, ""), 400, "SYNTAX")
    missing = member.request("POST", "/batch-segment", files={"other": ("x.txt", b"1,2")})
    assert "file is required" in error_of(missing, 400, "SYNTAX")
    admins = upload(px.api, f"{uid()},{theirs}")
    admin_job = admins.json()["response"]["batch-segment"]["id"]
    wait_batch(px.api, admin_job)
    error_of(member.get(f"/batch-segment?id={admin_job}"), 404, "NOTFOUND")
    listed = member.ok("GET", "/batch-segment")
    assert [j["id"] for j in listed["batch-segments"]] == [job["id"]]
    assert "rejected" not in listed["batch-segments"][0]  # GET ?id= has them
