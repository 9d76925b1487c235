"""The profile's JSON form (SPEC §7): every rule with its sentence, and the round trip."""

from __future__ import annotations

from typing import Any

import pytest

from segpixel.domain.errors import ValidationFailed
from segpixel.domain.targeting import SegmentGroup, SegmentTarget, Targeting
from segpixel.domain.targeting_rules import (
    parse_targeting,
    read_targeting,
    segment_refs,
    targeting_out,
)

G = "profile.segment_group_targets[0]"
ITEM = f"{G}.segments[0]"


def grouped(**item: Any) -> dict[str, Any]:
    return {"segment_group_targets": [{"segments": [{"id": 7, **item}]}]}


@pytest.mark.parametrize(
    ("profile", "message"),
    [
        pytest.param([], "profile must be an object (or null to target every user)", id="shape"),
        pytest.param(
            {"segment_group_targets": [{"segments": [{"id": 1}]}], "segment_targets": [{"id": 1}]},
            "profile.segment_group_targets and segment_targets cannot both be set: use segment "
            "groups or the flat list, not both",
            id="both-forms",
        ),
        pytest.param(
            {"country_targets": []},
            "profile.country_targets is not a known field (known: segment_boolean_operator, "
            "segment_group_targets, segment_targets)",
            id="unknown-profile-field",
        ),
        pytest.param(
            {"segment_boolean_operator": "xor", "segment_targets": [{"id": 1}]},
            "profile.segment_boolean_operator must be 'and' or 'or' (got 'xor')",
            id="profile-operator",
        ),
        pytest.param(
            {"segment_group_targets": [{"boolean_operator": "nand", "segments": [{"id": 1}]}]},
            f"{G}.boolean_operator must be 'and' or 'or' (got 'nand')",
            id="group-operator",
        ),
        pytest.param(
            {"segment_group_targets": [{"segments": []}]},
            f"{G}.segments must list at least one segment item",
            id="empty-group",
        ),
        pytest.param(
            {"segment_group_targets": {"segments": []}},
            "profile.segment_group_targets must be a list of objects",
            id="groups-not-a-list",
        ),
        pytest.param(
            {"segment_group_targets": [3]},
            "profile.segment_group_targets[0] must be an object",
            id="group-not-an-object",
        ),
        pytest.param(
            {"segment_group_targets": [{"segments": [{"id": 1}], "name": "x"}]},
            f"{G}.name is not a known field (known: boolean_operator, segments)",
            id="unknown-group-field",
        ),
        pytest.param(
            {"segment_targets": [{"action": "include"}]},
            "profile.segment_targets[0].id is required: the segment to target (or its code)",
            id="id-required",
        ),
        pytest.param(grouped(id="7"), f"{ITEM}.id must be a whole number (got '7')", id="id-type"),
        pytest.param(
            grouped(id=0), f"{ITEM}.id must be between 1 and 2147483647 (got 0)", id="id-range"
        ),
        pytest.param(
            grouped(action="maybe"),
            f"{ITEM}.action must be 'include' or 'exclude' (got 'maybe')",
            id="action",
        ),
        pytest.param(
            grouped(start_minutes=-1),
            f"{ITEM}.start_minutes must be between 0 and 259200 (got -1)",
            id="start-range",
        ),
        pytest.param(
            grouped(expire_minutes=-2),
            f"{ITEM}.expire_minutes must be between -1 and 259200 (got -2)",
            id="expire-range",
        ),
        pytest.param(
            grouped(start_minutes=60, expire_minutes=30),
            f"{ITEM}.expire_minutes must be -1 (no upper bound) or at least start_minutes "
            "(got 30 < 60)",
            id="window-order",
        ),
        pytest.param(
            grouped(other_equals=True),
            f"{ITEM}.other_equals must be a whole number (got True)",
            id="bool",
        ),
        pytest.param(
            grouped(other_less=2147483648),
            f"{ITEM}.other_less must be between 0 and 2147483647 (got 2147483648)",
            id="value-range",
        ),
        pytest.param(
            grouped(other_equals=3, other_in_list=[3, 4]),
            f"{ITEM}.other_in_list and other_equals cannot both be set: use one or the other",
            id="in-list-and-equals",
        ),
        pytest.param(
            grouped(other_in_list=[]),
            f"{ITEM}.other_in_list must be a non-empty list of values",
            id="in-list-empty",
        ),
        pytest.param(
            grouped(other_in_list=list(range(101))),
            f"{ITEM}.other_in_list may hold at most 100 values (got 101)",
            id="in-list-long",
        ),
        pytest.param(
            grouped(other_in_list=[1, "2"]),
            f"{ITEM}.other_in_list must hold numbers or text values, not both",
            id="in-list-mixed",
        ),
        pytest.param(
            grouped(other_in_list=[1, 2.5]),
            f"{ITEM}.other_in_list[1] must be a whole number (got 2.5)",
            id="in-list-item",
        ),
        pytest.param(
            grouped(other_equals=""),
            f"{ITEM}.other_equals as text must be 1 to 60 characters (an ad call's values are "
            "no longer; got 0)",
            id="empty-text",
        ),
        pytest.param(
            grouped(code="no.dots"),
            f"{ITEM}.code must be 1 to 50 characters, each a letter, a digit, '_' or '-' (no "
            "spaces, dots or other characters) (got 'no.dots')",
            id="code-charset",
        ),
        pytest.param(
            grouped(other_greater=5, other_less=6),
            f"{ITEM}.other_less must be more than other_greater + 1: no whole value is both "
            "greater than 5 and less than 6 (both bounds are exclusive)",
            id="empty-value-range",
        ),
        pytest.param(
            grouped(min_count=2),
            f"{ITEM}.min_count and within_minutes go together: 'fired at least min_count times "
            "in the last within_minutes minutes'",
            id="min-count-alone",
        ),
        pytest.param(
            grouped(within_minutes=60),
            f"{ITEM}.min_count and within_minutes go together: 'fired at least min_count times "
            "in the last within_minutes minutes'",
            id="within-alone",
        ),
        pytest.param(
            grouped(min_count=17, within_minutes=60),
            f"{ITEM}.min_count must be between 1 and 16 (got 17)",
            id="min-count-range",
        ),
        pytest.param(
            grouped(min_count=2, within_minutes=0),
            f"{ITEM}.within_minutes must be between 1 and 259200 (got 0)",
            id="within-range",
        ),
        pytest.param(
            grouped(cod="x"),
            f"{ITEM}.cod is not a known field (known: id, code, name, deleted, action, "
            "start_minutes, expire_minutes, other_equals, other_less, other_greater, "
            "other_in_list, min_count, within_minutes)",
            id="unknown-item-field",
        ),
        pytest.param(
            {"segment_targets": [{"id": i + 1} for i in range(101)]},
            "profile may hold at most 100 segment items (got 101)",
            id="too-many-items",
        ),
    ],
)
def test_every_rule_has_its_sentence(profile: Any, message: str) -> None:
    with pytest.raises(ValidationFailed) as failure:
        parse_targeting(profile)
    messages = [e.message for e in failure.value.errors]
    assert messages == [message]
    field = failure.value.errors[0].field
    assert message.startswith(field + " "), "the sentence starts with the field's name"


