"""A report's rows as the download: CSV (header row = the columns) or JSON `{"rows": [...]}`."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

import orjson

MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


def render(rows: Sequence[tuple[Any, ...]], columns: Sequence[str], fmt: str) -> bytes:
    """`rows` as report_rows makes them: tuples of the columns' values, in the columns' order."""
    if fmt == "json":
        return orjson.dumps({"rows": as_dicts(rows, columns)})
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return out.getvalue().encode()


def as_dicts(rows: Sequence[tuple[Any, ...]], columns: Sequence[str]) -> list[dict[str, Any]]:
    return [dict(zip(columns, row, strict=True)) for row in rows]
