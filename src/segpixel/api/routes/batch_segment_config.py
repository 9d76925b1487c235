"""`/batch-segment-config`: a member's batch file format (SPEC §9.2), the reference's Batch
Segment Service - Configuration: `separator_1` … `separator_4` and `segment_fields` (the order
of `SEG_ID`/`SEG_CODE`, `EXPIRATION`, `VALUE`, `TIMESTAMP` in a SEG block).

`GET ?member_id=M` answers the member's format (the default, SPEC §9.1's, until a PUT changes
it); `PUT ?member_id=M` changes the fields it sends. Files uploaded through the Batch Segment
Service's upload_url are read in it. The body and answer key is ours (`batch-segment-config`) or
the reference's (`batch_segment_upload_config`); the reference's other configuration fields
(limits, domains, external ids) are accepted, not stored, and named in `dbg_info.warnings`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from segpixel.api.deps import CallerDep, IdParam
from segpixel.api.envelope import ok
from segpixel.api.owners import resolve_member
from segpixel.api.schemas import NOT_IMPLEMENTED, READ_ONLY, Shape
from segpixel.api.service_fields import BATCH_SEGMENT_CONFIG as FIELDS
from segpixel.catalog.batch_config import BatchConfigRepo, config_out

router = APIRouter(tags=["batch-segment"])
KEY = FIELDS.key
REFERENCE_KEY = "batch_segment_upload_config"


class ConfigIn(Shape):
    separator_1: str | None = None
    separator_2: str | None = None
    separator_3: str | None = None
    separator_4: str | None = Field(None, description="Segments after it are removed; null: none")
    segment_fields: list[str] | str | None = Field(
        None, description='["SEG_ID", "EXPIRATION", "VALUE"], or the reference\'s "[SEG_ID,…]"'
    )
    id: Any = Field(None, description=READ_ONLY)
    member_id: Any = Field(None, description=READ_ONLY)
    created_on: Any = Field(None, description=READ_ONLY)
    last_modified: Any = Field(None, description=READ_ONLY)


ConfigItem = type(
    "BatchSegmentConfig",
    (ConfigIn,),
    {
        "__annotations__": dict.fromkeys(FIELDS.unimplemented, Any),
        **{n: Field(None, description=NOT_IMPLEMENTED) for n in FIELDS.unimplemented},
    },
)


class ConfigBody(Shape):
    config: ConfigItem | None = Field(None, alias=KEY)  # type: ignore[valid-type]
    reference: ConfigItem | None = Field(None, alias=REFERENCE_KEY)  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _one_form(self) -> ConfigBody:
        if (self.config is None) == (self.reference is None):
            raise PydanticCustomError(  # ctx names the field, as envelope._describe expects
                "body_form",
                "{field} is required: send {form} (or {other})",
                {"field": KEY, "form": f'{{"{KEY}": {{...}}}}', "other": REFERENCE_KEY},
            )
        return self


def _answer(member_id: int, row: Any, warnings: list[str] | None = None) -> dict[str, Any]:
    shown = config_out(member_id, row)
    return ok({"id": shown["id"], KEY: shown, REFERENCE_KEY: shown}, warnings=warnings)


@router.get("/batch-segment-config", summary="A member's batch file format (separators, fields)")
def read_config(caller: CallerDep, member_id: IdParam = None) -> dict[str, Any]:
    member = resolve_member(caller.principal, member_id)
    with caller.repo(BatchConfigRepo) as repo:
        return _answer(member, repo.of_member(member))


@router.put(
    "/batch-segment-config",
    summary="Change a member's batch file format: separator_1..4, segment_fields",
)
def update_config(caller: CallerDep, body: ConfigBody, member_id: IdParam = None) -> dict[str, Any]:
    member = resolve_member(caller.principal, member_id)
    sent = (body.config or body.reference).model_dump(exclude_unset=True)  # type: ignore[union-attr]
    ignored = [name for name in FIELDS.unimplemented if name in sent]
    fields = {k: v for k, v in sent.items() if k in FIELDS.by_name and k not in FIELDS.read_only}
    with caller.repo(BatchConfigRepo) as repo:
        row = repo.put(member, fields)
        warnings = [
            f"{name} is documented by the reference but not implemented by segpixel: accepted "
            "and not stored"
            for name in ignored
        ]
        return _answer(member, row, warnings)