def test_all_errors_are_reported_together() -> None:
    _, errors = read_targeting(grouped(action="x", start_minutes=-5, other_less="a"))
    assert [e.field for e in errors] == [
        f"{ITEM}.action",
        f"{ITEM}.start_minutes",
        f"{ITEM}.other_less",
    ]


def test_defaults_and_null_target_everyone() -> None:
    assert parse_targeting(None) == Targeting()
    assert parse_targeting({}) == Targeting()
    assert parse_targeting({"segment_group_targets": None, "segment_targets": []}) == Targeting()
    t = parse_targeting(grouped())
    # as the reference: a group without boolean_operator is `or`; between groups, `and`
    assert t == Targeting("and", (SegmentGroup("or", (SegmentTarget(7),)),))
    assert (t.groups[0].segments[0].start_minutes, t.groups[0].segments[0].expire_minutes) == (
        0,
        -1,
    )


def test_the_flat_form_is_one_group_combined_by_the_profile_operator() -> None:
    t = parse_targeting(
        {"segment_boolean_operator": "or", "segment_targets": [{"id": 1}, {"id": 2}]}
    )
    assert t.flat and t.groups == (SegmentGroup("or", (SegmentTarget(1), SegmentTarget(2))),)
    assert segment_refs(t) == [
        ("profile.segment_targets[0].id", 1),
        ("profile.segment_targets[1].id", 2),
    ]


@pytest.mark.parametrize(
    "profile",
    [
        pytest.param(
            {
                "segment_boolean_operator": "or",
                "segment_group_targets": [
                    {
                        "boolean_operator": "and",
                        "segments": [
                            {
                                "id": 1,
                                "action": "exclude",
                                "start_minutes": 5,
                                "expire_minutes": 60,
                            },
                            {
                                "id": 2,
                                "other_in_list": [1, 2],
                                "min_count": 3,
                                "within_minutes": 10,
                            },
                        ],
                    },
                    {"boolean_operator": "or", "segments": [{"id": 3, "other_greater": 1}]},
                ],
            },
            id="grouped",
        ),
        pytest.param(
            {"segment_boolean_operator": "or", "segment_targets": [{"id": 4, "other_less": 9}]},
            id="flat",
        ),
    ],
)
def test_the_written_form_reads_back_the_same(profile: dict[str, Any]) -> None:
    targeting = parse_targeting(profile)
    written = targeting_out(targeting)
    assert written is not None
    assert parse_targeting(written) == targeting
    key = "segment_targets" if "segment_targets" in profile else "segment_group_targets"
    assert set(written) == {"segment_boolean_operator", key}
    assert targeting_out(Targeting()) is None
