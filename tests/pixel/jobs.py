"""Helpers for the report and batch upload tests: start a job over the API, wait for its end."""

from __future__ import annotations

import csv
import io
import time
from typing import Any

from tests.helpers import ApiClient

REPORT = "segment_load"


def request_report(api: ApiClient, query: str = "", **report: Any) -> Any:
    """POST /report; the raw response."""
    body = {"report": {"report_type": REPORT, **report}}
    return api.post(f"/report{'?' + query if query else ''}", body)


def wait_report(api: ApiClient, report_id: str, timeout: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        payload = api.ok("GET", f"/report?id={report_id}")
        if payload["execution_status"] != "pending":
            return payload
        assert time.monotonic() < deadline, f"report {report_id} still pending"
        time.sleep(0.02)


def report_rows(api: ApiClient, query: str = "", **report: Any) -> list[dict[str, Any]]:
    """Run a report to its end and return its rows (JSON; CSV when format="csv", as strings)."""
    response = request_report(api, query, **report)
    assert response.status_code == 200, response.text
    report_id = response.json()["response"]["report_id"]
    status = wait_report(api, report_id)
    assert status["execution_status"] == "ready", status
    download = api.get(f"/report-download?id={report_id}")
    assert download.status_code == 200, download.text
    if report.get("format") == "csv":
        assert download.headers["content-type"].startswith("text/csv")
        reader = csv.reader(io.StringIO(download.text))
        header = next(reader)
        assert header == report["columns"]
        return [dict(zip(header, row, strict=True)) for row in reader]
    assert download.headers["content-type"] == "application/json"
    return download.json()["rows"]


def upload(api: ApiClient, text: str, query: str = "", multipart: bool = False) -> Any:
    """POST /batch-segment with the file as the body (text/plain) or as the multipart `file`."""
    path = f"/batch-segment{'?' + query if query else ''}"
    if multipart:
        return api.request("POST", path, files={"file": ("users.txt", text.encode())})
    headers = {"content-type": "text/plain"}
    return api.request("POST", path, content=text.encode(), headers=headers)


def wait_batch(api: ApiClient, job_id: int, timeout: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = api.ok("GET", f"/batch-segment?id={job_id}")["batch-segment"]
        if job["status"] in ("done", "error"):
            return job
        assert time.monotonic() < deadline, f"batch job {job_id} still {job['status']}"
        time.sleep(0.02)


def uploaded(api: ApiClient, text: str, query: str = "", multipart: bool = False) -> dict:
    """Upload and wait: the finished job."""
    response = upload(api, text, query, multipart)
    assert response.status_code == 200, response.text
    return wait_batch(api, response.json()["response"]["batch-segment"]["id"])
