"""Paging and sorting of API lists (SPEC §2: start_element, num_elements ≤ 100, sort=field.dir).

As the reference does, a page size above 100 is silently 100 (scripts ask for 1000 and page on
by the `num_elements` the answer gives), and a page past the end is an empty list.
"""

from __future__ import annotations

from dataclasses import dataclass

from segpixel.domain.errors import FieldError, ValidationFailed, field_error
from segpixel.domain.limits import PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX


@dataclass(frozen=True, slots=True)
class Page:
    start_element: int = 0
    num_elements: int = PAGE_SIZE_DEFAULT
    sort_field: str = "id"
    descending: bool = False


def parse_page(
    start_element: str | None, num_elements: str | None, sort: str | None, sortable: tuple[str, ...]
) -> Page:
    errors: list[FieldError] = []
    start = _int_param("start_element", start_element, 0, 0, 10**9, errors)
    size = _int_param(
        "num_elements",
        num_elements,
        PAGE_SIZE_DEFAULT,
        1,
        10**9,
        errors,
        f"must be at least 1 (a number above {PAGE_SIZE_MAX} reads as {PAGE_SIZE_MAX})",
    )
    size = min(size, PAGE_SIZE_MAX)
    sort_field, descending = "id", False
    if sort:
        name, _, direction = sort.partition(".")
        direction = direction or "asc"
        if name not in sortable or direction not in ("asc", "desc"):
            errors.append(
                field_error(
                    "sort",
                    f"must be FIELD.asc or FIELD.desc with FIELD one of {', '.join(sortable)} "
                    f"(got {sort!r})",
                )
            )
        sort_field, descending = name, direction == "desc"
    if errors:
        raise ValidationFailed(errors)
    return Page(start, size, sort_field, descending)


def _int_param(
    name: str,
    raw: str | None,
    default: int,
    low: int,
    high: int,
    errors: list[FieldError],
    rule: str | None = None,
) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        errors.append(field_error(name, f"must be a whole number (got {raw[:40]!r})"))
        return default
    if not low <= value <= high:
        rule = rule or f"must be between {low} and {high}"
        errors.append(field_error(name, f"{rule} (got {value})"))
    return value


def parse_id_list(name: str, raw: str) -> list[int]:
    """`id=1,2,3` → [1, 2, 3]; anything else names the parameter."""
    try:
        ids = [int(part) for part in raw.split(",") if part.strip()]
    except ValueError:
        raise ValidationFailed(
            [
                field_error(
                    name,
                    f"must be a number or a comma-separated list of numbers (got {raw[:60]!r})",
                )
            ]
        ) from None
    if not ids or len(ids) > PAGE_SIZE_MAX or any(i < 1 or i > 2**31 - 1 for i in ids):
        raise ValidationFailed(
            [field_error(name, f"must list 1 to {PAGE_SIZE_MAX} positive ids (got {raw[:60]!r})")]
        )
    return ids
