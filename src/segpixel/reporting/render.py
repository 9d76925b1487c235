"""A report as the download: CSV (header row = the columns) or JSON `{"rows": [...]}`.

Both are written column by column: each distinct value of a column is written once (CSV: `str()`
of an int, the csv module's quoting of anything else, a text a spreadsheet would take for a
formula behind an apostrophe; JSON: `"column":` and orjson's value), and
the rows are joined by C-level maps — byte for byte what `csv.writer` and `orjson.dumps` of the
rows write, in a fraction of their time for a year of a thousand segments (365,000 rows).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

import orjson

from segpixel.domain.report_rows import ReportTable

MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection): such a cell
# is written with a leading apostrophe, which spreadsheets show as text (OWASP's advice).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutral(value: Any) -> Any:
    """A CSV cell's value, a text that a spreadsheet would run as a formula made inert."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def render(table: ReportTable, fmt: str) -> bytes:
    """The whole download of a report."""
    return head(table.columns, fmt) + body(table, fmt) + tail(fmt)


def head(columns: Sequence[str], fmt: str) -> bytes:
    """What a download starts with: CSV's header row, or JSON's `{"rows":[`."""
    return b'{"rows":[' if fmt == "json" else _header_csv(columns)


def body(table: ReportTable, fmt: str) -> bytes:
    """The rows of `table`: CSV lines, or JSON objects joined by commas (b"" when none), so that
    the bodies of a report's parts, in order, make its rows: `join(columns, fmt, bodies)`."""
    if not len(table):
        return b""
    if fmt == "json":
        members = [_members(c, v) for c, v in zip(table.columns, table.values, strict=True)]
        return ("{" + "},{".join(map(",".join, zip(*members, strict=True))) + "}").encode()
    if len(table.columns) == 1:  # csv.writer's own rule for a row of one empty field: '""'
        (values,) = table.values
        return "".join(_lone_field(v) + "\n" for v in values).encode()
    fields = [_fields(values) for values in table.values]
    return ("\n".join(map(",".join, zip(*fields, strict=True))) + "\n").encode()


def tail(fmt: str) -> bytes:
    return b"]}" if fmt == "json" else b""


def join(columns: Sequence[str], fmt: str, bodies: Iterable[bytes]) -> bytes:
    """A download from its parts' bodies, in order."""
    rows = (b"," if fmt == "json" else b"").join(part for part in bodies if part)
    return head(columns, fmt) + rows + tail(fmt)


def as_dicts(rows: Sequence[tuple[Any, ...]], columns: Sequence[str]) -> list[dict[str, Any]]:
    return [dict(zip(columns, row, strict=True)) for row in rows]


def _fields(values: list[Any]) -> Iterable[str]:
    """A column's values as CSV fields, each distinct value written once: making a string is
    what costs (a year of a thousand segments has 1,000 ids, 365 days and a few hundred
    different counts in 365,000 rows)."""
    distinct = set(values)
    if set(map(type, distinct)) == {int}:  # what csv.writer writes of an int: str(), unquoted
        if len(distinct) > len(values) // 2:
            return map(str, values)
        written = {value: str(value) for value in distinct}
    else:
        written = {value: _field(value) for value in distinct}
    return map(written.__getitem__, values)


def _members(column: str, values: list[Any]) -> Iterable[str]:
    """A column's values as JSON object members, `"column":value`, as orjson writes them."""
    name = orjson.dumps(column).decode() + ":"
    distinct = set(values)
    if set(map(type, distinct)) == {int} and len(distinct) > len(values) // 2:
        return map(name.__add__, map(str, values))  # orjson writes an int as str() does
    written = {value: name + orjson.dumps(value).decode() for value in distinct}
    return map(written.__getitem__, values)


def _field(value: Any) -> str:
    """`value` as csv.writer writes it inside a row of several fields (quoted if need be; also
    a text with a carriage return, which Python 3.11's writer leaves bare and readers take for
    the end of the row)."""
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerow([neutral(value), ""])
    field = out.getvalue()[:-2]  # the row is '<field>,\n'
    if "\r" in field and not field.startswith('"'):
        field = '"' + field.replace('"', '""') + '"'
    return field


def _lone_field(value: Any) -> str:
    """The only field of a row: as `_field`, but empty is written '""' (else the row would be
    an empty line)."""
    return '""' if value is None or value == "" else _field(value)


def _header_csv(columns: Sequence[str]) -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerow(columns)
    return out.getvalue().encode()
