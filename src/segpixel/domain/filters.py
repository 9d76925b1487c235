"""Listing filters of the reference (SPEC §2.1), read from a query string. Pure.

Given a service's fields: `state=active` (equality; a comma-separated list on numbers and
enumerations, `advertiser_id=1,2,3`; `null` on a nullable number), `not_state=inactive`,
`min_last_modified=2026-11-01 00:00:00` / `max_expire_minutes=1440` on numbers and dates,
`like_short_name=car` (contains, ignoring case) on text, and `fields=id,code` to project. A name
that is none of these is SYNTAX naming it, so a misspelt filter never silently lists everything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from segpixel.domain.errors import FieldError, ValidationFailed, field_error

INT, STRING, ENUM, DATE, ARRAY, OBJECT = "int", "string", "enum", "date", "array", "object"
SCALAR_TYPES = (INT, STRING, ENUM, DATE)
MAX_INT = 2**63 - 1
MAX_ID = 2**31 - 1
MAX_LISTED = 1000  # values in one comma-separated filter


@dataclass(frozen=True, slots=True)
class FieldInfo:
    """One field of a service as its answers show it."""

    name: str
    type: str  # int | string | enum | date | array | object
    filter: bool = True
    sort: bool = True
    nullable: bool = False
    read_only: bool = False

    def as_meta(self) -> dict[str, object]:
        return {
            "name": self.name,
            "type": self.type,
            "filter_by": self.filter,
            "sort_by": self.sort,
            "read_only": self.read_only,
        }


@dataclass(frozen=True, slots=True)
class Filter:
    field: str
    op: str  # in | not_in | eq | ne | min | max | like | null | not_null
    values: tuple[Any, ...] = ()


# prefix → (operator, the field types it applies to)
PREFIXES = {
    "not_": ("not", (INT, STRING, ENUM, DATE)),
    "like_": ("like", (STRING,)),
    "min_": ("min", (INT, DATE)),
    "max_": ("max", (INT, DATE)),
}


def parse_filters(
    params: Iterable[tuple[str, str]], fields: Mapping[str, FieldInfo], service: str
) -> list[Filter]:
    """The filters among `params` (the caller removes the parameters it reads itself)."""
    filters: list[Filter] = []
    errors: list[FieldError] = []
    for name, raw in params:
        info, kind = _target(name, fields)
        if info is None:
            known = ", ".join(n for n, i in fields.items() if i.filter)
            errors.append(
                field_error(
                    name,
                    f"is not a filter of the {service} service (filter on: {known}; with "
                    "not_, min_, max_ or like_ in front where the type allows)",
                )
            )
            continue
        types = (INT, STRING, ENUM, DATE) if kind == "eq" else PREFIXES[f"{kind}_"][1]
        if info.type not in types:
            errors.append(field_error(name, f"does not apply to {info.name}, a {info.type}"))
            continue
        try:
            filters.append(_read(name, kind, info, raw))
        except ValueError as exc:
            errors.append(field_error(name, str(exc)))
    if errors:
        raise ValidationFailed(errors)
    return filters


def _target(name: str, fields: Mapping[str, FieldInfo]) -> tuple[FieldInfo | None, str]:
    """The field a parameter filters and how (`max_usersync_pixels` is a field, not `max_`)."""
    info = fields.get(name)
    if info is not None and info.filter:
        return info, "eq"
    for prefix, (kind, _) in PREFIXES.items():
        if name.startswith(prefix):
            info = fields.get(name[len(prefix) :])
            if info is not None and info.filter:
                return info, kind
    return None, ""


def _read(name: str, kind: str, info: FieldInfo, raw: str) -> Filter:
    if raw == "":
        raise ValueError("must not be empty")
    field = info.name
    if kind == "like":
        return Filter(field, "like", (raw,))
    if kind in ("min", "max"):
        return Filter(field, kind, (_value(info, raw),))
    if raw == "null" and info.nullable and info.type != STRING:
        return Filter(field, "null" if kind == "eq" else "not_null")
    if info.type in (INT, ENUM):
        parts = [p.strip() for p in raw.split(",") if p.strip()]
        if not parts or len(parts) > MAX_LISTED:
            raise ValueError(f"must list 1 to {MAX_LISTED} values (got {raw[:60]!r})")
        values = tuple(_value(info, p) for p in parts)
        return Filter(field, "in" if kind == "eq" else "not_in", values)
    return Filter(field, kind if kind == "eq" else "ne", (_value(info, raw),))


def _value(info: FieldInfo, raw: str) -> Any:
    if info.type == INT:
        text = raw.strip()
        digits = text[1:] if text[:1] == "-" else text
        if (
            len(digits) > 19
            or not (digits.isascii() and digits.isdigit())
            or abs(int(text)) > MAX_INT
        ):
            raise ValueError(f"must be a whole number (got {raw[:40]!r})")
        if (info.name == "id" or info.name.endswith("_id")) and not 1 <= int(text) <= MAX_ID:
            raise ValueError(f"must be an id from 1 to {MAX_ID} (got {raw[:40]!r})")
        return int(text)
    if info.type == DATE:
        return parse_time(raw)
    return raw


def parse_time(raw: str) -> datetime:
    """`YYYY-MM-DD HH:MM:SS` (UTC, as `last_modified` shows), also with `+` or `T`, or a date."""
    text = raw.strip()
    if text[10:11] == "+":  # an unencoded '+' between date and time
        text = f"{text[:10]} {text[11:]}"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"must be a time YYYY-MM-DD HH:MM:SS in UTC (got {raw[:40]!r})") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def parse_projection(
    raw: str | None, fields: Mapping[str, FieldInfo], service: str
) -> tuple[str, ...] | None:
    """`fields=id,code` → ("id", "code"); None when every field is wanted."""
    if raw is None:
        return None
    names = tuple(dict.fromkeys(p.strip() for p in raw.split(",") if p.strip()))
    unknown = [n for n in names if n not in fields]
    if not names or unknown:
        got = f"{unknown[0]!r} is not one" if unknown else "none was named"
        raise ValidationFailed(
            [
                field_error(
                    "fields",
                    f"must name fields of the {service} service ({', '.join(fields)}); {got}",
                )
            ]
        )
    return names


def project(obj: dict[str, Any], names: tuple[str, ...] | None) -> dict[str, Any]:
    return obj if names is None else {n: obj[n] for n in names if n in obj}
