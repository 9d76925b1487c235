"""The reference's Batch Segment Service over real HTTP on both profile stores (SPEC §9.2): a
job and its upload_url (single use, 5 minutes, its member's only), gzip files in the member's
format (/batch-segment-config), the reference's counters checked against what the store holds,
ids out of range, 1,801 segments on a line, Latin-1, and a gzip bomb stopped."""

from __future__ import annotations

import gzip
import secrets
import time
import zlib
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import update

from segpixel.catalog.repo import utcnow
from segpixel.catalog.tables import Job
from tests.helpers import ApiClient, error_of
from tests.pixel.conftest import Pixel

REFERENCE_FORMAT = {  # the reference's sample configuration (Batch Segment Config service)
    "separator_1": ";",
    "separator_2": ",",
    "separator_3": ":",
    "separator_4": "\t",
    "segment_fields": "[SEG_ID,EXPIRATION,VALUE]",
}
JOB = "batch_segment_upload_job"


def uid() -> int:
    return secrets.randbits(62) + 1


def new_job(api: ApiClient, member_id: int, body: Any = None) -> dict[str, Any]:
    """Step 1: POST /batch-segment with an empty body (as `curl -X POST -d ''` sends it)."""
    response = api.request(
        "POST",
        f"/batch-segment?member_id={member_id}",
        body,
        **({} if body is not None else {"content": b""}),
        headers={} if body is not None else {"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200, response.text
    job = response.json()["response"][JOB]
    assert set(job) == {"id", "job_id", "member_id", "upload_url", "last_modified"}
    return job


def post_file(api: ApiClient, url: str, data: bytes, **headers: str) -> Any:
    """Step 2: the file to the upload_url, as the reference's example sends it."""
    headers = {"content-type": "application/octet-stream", **headers}
    return api.request("POST", url, content=data, headers=headers)


def wait_job(api: ApiClient, member_id: int, job_id: str, timeout: float = 30.0) -> dict:
    """Step 3: GET ?member_id=&job_id= until the phase is completed or error."""
    deadline = time.monotonic() + timeout
    while True:
        job = api.ok("GET", f"/batch-segment?member_id={member_id}&job_id={job_id}")[JOB]
        if job["phase"] in ("completed", "error"):
            return job
        assert time.monotonic() < deadline, f"job {job_id} still {job['phase']}"
        time.sleep(0.05)


def segment_ids(px: Pixel, user_id: int) -> dict[int, Any]:
    return {m.segment_id: m for m in px.read_store(user_id).memberships}


def test_three_steps_with_a_gzip_file_in_the_reference_format(px: Pixel) -> None:
    member = px.member("Data provider")
    mid = member["id"]
    s1 = px.segment(mid, "Autos", code="autos")["id"]
    s2 = px.segment(mid, "Bikes")["id"]
    px.sync()
    config = px.api.ok(
        "PUT", f"/batch-segment-config?member_id={mid}", {"batch-segment-config": REFERENCE_FORMAT}
    )["batch-segment-config"]
    assert config["segment_fields"] == ["SEG_ID", "EXPIRATION", "VALUE"]
    users = [uid() for _ in range(3)]
    too_many = ",".join(f"{s1}:0" for _ in range(1801))
    lines = [
        f"{users[0]};{s1}:0,{s2}:1440:7".encode(),
        f"{users[1]};autos:0\t{s2}".encode(),  # a code; then a removal after separator_4
        f"{2**63};{s1}:0".encode(),  # out of range
        f"{users[2]};999999999:0".encode(),
        f"{uid()};{too_many}".encode(),
        f"{uid()};caf".encode() + b"\xe9:0",  # Latin-1
        b"",
    ]
    data = gzip.compress(b"\n".join(lines))

    job = new_job(px.api, mid)
    assert job["member_id"] == mid and job["upload_url"].endswith(
        f"/segment-upload/{job['job_id']}"
    )
    status = px.api.ok("GET", f"/batch-segment?member_id={mid}&job_id={job['job_id']}")[JOB]
    assert (status["phase"], status["percent_complete"]) == ("starting", 0)
    uploaded = post_file(px.api, job["upload_url"], data)
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json()["response"]["segment_upload"] == {"job_id": job["job_id"]}

    done = wait_job(px.api, mid, job["job_id"])

    assert done["phase"] == "completed" and done["error_code"] is None, done
    counters = {k: v for k, v in done.items() if k.startswith("num_")}
    assert counters == {
        "num_valid": 4,  # two adds; an add and a remove
        "num_valid_user": 2,
        "num_invalid_format": 1,
        "num_invalid_user": 1,
        "num_invalid_segment": 2,
        "num_invalid_timestamp": 0,
        "num_unauth_segment": 0,
        "num_past_expiration": 0,
        "num_inactive_segment": 0,
        "num_other_error": 0,
    }
    assert done["percent_complete"] == 100 and done["uploaded_time"] and done["completed_time"]
    log = done["error_log_lines"].split("\n")
    assert log[0] == (
        f"num_invalid_user-{2**63};{s1}:0 failed: user id must be a number from 1 to "
        f"{2**63 - 1} (got '{2**63}')"
    )
    assert log[1].startswith(f"num_invalid_segment-{users[2]};999999999:0 failed: unknown")
    assert (
        log[2].startswith("num_invalid_format-") and "1801 segments on the line: at most" in log[2]
    )
    assert log[3].startswith("num_invalid_segment-") and "café" in log[3]
    assert done["segment_log_lines"] == f"{s1}:2\n{s2}:1"
    # what the counters say is what the store holds
    first, second, third = (segment_ids(px, u) for u in users)
    assert set(first) == {s1, s2} and first[s2].value == 7
    assert set(second) == {s1} and third == {}
    listed = px.api.ok("GET", f"/batch-segment?member_id={mid}")
    assert [j["job_id"] for j in listed[JOB]] == [job["job_id"]]
    assert listed["batch-segments"][0]["status"] == "done"


def test_the_upload_url_is_single_use_expires_and_is_its_members_only(px: Pixel) -> None:
    a, b = px.member("A"), px.member("B")
    sid = px.segment(a["id"], "Seg")["id"]
    px.sync()
    member_b = px.api.make_user(f"b-{secrets.token_hex(4)}", "member", member_id=b["id"])
    line = f"{uid()},{sid}\n".encode()

    job = new_job(px.api, a["id"], {JOB: {}})
    assert "not found" in error_of(post_file(member_b, job["upload_url"], line), 404, "NOTFOUND")
    assert post_file(px.api, job["upload_url"], line).status_code == 200
    reused = post_file(px.api, job["upload_url"], line)
    assert "single use" in error_of(reused, 409, "INTEGRITY")
    assert wait_job(px.api, a["id"], job["job_id"])["num_valid_user"] == 1

    late = new_job(px.api, a["id"])
    with px.catalog.session() as session:  # made six minutes ago
        session.execute(
            update(Job)
            .where(Job.public_id == late["job_id"])
            .values(created_at=utcnow() - timedelta(minutes=6))
        )
    assert "expired" in error_of(post_file(px.api, late["upload_url"], line), 400, "SYNTAX")
    status = px.api.ok("GET", f"/batch-segment?job_id={late['job_id']}")[JOB]
    assert (status["phase"], status["error_code"]) == ("error", "upload-url-expired")


def test_a_gzip_bomb_stops_with_a_clear_error(px: Pixel, extra_servers: Any) -> None:
    limit = 4 << 20
    server = extra_servers.start(batch_max_bytes=limit)
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        _bomb_is_stopped(ApiClient(client).login(), px.member("Bombed"), limit)


def _bomb_is_stopped(api: ApiClient, member: dict[str, Any], limit: int) -> None:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"\n" * (1 << 20)
    bomb = b"".join(packer.compress(block) for _ in range(1024)) + packer.flush()  # 1 GiB
    assert len(bomb) < limit

    job = new_job(api, member["id"])
    assert post_file(api, job["upload_url"], bomb).status_code == 200

    done = wait_job(api, member["id"], job["job_id"])
    assert (done["phase"], done["error_code"]) == ("error", "FILESIZE_LIMIT_EXCEEDED"), done
    assert "inflates to more than SEGPIXEL_BATCH_MAX_BYTES" in done["error"]
    assert done["status"] == "error"


def test_the_config_says_what_is_wrong_and_names_what_it_ignores(px: Pixel) -> None:
    mid = px.member("Configured")["id"]
    default = px.api.ok("GET", f"/batch-segment-config?member_id={mid}")
    assert default["batch_segment_upload_config"] == default["batch-segment-config"]
    assert {k: default["batch-segment-config"][k] for k in ("separator_1", "separator_2")} == {
        "separator_1": ",",
        "separator_2": ";",
    }
    bad = px.api.put(
        f"/batch-segment-config?member_id={mid}",
        {"batch-segment-config": {"separator_2": ",", "segment_fields": ["VALUE"]}},
    )
    message = error_of(bad, 400, "SYNTAX")
    assert "separator_2 must differ from separator_1" in message
    assert "segment_fields must name exactly one of SEG_ID, SEG_CODE" in message
    answer = px.api.ok(
        "PUT",
        f"/batch-segment-config?member_id={mid}",
        {"batch_segment_upload_config": {"separator_1": "\t", "num_error_log_lines": 50}},
    )
    assert answer["batch-segment-config"]["separator_1"] == "\t"
    assert "num_error_log_lines is documented by the reference" in answer["dbg_info"]["warnings"][0]
    meta = px.api.ok("GET", "/batch-segment-config/meta")
    assert "separator_5" in meta["not_implemented"]
    fields = {f["name"] for f in px.api.ok("GET", "/batch-segment/meta")["fields"]}
    assert {"phase", "num_invalid_user", "error_log_lines", "job_id"} <= fields
