"""The segment loads report request (SPEC §8): what may be asked, checked into a ReportRequest.

Every rule broken is reported at once, each as a sentence that names its field. Decisions where
the reference is silent:

- Days are UTC. `last_48_hours` is yesterday and today (counts are kept by the day);
  `last_7_days` is today and the six days before; `month_to_date` runs from the 1st to today.
- `start_date` is included and `end_date` excluded, as in the reference's Report Service; both are
  `YYYY-MM-DD` (a `HH:MM:SS` part must be midnight); at most MAX_DAYS days.
- The dimension columns (segment_id, segment_name, day, month, source) group the rows; the rows
  are those with at least one load.
- Users are counted per segment and day / month, not per source: the uniques columns cannot be
  split by `source`. Without a segment column they add up each segment's uniques.
- `groups` (from the reference's examples) may name dimension columns, which group anyway;
  `timezone` may only be UTC.
- As the reference's Report Service documents (SPEC §8): without an interval and without dates
  the report is `today`; `orders` (column names, or `{"order_by", "direction"}`) sorts the rows;
  `emails` is accepted but no mail is sent (a note says so).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from segpixel.domain.errors import FieldError, ValidationFailed, field_error
from segpixel.domain.loads import Grain

REPORT_TYPE = "segment_load"
DIMENSIONS = ("segment_id", "segment_name", "day", "month", "source")
METRICS = ("total_loads", "daily_uniques", "monthly_uniques", "avg_daily_uniques")
COLUMNS = DIMENSIONS + METRICS
NEEDS = {"daily_uniques": "day", "monthly_uniques": "month", "avg_daily_uniques": "month"}
INTERVALS = ("today", "yesterday", "last_48_hours", "last_7_days", "month_to_date")
FORMATS = ("csv", "json")
FIELDS = (
    "report_type",
    "columns",
    "report_interval",
    "start_date",
    "end_date",
    "filters",
    "format",
    "groups",
    "timezone",
    "orders",
    "emails",
)
DIRECTIONS = ("asc", "desc")
NO_MAIL = (
    "emails: segpixel sends no mail; download the report with GET /report-download?id= once "
    "execution_status is ready"
)
MAX_DAYS = 731
MAX_SEGMENT_ID = 2**31 - 1


@dataclass(frozen=True, slots=True)
class ReportRequest:
    columns: tuple[str, ...]
    first: date  # the first day reported
    last: date  # the last day reported (included)
    segment_ids: tuple[int, ...] | None  # the filter; None: every segment the caller sees
    format: str = "csv"
    interval: str | None = None  # as asked, or None for start_date/end_date
    orders: tuple[tuple[str, bool], ...] = ()  # (column, descending), the first sorts first
    notes: tuple[str, ...] = ()  # what was accepted and ignored, for dbg_info.warnings

    @property
    def daily_uniques(self) -> bool:
        """Whether the report needs the daily uniques (avg_daily_uniques is made of them)."""
        return "daily_uniques" in self.columns or "avg_daily_uniques" in self.columns

    @property
    def monthly_uniques(self) -> bool:
        return "monthly_uniques" in self.columns

    @property
    def grain(self) -> Grain:
        """How finely the report needs the counters summed: by its finest period column and by
        source when that is a column (always by segment: uniques add up per segment)."""
        columns = self.columns
        period = "day" if "day" in columns else "month" if "month" in columns else "range"
        return Grain(period, "source" in columns)

    def uniques_last(self, today: date) -> date:
        """The last day whose daily uniques the report reads. Month rows only use them for the
        average, which covers the days up to today; day rows show each day's own."""
        return min(self.last, today) if self.grain.period == "month" else self.last

    def as_params(self) -> dict[str, Any]:
        """JSON for the job row; `from_params` reads it back."""
        return {
            "columns": list(self.columns),
            "first": self.first.isoformat(),
            "last": self.last.isoformat(),
            "segment_ids": None if self.segment_ids is None else list(self.segment_ids),
            "format": self.format,
            "interval": self.interval,
            "orders": [[column, descending] for column, descending in self.orders],
        }

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> ReportRequest:
        ids = params.get("segment_ids")
        return cls(
            tuple(params["columns"]),
            date.fromisoformat(params["first"]),
            date.fromisoformat(params["last"]),
            None if ids is None else tuple(ids),
            params["format"],
            params.get("interval"),
            tuple((column, bool(descending)) for column, descending in params.get("orders", ())),
        )


