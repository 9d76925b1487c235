"""Query parameters the services share (their OpenAPI descriptions written once)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from segpixel.api.deps import MAX_ID

RequiredId = Annotated[int, Query(ge=1, le=MAX_ID, description="The object's id")]
SearchParam = Annotated[str | None, Query(max_length=255, description="An id, or part of a name")]
AppendParam = Annotated[bool, Query(description="Add the arrays sent to the stored ones")]
FieldsParam = Annotated[
    str | None,
    Query(max_length=2000, description="Only these fields of each object: fields=id,name"),
]


def single_id(raw: str | None) -> int | None:
    """A query value that names one object (`member_id=7`); a list or nonsense does not (the
    listing filters refuse the nonsense with a sentence)."""
    if raw is None or len(raw) > 10 or not (raw.isascii() and raw.isdigit()) or int(raw) > MAX_ID:
        return None
    return int(raw)
