"""Line items in the catalog (SPEC §1.5, §7): what an advertiser buys, at which priority, for whom.

The profile is stored as JSON in the form `targeting_rules` writes (so the snapshot reads back
exactly what was validated); the segments it names are kept in `line_item_segments` too, so a
targeted segment cannot be deleted from under it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import select

from segpixel.catalog.owned import AdvertiserOwnedRepo
from segpixel.catalog.repo import fmt_time
from segpixel.catalog.segment_use import check_segment_refs, segment_lookups
from segpixel.catalog.tables import Creative, LineItem, LineItemCreative, LineItemSegment
from segpixel.domain.errors import FieldError, ValidationFailed, field_error, raise_if_any
from segpixel.domain.line_items import LineItemDraft, line_item_errors
from segpixel.domain.targeting_rules import (
    bind_segments,
    parse_targeting,
    segment_refs,
    targeting_out,
)

SCALARS = ("name", "state", "priority", "weight", "profile")


class LineItemRepo(AdvertiserOwnedRepo[LineItem]):
    model = LineItem
    noun = "line item"

    def create(self, advertiser_id: int, fields: dict[str, Any]) -> LineItem:
        member_id, advertiser_id = self.owner(advertiser_id)
        row = LineItem(member_id=member_id, advertiser_id=advertiser_id)
        self._store(row, _merge(LineItemDraft(name=""), fields, append=False))
        self.session.add(row)
        self.session.flush()
        return row

    def update(self, row: LineItem, fields: dict[str, Any], append: bool = False) -> LineItem:
        self.require_changer(row.member_id, row.advertiser_id)
        for name in ("member_id", "advertiser_id"):
            if name in fields and fields[name] != getattr(row, name):
                raise ValidationFailed(
                    [field_error(name, "cannot be changed: a line item stays with its advertiser")]
                )
        self._store(row, _merge(draft_of(row), fields, append))
        self.session.flush()
        return row

    def delete(self, row: LineItem) -> None:
        self.require_changer(row.member_id, row.advertiser_id)
        self.session.delete(row)
        self.session.flush()

    def _store(self, row: LineItem, draft: LineItemDraft) -> None:
        raise_if_any(line_item_errors(draft))
        by_id, by_code = segment_lookups(self.session, row.member_id)
        targeting = bind_segments(parse_targeting(draft.profile), by_id, by_code)
        self._check_creatives(row, draft.creatives)
        check_segment_refs(
            self.session, self.principal, segment_refs(targeting), row.member_id, row.advertiser_id
        )
        self.apply(
            row,
            {
                "name": draft.name,
                "state": draft.state,
                "priority": draft.priority,
                "weight": draft.weight,
                "profile": targeting_out(targeting),
            },
        )
        row.creative_links = _relink(row.creative_links, "creative_id", draft.creatives)
        row.segment_links = _relink(row.segment_links, "segment_id", targeting.segment_ids())

    def _check_creatives(self, row: LineItem, ids: tuple[int, ...]) -> None:
        """A line item serves its own advertiser's creatives only."""
        if not ids:
            return
        found = {
            c.id: c for c in self.session.scalars(select(Creative).where(Creative.id.in_(ids)))
        }
        errors: list[FieldError] = []
        for i, cid in enumerate(ids):
            creative = found.get(cid)
            if creative is None or not self.principal.sees_advertiser(
                creative.member_id, creative.advertiser_id
            ):
                errors.append(field_error(f"creatives[{i}]", f"creative {cid} not found"))
            elif creative.advertiser_id != row.advertiser_id:
                errors.append(
                    field_error(
                        f"creatives[{i}]",
                        f"must be a creative of advertiser {row.advertiser_id} (creative {cid} "
                        f"belongs to advertiser {creative.advertiser_id})",
                    )
                )
        raise_if_any(errors)


def _relink(links: list[Any], column: str, wanted: Any) -> list[Any]:
    """Keep the link rows still wanted, add the missing ones (no delete-and-insert churn)."""
    table = LineItemCreative if column == "creative_id" else LineItemSegment
    kept = [link for link in links if getattr(link, column) in wanted]
    have = {getattr(link, column) for link in kept}
    return kept + [table(**{column: i}) for i in sorted(set(wanted) - have)]


def draft_of(row: LineItem) -> LineItemDraft:
    return LineItemDraft(
        name=row.name,
        state=row.state,
        priority=row.priority,
        weight=row.weight,
        creatives=tuple(link.creative_id for link in row.creative_links),
        profile=row.profile,
    )


def _merge(draft: LineItemDraft, fields: dict[str, Any], append: bool) -> LineItemDraft:
    """A PUT: fields not sent stay; `creatives` sent replace the stored ones unless `append`."""
    changes = {k: v for k, v in fields.items() if k in SCALARS}
    for name, default in (("state", "active"), ("priority", draft.priority)):
        if name in changes and changes[name] is None:
            changes[name] = default
    if "creatives" in fields:
        sent = tuple(_creative_id(c) for c in fields["creatives"] or ())
        added = tuple(c for c in sent if c not in draft.creatives)
        changes["creatives"] = draft.creatives + added if append else sent
    return replace(draft, **changes)


def _creative_id(item: Any) -> int:
    """`creatives` may list ids or `{"id": N}` objects."""
    return item["id"] if isinstance(item, dict) else item


def line_item_out(row: LineItem) -> dict[str, Any]:
    return {
        "id": row.id,
        "member_id": row.member_id,
        "advertiser_id": row.advertiser_id,
        "name": row.name,
        "state": row.state,
        "priority": row.priority,
        "weight": row.weight,
        "creatives": [{"id": link.creative_id} for link in row.creative_links],
        "profile": row.profile,
        "last_modified": fmt_time(row.last_modified),
    }