def interval_days(interval: str, today: date) -> tuple[date, date]:
    """The first and last day (both included) of a named interval."""
    one = timedelta(days=1)
    return {
        "today": (today, today),
        "yesterday": (today - one, today - one),
        "last_48_hours": (today - one, today),
        "last_7_days": (today - 6 * one, today),
        "month_to_date": (today.replace(day=1), today),
    }[interval]


def parse_report(body: Any, today: date) -> ReportRequest:
    """`{"report": {...}}` → a ReportRequest, or ValidationFailed naming every broken field."""
    report = body.get("report") if isinstance(body, dict) else None
    if not isinstance(report, dict):
        raise ValidationFailed([field_error("report", 'is required: send {"report": {...}}')])
    errors: list[FieldError] = []
    for name in report:
        if name not in FIELDS:
            errors.append(field_error(name, f"is not a field of a report ({', '.join(FIELDS)})"))
    if report.get("report_type") != REPORT_TYPE:
        got = f" (got {report.get('report_type')!r})" if "report_type" in report else ""
        errors.append(field_error("report_type", f'must be "{REPORT_TYPE}"{got}'))
    columns = _columns(report.get("columns"), errors)
    _groups(report.get("groups"), columns, errors)
    span = _span(report, today, errors)
    segment_ids = _filters(report.get("filters"), errors)
    fmt = report.get("format", "csv")
    if fmt not in FORMATS:
        errors.append(field_error("format", f"must be csv or json (got {fmt!r})"))
    if report.get("timezone") not in (None, "UTC", "utc"):
        errors.append(field_error("timezone", "must be UTC: loads are counted by UTC day"))
    orders = _orders(report.get("orders"), columns, errors)
    notes = _emails(report.get("emails"), errors)
    if errors or span is None:
        raise ValidationFailed(errors)
    interval = report.get("report_interval")
    if interval is None and "start_date" not in report and "end_date" not in report:
        interval = "today"
    return ReportRequest(
        tuple(columns), span[0], span[1], segment_ids, fmt, interval, orders, notes
    )


def _columns(value: Any, errors: list[FieldError]) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(c, str) for c in value):
        errors.append(field_error("columns", f"must be a list of columns ({', '.join(COLUMNS)})"))
        return []
    seen: list[str] = []
    for column in value:
        if column not in COLUMNS:
            errors.append(
                field_error(
                    "columns",
                    f"has {column!r}, which is not a column of the {REPORT_TYPE} report "
                    f"({', '.join(COLUMNS)})",
                )
            )
        elif column in seen:
            errors.append(field_error("columns", f"lists {column} twice"))
        else:
            seen.append(column)
    for metric, needed in NEEDS.items():
        if metric in seen and needed not in seen:
            errors.append(field_error("columns", f"must include {needed} to report {metric}"))
        if metric in seen and "source" in seen:
            errors.append(
                field_error(
                    "columns",
                    f"cannot split {metric} by source: users are counted per segment and "
                    "period, whatever brought them",
                )
            )
    return seen


def _groups(value: Any, columns: list[str], errors: list[FieldError]) -> None:
    if value is None:
        return
    dims = [c for c in columns if c in DIMENSIONS]
    if not isinstance(value, list) or any(g not in dims for g in value):
        errors.append(
            field_error(
                "groups",
                f"may only name the dimension columns asked for ({', '.join(dims) or 'none'}); "
                "rows are grouped by every one of them",
            )
        )


