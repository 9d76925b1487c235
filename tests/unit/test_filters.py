"""Listing filters and projection read from a query string (SPEC §2.1), one rule a row."""

from __future__ import annotations

from datetime import datetime

import pytest

from segpixel.api.service_fields import SEGMENT
from segpixel.domain.errors import ValidationFailed
from segpixel.domain.filters import Filter, parse_filters, parse_projection, project

FIELDS = SEGMENT.by_name


def read(*params: tuple[str, str]) -> list[Filter]:
    return parse_filters(params, FIELDS, "segment")


def refused(name: str, raw: str) -> str:
    with pytest.raises(ValidationFailed) as caught:
        read((name, raw))
    (error,) = caught.value.errors
    assert error.field == name
    return error.message


@pytest.mark.parametrize(
    ("param", "expected"),
    [
        pytest.param(("state", "active"), Filter("state", "in", ("active",)), id="enum-eq"),
        pytest.param(
            ("state", "active,inactive"),
            Filter("state", "in", ("active", "inactive")),
            id="enum-list",
        ),
        pytest.param(
            ("advertiser_id", "1, 2,3"), Filter("advertiser_id", "in", (1, 2, 3)), id="ids"
        ),
        pytest.param(("advertiser_id", "null"), Filter("advertiser_id", "null"), id="null"),
        pytest.param(
            ("not_advertiser_id", "null"), Filter("advertiser_id", "not_null"), id="not-null"
        ),
        pytest.param(("not_state", "inactive"), Filter("state", "not_in", ("inactive",)), id="not"),
        pytest.param(("short_name", "a,b"), Filter("short_name", "eq", ("a,b",)), id="text-eq"),
        pytest.param(("not_code", "x"), Filter("code", "ne", ("x",)), id="text-ne"),
        pytest.param(("like_short_name", "car"), Filter("short_name", "like", ("car",)), id="like"),
        pytest.param(
            ("min_expire_minutes", "-1"), Filter("expire_minutes", "min", (-1,)), id="min"
        ),
        pytest.param(
            ("max_usersync_pixels", "3"),
            Filter("max_usersync_pixels", "in", (3,)),
            id="field-not-max",
        ),
        pytest.param(
            ("max_max_usersync_pixels", "3"), Filter("max_usersync_pixels", "max", (3,)), id="max"
        ),
        pytest.param(
            ("min_last_modified", "2026-11-01 00:00:00"),
            Filter("last_modified", "min", (datetime(2026, 11, 1),)),
            id="time",
        ),
        pytest.param(
            ("min_last_modified", "2026-11-01+08:30:00"),
            Filter("last_modified", "min", (datetime(2026, 11, 1, 8, 30),)),
            id="time-plus",
        ),
        pytest.param(
            ("max_last_modified", "2026-11-01T10:00:00+02:00"),
            Filter("last_modified", "max", (datetime(2026, 11, 1, 8, 0),)),
            id="time-offset-to-utc",
        ),
        pytest.param(
            ("last_modified", "2026-11-01"),
            Filter("last_modified", "eq", (datetime(2026, 11, 1),)),
            id="date",
        ),
    ],
)
def test_filters_read(param: tuple[str, str], expected: Filter) -> None:
    assert read(param) == [expected]


@pytest.mark.parametrize(
    ("name", "raw", "words"),
    [
        pytest.param("colour", "red", "is not a filter of the segment service", id="unknown"),
        pytest.param("like_state", "a", "does not apply to state, a enum", id="like-enum"),
        pytest.param("min_code", "a", "does not apply to code, a string", id="min-text"),
        pytest.param("type", "pixel", "is not a filter", id="derived"),
        pytest.param("daily_loads", "1", "is not a filter", id="quick-stats"),
        pytest.param("expire_minutes", "1.5", "must be a whole number", id="not-int"),
        pytest.param("id", "0", "must be an id from 1 to 2147483647", id="id-zero"),
        pytest.param("member_id", "99999999999", "must be an id", id="id-big"),
        pytest.param("expire_minutes", str(2**64), "must be a whole number", id="huge"),
        pytest.param("expire_minutes", "9" * 5000, "must be a whole number", id="5000-digits"),
        pytest.param("min_last_modified", "last week", "must be a time", id="bad-time"),
        pytest.param("state", "", "must not be empty", id="empty"),
        pytest.param("advertiser_id", ",", "must list 1 to 1000 values", id="no-values"),
        pytest.param("short_name", "null", None, id="null-is-text"),
    ],
)
def test_filters_refused(name: str, raw: str, words: str | None) -> None:
    if words is None:  # a text field's "null" is the text "null"
        assert read((name, raw)) == [Filter(name, "eq", ("null",))]
        return
    assert words in refused(name, raw)


def test_every_bad_filter_is_named_at_once() -> None:
    with pytest.raises(ValidationFailed) as caught:
        read(("colour", "x"), ("state", "active"), ("min_id", "x"))
    assert [e.field for e in caught.value.errors] == ["colour", "min_id"]


def test_projection() -> None:
    assert parse_projection(None, FIELDS, "segment") is None
    names = parse_projection("id, code,id", FIELDS, "segment")
    assert names == ("id", "code")
    assert project({"id": 1, "code": "c", "state": "active"}, names) == {"id": 1, "code": "c"}
    for raw in ("", ",", "id,colour"):
        with pytest.raises(ValidationFailed) as caught:
            parse_projection(raw, FIELDS, "segment")
        assert caught.value.errors[0].field == "fields"
