"""A member's batch file format in the catalog (`/batch-segment-config`, SPEC §9.2).

One row a member, made by its first PUT; a member without one reads files in the default format
(domain/batch_format.py). Those who see the member read it; those who manage it change it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from segpixel.catalog.repo import Repo, fmt_time, utcnow
from segpixel.catalog.tables import BatchSegmentConfig
from segpixel.domain.batch_format import (
    DEFAULT_FORMAT,
    SEPARATORS,
    BatchFormat,
    format_errors,
    parse_segment_fields,
)
from segpixel.domain.errors import ValidationFailed
from segpixel.errors import Forbidden


class BatchConfigRepo(Repo[BatchSegmentConfig]):
    model = BatchSegmentConfig
    noun = "batch-segment-config"

    def scope(self, stmt: Any) -> Any:
        p = self.principal
        if p.is_admin:
            return stmt
        return stmt.where(BatchSegmentConfig.member_id == p.member_id)

    def of_member(self, member_id: int) -> BatchSegmentConfig | None:
        self.require_member(member_id)
        stmt = select(BatchSegmentConfig).where(BatchSegmentConfig.member_id == member_id)
        return self.session.scalars(stmt).first()

    def format_of(self, member_id: int) -> BatchFormat:
        row = self.of_member(member_id)
        return DEFAULT_FORMAT if row is None else row_format(row)

    def put(self, member_id: int, fields: dict[str, Any]) -> BatchSegmentConfig:
        """Change the fields sent (the others stay as stored, or as the default)."""
        row = self.of_member(member_id)
        if not self.principal.manages_member(member_id):
            raise Forbidden(f"you may not change the batch format of member {member_id}")
        current = DEFAULT_FORMAT.as_fields() if row is None else row_format(row).as_fields()
        merged = {**current, **fields}
        errors = format_errors(merged)
        if errors:
            raise ValidationFailed(errors)
        merged["segment_fields"] = parse_segment_fields(merged["segment_fields"])
        if row is None:
            row = BatchSegmentConfig(member_id=member_id, created_on=utcnow())
            self.session.add(row)
        for name in (*SEPARATORS, "segment_fields"):
            setattr(row, name, merged[name])
        row.last_modified = utcnow()
        self.session.flush()
        return row


def row_format(row: BatchSegmentConfig) -> BatchFormat:
    return BatchFormat(
        row.separator_1, row.separator_2, row.separator_3, row.separator_4,
        tuple(row.segment_fields),
    )  # fmt: skip


def config_out(member_id: int, row: BatchSegmentConfig | None) -> dict[str, Any]:
    fmt = DEFAULT_FORMAT if row is None else row_format(row)
    return {
        "id": None if row is None else row.id,
        "member_id": member_id,
        **fmt.as_fields(),
        "created_on": None if row is None else fmt_time(row.created_on),
        "last_modified": None if row is None else fmt_time(row.last_modified),
    }
