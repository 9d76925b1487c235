"""Query-string matching (SPEC §5.1, §5.2) as pure functions: domain/querystring.py."""

from __future__ import annotations

import pytest

from segpixel.domain.querystring import (
    KvMappingView,
    QsMappingView,
    match_querystring,
)
from segpixel.domain.segments import KeyValueMapping, QueryStringMapping

MEMBER = 7
PLACE = (100, 10, 1)  # placement 100 of site 10 of publisher 1


def qs(**fields: object) -> QsMappingView:
    mapping = QueryStringMapping(**{"param": "car", **fields})  # type: ignore[arg-type]
    return QsMappingView.of(5, MEMBER, mapping)


def run(
    key_values: list[tuple[str, str]],
    mappings: list[QsMappingView] = (),  # type: ignore[assignment]
    kvs: list[KvMappingView] = (),  # type: ignore[assignment]
    member: int = MEMBER,
    place: tuple[int, int, int] = PLACE,
):  # type: ignore[no-untyped-def]
    qs_index = {(m.member_id, m.param): m for m in mappings}
    kv_index: dict[tuple[int, str], tuple[KvMappingView, ...]] = {}
    for kv in kvs:
        kv_index[(kv.member_id, kv.key)] = (*kv_index.get((kv.member_id, kv.key), ()), kv)
    return match_querystring(tuple(key_values), member, place, qs_index, kv_index)


@pytest.mark.parametrize(
    ("values", "allow_empty", "value", "hit"),
    [
        pytest.param(("ford",), False, "ford", True, id="exact"),
        pytest.param(("Ford",), False, "FORD", True, id="case-insensitive"),
        pytest.param(("ford",), False, "fordx", False, id="no-partial"),
        pytest.param(("bmw*",), False, "bmw", True, id="prefix-empty-rest"),
        pytest.param(("BMW*",), False, "bmw-x5", True, id="prefix"),
        pytest.param(("bmw*",), False, "xbmw", False, id="prefix-anchored"),
        pytest.param(("ford",), False, "", False, id="empty-refused"),
        pytest.param(("ford",), True, "", True, id="empty-allowed"),
        pytest.param((), True, "", True, id="empty-only"),
        pytest.param((), True, "ford", False, id="empty-only-refuses-text"),
    ],
)
def test_text_values(values: tuple[str, ...], allow_empty: bool, value: str, hit: bool) -> None:
    m = qs(values=values, allow_empty_text=allow_empty)
    assert m.text_matches(value) is hit
    assert bool(run([("car", value)], [m]).hits) is hit


@pytest.mark.parametrize(
    ("value", "stored", "warning"),
    [
        pytest.param("42", 42, None, id="number"),
        pytest.param(" 7 ", 7, None, id="spaces"),
        pytest.param("+3", 3, None, id="plus"),
        pytest.param("0", None, None, id="zero-is-no-value"),
        pytest.param("-4", None, None, id="negative-is-no-value"),
        pytest.param("2147483647", 2147483647, None, id="max"),
        pytest.param("2147483648", "skip", "above 2147483647", id="too-large"),
        pytest.param("4.5", "skip", "is not a number", id="decimal"),
        pytest.param("", "skip", "is not a number", id="empty"),
        pytest.param("٤٢", "skip", "is not a number", id="non-ascii-digits"),
    ],
)
def test_numeric_values_are_stored_as_the_segment_value(
    value: str, stored: int | str | None, warning: str | None
) -> None:
    result = run([("car", value)], [qs(value_type="numeric")])
    if stored == "skip":
        assert result.hits == []
        assert warning is not None and warning in result.warnings[0]
    else:
        assert [(h.segment_id, h.value) for h in result.hits] == [(5, stored)]
        assert result.warnings == []


def test_value_type_none_takes_any_value() -> None:
    m = qs(value_type="none")
    assert [h.value for h in run([("car", "")], [m]).hits] == [None]
    assert [h.value for h in run([("car", "42")], [m]).hits] == [None]


@pytest.mark.parametrize(
    ("scope", "place", "hit"),
    [
        pytest.param({}, PLACE, True, id="no-scope-all-inventory"),
        pytest.param({"publishers": (1,)}, PLACE, True, id="publisher"),
        pytest.param({"publishers": (2,)}, PLACE, False, id="other-publisher"),
        pytest.param({"sites": (10,)}, PLACE, True, id="site"),
        pytest.param({"sites": (11,), "publishers": (1,)}, PLACE, False, id="site-wins"),
        pytest.param({"placements": (100,)}, PLACE, True, id="placement"),
        pytest.param(
            {"placements": (101,), "sites": (10,), "publishers": (1,)},
            PLACE,
            False,
            id="placement-wins",
        ),
        pytest.param({"placements": (101,), "sites": (10,)}, (101, 99, 9), True, id="elsewhere"),
    ],
)
def test_scope_placements_over_sites_over_publishers(
    scope: dict[str, tuple[int, ...]], place: tuple[int, int, int], hit: bool
) -> None:
    m = qs(value_type="none", **scope)
    assert m.in_scope(*place) is hit
    assert bool(run([("car", "x")], [m], place=place).hits) is hit


def test_a_mapping_serves_its_own_member_only() -> None:
    assert run([("car", "ford")], [qs(values=("ford",))], member=8).hits == []


def test_key_values_match_ignoring_case_and_empty_matches_any() -> None:
    rock = KvMappingView.of(1, MEMBER, KeyValueMapping("Music", "Rock"))
    anything = KvMappingView.of(2, MEMBER, KeyValueMapping("music", None))
    blank = KvMappingView.of(3, MEMBER, KeyValueMapping("music", ""))
    assert (rock.key, rock.value, blank.value) == ("music", "rock", None)
    hits = run([("music", "ROCK")], kvs=[rock, anything, blank]).hits
    assert sorted(h.segment_id for h in hits) == [1, 2, 3]
    hits = run([("music", "jazz")], kvs=[rock, anything, blank]).hits
    assert sorted(h.segment_id for h in hits) == [2, 3]


def test_a_segment_is_hit_once_whatever_matches_it() -> None:
    kv = KvMappingView.of(5, MEMBER, KeyValueMapping("car", None))
    hits = run([("car", "ford"), ("car", "bmw")], [qs(values=("ford", "bmw"))], [kv]).hits
    assert [(h.segment_id, h.key) for h in hits] == [(5, "car")]
