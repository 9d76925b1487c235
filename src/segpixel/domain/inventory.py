"""Publishers, sites and placements (SPEC §1.5): the inventory an ad call names.

Each is a named object of one member; a site belongs to a publisher, a placement to a site.
"""

from __future__ import annotations

from dataclasses import dataclass

from segpixel.domain.errors import FieldError
from segpixel.domain.fields import check_name, check_state


@dataclass(frozen=True, slots=True)
class InventoryDraft:
    name: str
    state: str = "active"


def inventory_errors(draft: InventoryDraft) -> list[FieldError]:
    return [*check_name("name", draft.name), *check_state("state", draft.state)]
