"""Which member a new object belongs to: from the query, the body, or the caller (SPEC §2)."""

from __future__ import annotations

from segpixel.domain.access import Principal
from segpixel.domain.errors import ValidationFailed, field_error


def resolve_member(principal: Principal, member_id: int | None) -> int:
    """`?member_id=` is optional for callers that belong to one member."""
    if member_id is not None:
        return member_id
    if principal.member_id is not None:
        return principal.member_id
    raise ValidationFailed(
        [field_error("member_id", "is required (as ?member_id= or in the body) for admin users")]
    )


def one_of(name: str, in_query: int | None, in_body: int | None) -> int | None:
    """The same id may come in the query string or the body, but not two different ones."""
    if in_query is not None and in_body is not None and in_query != in_body:
        raise ValidationFailed(
            [
                field_error(
                    name, f"differs between the query string ({in_query}) and the body ({in_body})"
                )
            ]
        )
    return in_query if in_query is not None else in_body
