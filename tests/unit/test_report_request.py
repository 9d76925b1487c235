"""The segment loads report: what may be asked (each error names its field) and its rows."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from segpixel.domain.errors import ValidationFailed
from segpixel.domain.loads import LoadFacts, day_number
from segpixel.domain.report_request import ReportRequest, interval_days, parse_report
from segpixel.domain.report_rows import report_rows
from segpixel.reporting.render import as_dicts

TODAY = date(2026, 3, 2)  # a Monday, two days into March
BASE = {"report_type": "segment_load", "columns": ["segment_id", "total_loads"]}


def parse(**fields: Any) -> ReportRequest:
    report = {**BASE, "report_interval": "today", **fields}
    return parse_report({"report": {k: v for k, v in report.items() if v is not None}}, TODAY)


def error(**fields: Any) -> str:
    with pytest.raises(ValidationFailed) as info:
        parse(**fields)
    return str(info.value)


@pytest.mark.parametrize(
    ("interval", "first", "last"),
    [
        pytest.param("today", date(2026, 3, 2), date(2026, 3, 2), id="today"),
        pytest.param("yesterday", date(2026, 3, 1), date(2026, 3, 1), id="yesterday"),
        pytest.param("last_48_hours", date(2026, 3, 1), date(2026, 3, 2), id="last_48_hours"),
        pytest.param("last_7_days", date(2026, 2, 24), date(2026, 3, 2), id="last_7_days"),
        pytest.param("month_to_date", date(2026, 3, 1), date(2026, 3, 2), id="month_to_date"),
    ],
)
def test_intervals_are_utc_days(interval: str, first: date, last: date) -> None:
    assert interval_days(interval, TODAY) == (first, last)
    request = parse(report_interval=interval)
    assert (request.first, request.last, request.interval) == (first, last, interval)


def test_start_date_is_included_and_end_date_excluded() -> None:
    request = parse(report_interval=None, start_date="2026-01-30", end_date="2026-02-02 00:00:00")
    assert (request.first, request.last) == (date(2026, 1, 30), date(2026, 2, 1))


def test_no_interval_and_no_dates_is_today_as_the_reference() -> None:
    request = parse(report_interval=None)
    assert (request.first, request.last, request.interval) == (TODAY, TODAY, "today")


def test_orders_and_emails_as_the_reference_documents_them() -> None:
    request = parse(
        columns=["segment_id", "day", "total_loads"],
        orders=["day", {"order_by": "total_loads", "direction": "DESC"}],
        emails=["ops@example.com"],
    )
    assert request.orders == (("day", False), ("total_loads", True))
    assert request.notes and "no mail" in request.notes[0]
    assert ReportRequest.from_params(request.as_params()).orders == request.orders
    assert parse(emails=[]).notes == ()


def test_a_full_request_round_trips_through_the_job_params() -> None:
    request = parse(
        columns=["segment_name", "day", "daily_uniques", "total_loads"],
        filters=[{"segment_id": [3, "4"]}, {"segment_id": 3}],
        format="json",
        groups=["day"],
        timezone="UTC",
        orders=[{"order_by": "daily_uniques", "direction": "desc"}],
    )
    assert request.segment_ids == (3, 4)
    assert request.daily_uniques and not request.monthly_uniques
    assert ReportRequest.from_params(request.as_params()) == request


@pytest.mark.parametrize(
    ("fields", "sentence"),
    [
        pytest.param(
            {"columns": ["segment_id", "clicks"]},
            "columns has 'clicks', which is not a column of the segment_load report",
            id="unknown-column",
        ),
        pytest.param(
            {"columns": ["segment_id", "daily_uniques"]},
            "columns must include day to report daily_uniques",
            id="daily-uniques-without-day",
        ),
        pytest.param(
            {"columns": ["day", "monthly_uniques"]},
            "columns must include month to report monthly_uniques",
            id="monthly-uniques-without-month",
        ),
        pytest.param(
            {"columns": ["segment_id", "avg_daily_uniques"]},
            "columns must include month to report avg_daily_uniques",
            id="avg-without-month",
        ),
        pytest.param(
            {"columns": ["day", "source", "daily_uniques"]},
            "columns cannot split daily_uniques by source",
            id="uniques-by-source",
        ),
        pytest.param({"columns": []}, "columns must be a list of columns", id="no-columns"),
        pytest.param({"columns": ["day", "day"]}, "columns lists day twice", id="twice"),
        pytest.param(
            {"report_type": "network_analytics"},
            "report_type must be \"segment_load\" (got 'network_analytics')",
            id="report-type",
        ),
        pytest.param(
            {"report_interval": "lifetime"},
            "report_interval must be one of today, yesterday",
            id="interval",
        ),
        pytest.param(
            {"start_date": "2026-01-01"},
            "report_interval cannot be combined with start_date/end_date",
            id="both",
        ),
        pytest.param(
            {"report_interval": None, "start_date": "2026-01-05", "end_date": "2026-01-05"},
            "end_date must be after start_date (end_date is excluded)",
            id="empty-range",
        ),
        pytest.param(
            {"report_interval": None, "start_date": "01/05/2026", "end_date": "2026-01-06"},
            "start_date must be a date YYYY-MM-DD (got '01/05/2026')",
            id="date-format",
        ),
        pytest.param(
            {
                "report_interval": None,
                "start_date": "2026-01-05 12:00:00",
                "end_date": "2026-02-01",
            },
            "start_date must be a whole UTC day",
            id="not-midnight",
        ),
        pytest.param(
            {"report_interval": None, "start_date": "2020-01-01", "end_date": "2026-01-01"},
            "a report covers at most 731 days",
            id="too-long",
        ),
        pytest.param(
            {"filters": [{"day": "2026-01-01"}]},
            "filters can only filter on segment_id (got 'day')",
            id="filter-field",
        ),
        pytest.param(
            {"filters": [{"segment_id": [1, -2]}]},
            "filters segment_id must be segment ids",
            id="filter-value",
        ),
        pytest.param({"format": "xlsx"}, "format must be csv or json", id="format"),
        pytest.param({"timezone": "CET"}, "timezone must be UTC", id="timezone"),
        pytest.param(
            {"groups": ["month"]}, "groups may only name the dimension columns", id="groups"
        ),
        pytest.param({"order": ["day"]}, "order is not a field of a report", id="unknown-field"),
        pytest.param(
            {"orders": ["day"]},
            "orders[0] must name one of the report's columns (segment_id, total_loads); got 'day'",
            id="order-not-a-column",
        ),
        pytest.param(
            {"orders": [{"order_by": "total_loads", "direction": "up"}]},
            "orders[0].direction must be asc or desc (got 'up')",
            id="order-direction",
        ),
        pytest.param(
            {"emails": "a@b.example"}, "emails must be a list of e-mail addresses", id="emails"
        ),
    ],
)
def test_bad_requests_name_the_field(fields: dict[str, Any], sentence: str) -> None:
    assert sentence in error(**fields)


def test_every_broken_field_is_reported_at_once() -> None:
    message = error(columns=["daily_uniques"], format="pdf")
    assert "columns must include day" in message and "format must be csv or json" in message


def test_a_body_without_report_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="report is required"):
        parse_report({"columns": []}, TODAY)


# -- rows ---------------------------------------------------------------------------------------

# The counters as kept (FINEST); a store sums them to each report's grain.
FACTS = LoadFacts.of(
    loads={
        (1, 20260228, "pixel"): 5,
        (1, 20260301, "pixel"): 3,
        (1, 20260301, "batch"): 2,
        (2, 20260301, "pixel"): 7,
    },
    daily_uniques={(1, 20260228): 4, (1, 20260301): 3, (2, 20260301): 6},
    monthly_uniques={(1, 202602): 40, (1, 202603): 3, (2, 202603): 6},
)
NAMES = {1: "Cars", 2: "Boats"}


def rows(columns: list[str], **fields: Any) -> list[dict[str, Any]]:
    fields.setdefault("report_interval", None)
    fields.setdefault("start_date", "2026-02-28")
    fields.setdefault("end_date", "2026-03-03")
    request = parse(columns=columns, **fields)
    facts = FACTS.summed(request.grain, day_number(request.uniques_last(TODAY)))
    return as_dicts(report_rows(request, facts, NAMES, TODAY), columns)


def test_rows_by_segment_and_day_with_uniques() -> None:
    got = rows(["segment_id", "segment_name", "day", "total_loads", "daily_uniques"])
    assert got == [
        {"segment_id": 1, "segment_name": "Cars", "day": "2026-02-28", "total_loads": 5,
         "daily_uniques": 4},
        {"segment_id": 1, "segment_name": "Cars", "day": "2026-03-01", "total_loads": 5,
         "daily_uniques": 3},
        {"segment_id": 2, "segment_name": "Boats", "day": "2026-03-01", "total_loads": 7,
         "daily_uniques": 6},
    ]  # fmt: skip


def test_rows_by_source_and_the_sums_without_dimensions() -> None:
    assert rows(["source", "total_loads"]) == [
        {"source": "pixel", "total_loads": 15},
        {"source": "batch", "total_loads": 2},
    ]
    assert rows(["total_loads"]) == [{"total_loads": 17}]


def test_month_rows_and_the_average_over_the_covered_days_to_today() -> None:
    got = rows(["segment_name", "month", "total_loads", "monthly_uniques", "avg_daily_uniques"])
    # Boats sort before Cars by name. March: the 1st and 2nd are covered up to today (the 3rd is
    # in the future): Cars (3 + 0) / 2 days; February: one covered day, the 28th.
    assert got == [
        {"segment_name": "Boats", "month": "2026-03", "total_loads": 7, "monthly_uniques": 6,
         "avg_daily_uniques": 3},
        {"segment_name": "Cars", "month": "2026-02", "total_loads": 5, "monthly_uniques": 40,
         "avg_daily_uniques": 4},
        {"segment_name": "Cars", "month": "2026-03", "total_loads": 5, "monthly_uniques": 3,
         "avg_daily_uniques": 2},
    ]  # fmt: skip


def test_uniques_without_a_segment_column_add_up_each_segments() -> None:
    got = rows(["day", "daily_uniques"])
    assert got == [
        {"day": "2026-02-28", "daily_uniques": 4},
        {"day": "2026-03-01", "daily_uniques": 9},
    ]
