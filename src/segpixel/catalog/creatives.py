"""Creatives in the catalog (SPEC §1.5, §6): an advertiser's ads and the segments they add."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from segpixel.catalog.owned import AdvertiserOwnedRepo
from segpixel.catalog.repo import fmt_time
from segpixel.catalog.segment_use import check_segment_refs
from segpixel.catalog.tables import Creative, CreativeSegment, LineItemCreative
from segpixel.domain.creatives import CreativeDraft, creative_errors
from segpixel.domain.creatives import CreativeSegment as SegmentAction
from segpixel.domain.errors import ValidationFailed, field_error, raise_if_any

SCALARS = ("name", "state", "width", "height", "content", "media_url", "click_url")


class CreativeRepo(AdvertiserOwnedRepo[Creative]):
    model = Creative
    noun = "creative"
    dependents = ((LineItemCreative, "creative_id", "line item(s)"),)

    def create(self, advertiser_id: int, fields: dict[str, Any]) -> Creative:
        member_id, advertiser_id = self.owner(advertiser_id)
        row = Creative(member_id=member_id, advertiser_id=advertiser_id)
        self._store(row, _merge(CreativeDraft(name=""), fields, append=False))
        self.session.add(row)
        self.session.flush()
        return row

    def update(self, row: Creative, fields: dict[str, Any], append: bool = False) -> Creative:
        self.require_changer(row.member_id, row.advertiser_id)
        for name in ("member_id", "advertiser_id"):
            if name in fields and fields[name] != getattr(row, name):
                raise ValidationFailed(
                    [field_error(name, "cannot be changed: a creative stays with its advertiser")]
                )
        self._store(row, _merge(draft_of(row), fields, append))
        self.session.flush()
        return row

    def delete(self, row: Creative) -> None:
        self.require_changer(row.member_id, row.advertiser_id)
        self.check_unused(row)
        self.session.delete(row)
        self.session.flush()

    def _store(self, row: Creative, draft: CreativeDraft) -> None:
        raise_if_any(creative_errors(draft))
        refs = [(f"segments[{i}].id", s.segment_id) for i, s in enumerate(draft.segments)]
        check_segment_refs(self.session, self.principal, refs, row.member_id, row.advertiser_id)
        self.apply(row, {name: getattr(draft, name) for name in SCALARS})
        wanted = {(s.segment_id, s.action) for s in draft.segments}
        kept = [link for link in row.segment_links if (link.segment_id, link.action) in wanted]
        have = {(link.segment_id, link.action) for link in kept}
        row.segment_links = kept + [
            CreativeSegment(segment_id=sid, action=action) for sid, action in sorted(wanted - have)
        ]


def draft_of(row: Creative) -> CreativeDraft:
    return CreativeDraft(
        **{name: getattr(row, name) for name in SCALARS},
        segments=tuple(SegmentAction(link.segment_id, link.action) for link in row.segment_links),
    )


def _merge(draft: CreativeDraft, fields: dict[str, Any], append: bool) -> CreativeDraft:
    """A PUT: fields not sent stay; `segments` sent replace the stored ones unless `append`."""
    changes = {k: v for k, v in fields.items() if k in SCALARS}
    if "state" in changes and changes["state"] is None:
        changes["state"] = "active"
    if "segments" in fields:
        sent = tuple(SegmentAction(s["id"], s["action"]) for s in fields["segments"] or ())
        # appending what is already there changes nothing (not a "named twice" error)
        added = tuple(s for s in sent if s not in draft.segments)
        changes["segments"] = draft.segments + added if append else sent
    return replace(draft, **changes)


def creative_out(row: Creative) -> dict[str, Any]:
    return {
        "id": row.id,
        "member_id": row.member_id,
        "advertiser_id": row.advertiser_id,
        "name": row.name,
        "state": row.state,
        "width": row.width,
        "height": row.height,
        "content": row.content,
        "media_url": row.media_url,
        "click_url": row.click_url,
        "segments": [{"id": s.segment_id, "action": s.action} for s in row.segment_links],
        "last_modified": fmt_time(row.last_modified),
    }
