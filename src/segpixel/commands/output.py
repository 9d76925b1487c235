"""What commands print: tables for people, `--json` for scripts, sentences for refusals.

Exit codes: 0 done, 1 the server (or the catalog) refused — its sentence on stderr —, 2 the
command line itself is wrong (Typer's usage errors, and our own checks of options).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

console = Console()
err_console = Console(stderr=True)

JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print the API's JSON instead of a table (for scripts)")
]
REFUSED, USAGE = 1, 2


def fail(message: str, code: int = REFUSED) -> typer.Exit:
    """Say why on stderr; the caller raises what this returns."""
    err_console.print(message, style="red", markup=False, highlight=False)
    return typer.Exit(code)


def usage(message: str) -> typer.Exit:
    return fail(message, USAGE)


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def print_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    table = Table(*columns)
    for row in rows:
        table.add_row(*(cell(v) for v in row))
    console.print(table)


def print_object(fields: dict[str, Any]) -> None:
    table = Table(show_header=False)
    for key, value in fields.items():
        table.add_row(key, cell(value))
    console.print(table)


def show(data: Any, as_json: bool, columns: Sequence[str] | None = None) -> None:
    """One object (a dict) or a list of them, as JSON or as a table of `columns`."""
    if as_json:
        print_json(data)
    elif isinstance(data, dict):
        print_object(data)
    else:
        names = list(columns or (data[0].keys() if data else ["id"]))
        print_table(names, [[item.get(c) for c in names] for item in data])


def say(message: str, as_json: bool, data: Any) -> None:
    """A sentence for people, or the object for scripts."""
    if as_json:
        print_json(data)
    else:
        console.print(message, markup=False, highlight=False)
