"""Query parameters the inventory and buyer services share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from segpixel.api.deps import MAX_ID

RequiredId = Annotated[int, Query(ge=1, le=MAX_ID, description="The object's id")]
SearchParam = Annotated[str | None, Query(max_length=255, description="An id, or part of a name")]
AppendParam = Annotated[bool, Query(description="Add the arrays sent to the stored ones")]
