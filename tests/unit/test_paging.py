"""Paging, sorting and id lists of API lists (SPEC §2: start_element, num_elements ≤ 100, sort)."""

from __future__ import annotations

import pytest

from segpixel.domain.errors import ValidationFailed
from segpixel.domain.paging import Page, parse_id_list, parse_page

SORTABLE = ("id", "short_name", "code")


def page(start: str | None = None, size: str | None = None, sort: str | None = None) -> Page:
    return parse_page(start, size, sort, SORTABLE)


def refused(start: str | None = None, size: str | None = None, sort: str | None = None) -> list:
    with pytest.raises(ValidationFailed) as caught:
        page(start, size, sort)
    return [(e.field, e.message) for e in caught.value.errors]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((None, None, None), Page(0, 100, "id", False), id="defaults"),
        pytest.param(("", "", ""), Page(0, 100, "id", False), id="empty-is-default"),
        pytest.param(("0", "100", None), Page(0, 100, "id", False), id="max-page"),
        # as the reference: a larger page size is silently the largest (scripts ask for 1000)
        pytest.param(("0", "101", None), Page(0, 100, "id", False), id="101-is-100"),
        pytest.param(("0", "500", None), Page(0, 100, "id", False), id="500-is-100"),
        pytest.param(("20", "1", None), Page(20, 1, "id", False), id="one-per-page"),
        pytest.param(("1000000000", None, None), Page(10**9, 100, "id", False), id="far-start"),
        pytest.param((None, None, "short_name.desc"), Page(0, 100, "short_name", True), id="desc"),
        pytest.param((None, None, "code.asc"), Page(0, 100, "code", False), id="asc"),
        pytest.param((None, None, "code"), Page(0, 100, "code", False), id="direction-optional"),
    ],
)
def test_parse_page(args: tuple[str | None, str | None, str | None], expected: Page) -> None:
    assert page(*args) == expected


def test_default_page_size_is_100() -> None:
    assert Page() == Page(0, 100, "id", False)


@pytest.mark.parametrize(
    ("args", "field", "message"),
    [
        pytest.param(
            (None, "0", None),
            "num_elements",
            "num_elements must be at least 1 (a number above 100 reads as 100) (got 0)",
            id="zero-size",
        ),
        pytest.param(
            ("-1", None, None),
            "start_element",
            "start_element must be between 0 and 1000000000 (got -1)",
            id="negative-start",
        ),
        pytest.param(
            ("abc", None, None),
            "start_element",
            "start_element must be a whole number (got 'abc')",
            id="start-not-a-number",
        ),
        pytest.param(
            (None, "1.5", None),
            "num_elements",
            "num_elements must be a whole number (got '1.5')",
            id="size-not-a-whole-number",
        ),
        pytest.param(
            (None, None, "password.asc"),
            "sort",
            "sort must be FIELD.asc or FIELD.desc with FIELD one of id, short_name, code "
            "(got 'password.asc')",
            id="unknown-sort-field",
        ),
        pytest.param((None, None, "code.up"), "sort", "(got 'code.up')", id="bad-sort-direction"),
        pytest.param(
            (None, None, "code.DESC"), "sort", "(got 'code.DESC')", id="direction-case-matters"
        ),
        pytest.param((None, None, ".asc"), "sort", "(got '.asc')", id="no-sort-field"),
    ],
)
def test_parse_page_refuses(
    args: tuple[str | None, str | None, str | None], field: str, message: str
) -> None:
    errors = refused(*args)
    assert len(errors) == 1, errors
    assert errors[0][0] == field
    assert message in errors[0][1]


def test_every_bad_paging_parameter_is_reported_at_once() -> None:
    errors = refused("-5", "0", "nope.sideways")
    assert [field for field, _ in errors] == ["start_element", "num_elements", "sort"]


def test_a_long_bad_value_is_quoted_short() -> None:
    (error,) = refused("x" * 1000)
    assert len(error[1]) < 120


@pytest.mark.parametrize(
    ("raw", "ids"),
    [
        pytest.param("7", [7], id="one"),
        pytest.param("1,2,3", [1, 2, 3], id="list"),
        pytest.param("1, 2 ,3", [1, 2, 3], id="spaces"),
        pytest.param("1,,2,", [1, 2], id="empty-items-skipped"),
        pytest.param(",".join(["5"] * 100), [5] * 100, id="100-ids"),
        pytest.param(str(2**31 - 1), [2**31 - 1], id="max-int32"),
    ],
)
def test_parse_id_list(raw: str, ids: list[int]) -> None:
    assert parse_id_list("id", raw) == ids


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        pytest.param("a", "id must be a number or a comma-separated list of numbers", id="word"),
        pytest.param("1;2", "must be a number or a comma-separated list", id="semicolon"),
        pytest.param("", "id must list 1 to 100 positive ids", id="empty"),
        pytest.param(",", "must list 1 to 100 positive ids", id="only-commas"),
        pytest.param("0", "must list 1 to 100 positive ids", id="zero"),
        pytest.param("-3", "must list 1 to 100 positive ids", id="negative"),
        pytest.param(str(2**31), "must list 1 to 100 positive ids", id="over-int32"),
        pytest.param(",".join(["5"] * 101), "must list 1 to 100 positive ids", id="101-ids"),
    ],
)
def test_parse_id_list_refuses(raw: str, fragment: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_id_list("id", raw)
    (error,) = caught.value.errors
    assert error.field == "id"
    assert fragment in error.message
