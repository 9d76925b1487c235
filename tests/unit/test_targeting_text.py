"""Targeting as the reference reads it (SPEC §7), in memory: text values, codes, `name`."""

from __future__ import annotations

import pytest

from segpixel.domain.errors import ValidationFailed
from segpixel.domain.profile import Add, Profile, apply_add
from segpixel.domain.targeting import matches, unmet, user_state
from segpixel.domain.targeting_rules import (
    SegmentFacts,
    bind_segments,
    parse_targeting,
    targeting_out,
)

NOW = 1_800_000_000
SEGMENTS = {1: SegmentFacts(1, text_values=True), 2: SegmentFacts(2, text_values=False)}
CODES = {"makes": SEGMENTS[1], "year": SEGMENTS[2]}


def bind(profile: dict) -> object:
    return bind_segments(parse_targeting(profile), SEGMENTS.get, CODES.get)


def group(*items: dict) -> dict:
    return {"segment_group_targets": [{"segments": list(items)}]}


def user(*adds: Add) -> object:
    memberships = []
    for add in adds:
        memberships.append(apply_add(None, add, NOW - 60))
    return user_state(Profile(7, tuple(memberships)), NOW)


@pytest.mark.parametrize(
    ("item", "text", "hit"),
    [
        pytest.param({"other_equals": "Ford"}, "ford", True, id="equals-ignoring-case"),
        pytest.param({"other_equals": "ford"}, "ford-ka", False, id="equals-is-whole"),
        pytest.param({"other_in_list": ["BMW", "ford-KA"]}, "ford-ka", True, id="in-list"),
        pytest.param({"other_in_list": ["bmw"]}, None, False, id="no-text-kept"),
        pytest.param({"other_equals": "ford", "action": "exclude"}, "bmw", True, id="exclude"),
    ],
)
def test_text_values_match_ignoring_case(item: dict, text: str | None, hit: bool) -> None:
    targeting = bind(group({"id": 1, **item}))
    assert matches(targeting, user(Add(1, NOW + 3600, None, text))) is hit  # type: ignore[arg-type]


def test_a_text_predicate_says_why_it_failed() -> None:
    (target,) = bind(group({"id": 1, "other_equals": "ford"})).groups[0].segments  # type: ignore[attr-defined]
    state = user(Add(1, NOW + 3600, 5, "bmw"))
    assert unmet(target, state.memberships[1], NOW) == (  # type: ignore[attr-defined]
        "segment 1 has text value 'bmw', not the other_equals text"
    )


def test_codes_resolve_names_are_ignored_and_output_is_by_id() -> None:
    targeting = bind(
        group({"code": "makes", "name": "Makes (the reference's name)", "deleted": False})
    )
    out = targeting_out(targeting)  # type: ignore[arg-type]
    (item,) = out["segment_group_targets"][0]["segments"]  # type: ignore[index]
    assert item["id"] == 1 and "code" not in item and "name" not in item
    assert out["segment_group_targets"][0]["boolean_operator"] == "or"  # type: ignore[index]


@pytest.mark.parametrize(
    ("item", "field", "words"),
    [
        pytest.param({"code": "gone"}, "code", "names no segment", id="unknown-code"),
        pytest.param(
            {"id": 2, "code": "makes"},
            "code",
            "names segment 1, but id names segment 2",
            id="disagree",
        ),
        pytest.param(
            {"id": 2, "other_equals": "new"}, "other_equals", "use numbers", id="text-on-numbers"
        ),
        pytest.param(
            {"id": 2, "other_in_list": ["1", "x"]}, "other_in_list", "use numbers", id="list"
        ),
    ],
)
def test_binding_refuses(item: dict, field: str, words: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        bind(group(item))
    (error,) = caught.value.errors
    assert error.field == f"profile.segment_group_targets[0].segments[0].{field}"
    assert words in error.message


def test_numbers_as_strings_on_a_numeric_segment_are_numbers() -> None:
    targeting = bind(
        group({"code": "year", "other_in_list": ["2019", "2020"]}, {"id": 2, "other_equals": "7"})
    )
    first, second = targeting.groups[0].segments  # type: ignore[attr-defined]
    assert (first.other_in_list, first.texts) == ((2019, 2020), None)
    assert (second.other_equals, second.texts) == (7, None)
    assert matches(targeting, user(Add(2, NOW + 3600, 2020)))  # type: ignore[arg-type]
