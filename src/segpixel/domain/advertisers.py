"""The advertiser's rules (SPEC §1.1)."""

from __future__ import annotations

from dataclasses import dataclass

from segpixel.domain.errors import FieldError
from segpixel.domain.fields import check_code, check_name, check_state


@dataclass(frozen=True, slots=True)
class AdvertiserDraft:
    member_id: int
    name: str
    code: str | None = None
    state: str = "active"


def advertiser_errors(draft: AdvertiserDraft) -> list[FieldError]:
    return [
        *check_name("name", draft.name),
        *check_code("code", draft.code),
        *check_state("state", draft.state),
    ]
