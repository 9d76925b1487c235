"""The line item's rules (SPEC §1.5, §7): what it buys, how urgently, and for whom."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from segpixel.domain.errors import FieldError, field_error
from segpixel.domain.fields import check_int_range, check_name, check_state
from segpixel.domain.limits import PRIORITY_MAX, PRIORITY_MIN
from segpixel.domain.targeting_rules import read_targeting

DEFAULT_PRIORITY = 5
MAX_WEIGHT = 1000
MAX_LINE_ITEM_CREATIVES = 100


@dataclass(frozen=True, slots=True)
class LineItemDraft:
    name: str
    state: str = "active"
    priority: int = DEFAULT_PRIORITY
    weight: int | None = None  # null: an equal share
    creatives: tuple[int, ...] = ()
    profile: Any = None  # the profile's JSON form (SPEC §7); null targets every user


def line_item_errors(draft: LineItemDraft) -> list[FieldError]:
    errors = [
        *check_name("name", draft.name),
        *check_state("state", draft.state),
        *check_int_range("priority", draft.priority, PRIORITY_MIN, PRIORITY_MAX),
    ]
    if draft.weight is not None:
        errors += check_int_range("weight", draft.weight, 1, MAX_WEIGHT)
    if len(draft.creatives) > MAX_LINE_ITEM_CREATIVES:
        count = len(draft.creatives)
        errors.append(
            field_error("creatives", f"may hold at most {MAX_LINE_ITEM_CREATIVES} (got {count})")
        )
    seen: set[int] = set()
    for i, creative_id in enumerate(draft.creatives):
        if creative_id in seen:
            errors.append(field_error(f"creatives[{i}]", f"names creative {creative_id} twice"))
        seen.add(creative_id)
    errors += read_targeting(draft.profile)[1]
    return errors