def _span(
    report: dict[str, Any], today: date, errors: list[FieldError]
) -> tuple[date, date] | None:
    interval = report.get("report_interval")
    has_dates = "start_date" in report or "end_date" in report
    if interval is not None:
        if has_dates:
            errors.append(
                field_error("report_interval", "cannot be combined with start_date/end_date")
            )
        elif interval not in INTERVALS:
            errors.append(
                field_error(
                    "report_interval", f"must be one of {', '.join(INTERVALS)} (got {interval!r})"
                )
            )
        else:
            return interval_days(interval, today)
        return None
    if not has_dates:  # neither: today, as the reference's Report Service does
        return interval_days("today", today)
    start = _date("start_date", report.get("start_date"), errors)
    end = _date("end_date", report.get("end_date"), errors)
    if start is None or end is None:
        return None
    if end <= start:
        errors.append(field_error("end_date", "must be after start_date (end_date is excluded)"))
        return None
    if (end - start).days > MAX_DAYS:
        errors.append(
            field_error(
                "end_date",
                f"is {(end - start).days} days after start_date; a report covers at most "
                f"{MAX_DAYS} days",
            )
        )
        return None
    return start, end - timedelta(days=1)


def _orders(
    value: Any, columns: list[str], errors: list[FieldError]
) -> tuple[tuple[str, bool], ...]:
    """`["day", {"order_by": "total_loads", "direction": "DESC"}]` → (("day", False), …)."""
    if value is None:
        return ()
    rule = 'must be a list of columns or {"order_by": COLUMN, "direction": "asc"|"desc"}'
    if not isinstance(value, list):
        errors.append(field_error("orders", rule))
        return ()
    orders: list[tuple[str, bool]] = []
    for i, item in enumerate(value):
        field = f"orders[{i}]"
        if isinstance(item, dict):
            unknown = [k for k in item if k not in ("order_by", "direction")]
            column, direction = item.get("order_by"), item.get("direction") or "asc"
            if unknown:
                errors.append(field_error(f"{field}.{unknown[0]}", "is not a field of an order"))
                continue
        else:
            column, direction = item, "asc"
        if not isinstance(column, str) or column not in columns:
            errors.append(
                field_error(
                    field,
                    f"must name one of the report's columns ({', '.join(columns) or 'none'}); "
                    f"got {str(column)[:60]!r}",
                )
            )
        elif not isinstance(direction, str) or direction.lower() not in DIRECTIONS:
            errors.append(
                field_error(f"{field}.direction", f"must be asc or desc (got {direction!r})")
            )
        else:
            orders.append((column, direction.lower() == "desc"))
    return tuple(orders)


def _emails(value: Any, errors: list[FieldError]) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors.append(field_error("emails", "must be a list of e-mail addresses"))
        return ()
    return (NO_MAIL,) if value else ()


def _date(name: str, value: Any, errors: list[FieldError]) -> date | None:
    if value is None:
        errors.append(field_error(name, "is required with start_date/end_date (YYYY-MM-DD)"))
        return None
    try:
        moment = datetime.fromisoformat(str(value)) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is not None:
        errors.append(field_error(name, f"must be a date YYYY-MM-DD (got {str(value)[:40]!r})"))
        return None
    if moment.time() != datetime.min.time():
        errors.append(field_error(name, "must be a whole UTC day: loads are counted by day"))
        return None
    return moment.date()


def _filters(value: Any, errors: list[FieldError]) -> tuple[int, ...] | None:
    if value is None:
        return None
    rule = 'must be a list like [{"segment_id": [1, 2]}]'
    if not isinstance(value, list) or not all(isinstance(f, dict) for f in value):
        errors.append(field_error("filters", rule))
        return None
    ids: list[int] = []
    for item in value:
        for key, wanted in item.items():
            if key != "segment_id":
                errors.append(
                    field_error("filters", f"can only filter on segment_id (got {key!r})")
                )
                continue
            wanted = wanted if isinstance(wanted, list) else [wanted]
            if not wanted or not all(_is_id(v) for v in wanted):
                errors.append(
                    field_error("filters", "segment_id must be segment ids (integers from 1)")
                )
                continue
            for v in wanted:
                if int(v) not in ids:
                    ids.append(int(v))
    return tuple(ids) if ids else None


def _is_id(value: Any) -> bool:
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_SEGMENT_ID
