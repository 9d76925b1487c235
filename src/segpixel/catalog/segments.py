"""Segments in the catalog: scoped reads, validated writes (SPEC §1.2, §2)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import Select, String, cast, false, or_, select

from segpixel.catalog.advertisers import AdvertiserRepo
from segpixel.catalog.inventory import check_mapping_scope
from segpixel.catalog.repo import Repo, fmt_time
from segpixel.catalog.segment_use import segment_use
from segpixel.catalog.tables import Segment
from segpixel.domain.errors import ValidationFailed, field_error, raise_if_any
from segpixel.domain.segments import (
    KeyValueMapping,
    Piggyback,
    QueryStringMapping,
    SegmentDraft,
    param_collision_error,
    segment_errors,
    segment_type,
)
from segpixel.errors import Conflict, Forbidden

# Fields a PUT may change; `member_id` is the owner and never moves.
WRITABLE = (
    "advertiser_id",
    "short_name",
    "code",
    "description",
    "state",
    "expire_minutes",
    "max_usersync_pixels",
    "piggyback_pixels",
    "querystring_mapping",
    "querystring_mapping_key_value",
)
LIST_FIELDS = ("piggyback_pixels",)


class SegmentRepo(Repo[Segment]):
    model = Segment
    noun = "segment"

    def scope(self, stmt: Select[Any]) -> Select[Any]:
        p = self.principal
        if p.is_admin:
            return stmt
        if p.member_id is None:
            return stmt.where(false())
        stmt = stmt.where(Segment.member_id == p.member_id)
        if p.role == "advertiser":
            stmt = stmt.where(
                or_(Segment.advertiser_id.is_(None), Segment.advertiser_id == p.advertiser_id)
            )
        return stmt

    # -- reads -------------------------------------------------------------------------------

    def query(
        self,
        *,
        ids: list[int] | None = None,
        code: str | None = None,
        member_id: int | None = None,
        advertiser_id: int | None = None,
        search: str | None = None,
    ) -> Select[Any]:
        stmt = select(Segment)
        if ids:
            stmt = stmt.where(Segment.id.in_(ids))
        if code is not None:
            stmt = stmt.where(Segment.code == code)  # pixels match codes case-sensitively
        if member_id is not None:
            stmt = stmt.where(Segment.member_id == member_id)
        if advertiser_id is not None:
            stmt = stmt.where(Segment.advertiser_id == advertiser_id)
        if search:
            # autoescape: '_' and '%' (common in codes) are searched for literally
            stmt = stmt.where(
                or_(
                    cast(Segment.id, String) == search,
                    Segment.short_name.icontains(search, autoescape=True),
                    Segment.code_key.contains(search.lower(), autoescape=True),
                )
            )
        return stmt

    def by_code(self, member_id: int, code: str) -> Segment:
        return self.one(self.query(member_id=member_id, code=code), f"code {code!r}")

    # -- writes ------------------------------------------------------------------------------

    def create(self, member_id: int, advertiser_id: int | None, fields: dict[str, Any]) -> Segment:
        self._check_owner(member_id, advertiser_id)
        draft = _merge(SegmentDraft(member_id=member_id, short_name=""), fields, append=False)
        draft = replace(draft, advertiser_id=advertiser_id)
        self._validate(draft, segment_id=None)
        row = Segment(member_id=member_id)
        self.apply(row, _columns(draft))
        self.session.add(row)
        self.session.flush()
        return row

    def update(self, row: Segment, fields: dict[str, Any], append: bool) -> Segment:
        if not self.principal.changes_segment(row.member_id, row.advertiser_id):
            raise Forbidden(f"you may not change segment {row.id}: it is a member-level segment")
        if "member_id" in fields and fields["member_id"] != row.member_id:
            raise ValidationFailed(
                [field_error("member_id", "cannot be changed: a segment stays with its member")]
            )
        draft = _merge(draft_of(row), fields, append=append)
        if draft.advertiser_id != row.advertiser_id:
            self._check_owner(row.member_id, draft.advertiser_id)
        self._validate(draft, segment_id=row.id)
        self.apply(row, _columns(draft))
        self.session.flush()
        return row

    def delete(self, row: Segment) -> None:
        if not self.principal.changes_segment(row.member_id, row.advertiser_id):
            raise Forbidden(f"you may not delete segment {row.id}: it is a member-level segment")
        used_by = segment_use(self.session, row.id)
        if used_by is not None:
            raise Conflict(f"segment {row.id} is still used by {used_by}; change them first")
        self.session.delete(row)
        self.session.flush()

    def _check_owner(self, member_id: int, advertiser_id: int | None) -> None:
        self.require_member(member_id)
        if advertiser_id is not None:
            advertiser = AdvertiserRepo(self.session, self.principal).get(advertiser_id)
            if advertiser.member_id != member_id:
                raise ValidationFailed(
                    [
                        field_error(
                            "advertiser_id",
                            f"must be an advertiser of member {member_id} "
                            f"(advertiser {advertiser_id} belongs to member "
                            f"{advertiser.member_id})",
                        )
                    ]
                )
        if not self.principal.changes_segment(member_id, advertiser_id):
            raise Forbidden(
                "you may only create and change segments of your own advertiser"
                if advertiser_id is None
                else f"you may not change segments of advertiser {advertiser_id}"
            )

    def _validate(self, draft: SegmentDraft, segment_id: int | None) -> None:
        raise_if_any(segment_errors(draft))
        self.check_unique_code(draft.member_id, draft.code, segment_id)
        if draft.querystring_mapping is not None:
            check_mapping_scope(self.session, draft.member_id, draft.querystring_mapping)
            others = select(Segment).where(Segment.member_id == draft.member_id)
            if segment_id is not None:
                others = others.where(Segment.id != segment_id)
            param = draft.querystring_mapping.param
            clash = self.session.scalars(
                others.where(Segment.qs_param_key == param.lower())
            ).first()
            if clash is not None:
                error = param_collision_error(param, clash.id)
                raise Conflict(error.message, [error])


def draft_of(row: Segment) -> SegmentDraft:
    qs, kv = row.querystring_mapping, row.querystring_mapping_key_value
    return SegmentDraft(
        member_id=row.member_id,
        advertiser_id=row.advertiser_id,
        short_name=row.short_name,
        code=row.code,
        description=row.description,
        state=row.state,
        expire_minutes=row.expire_minutes,
        max_usersync_pixels=row.max_usersync_pixels,
        piggyback_pixels=tuple(Piggyback(**p) for p in row.piggyback_pixels or ()),
        querystring_mapping=_qs_mapping(qs) if qs else None,
        querystring_mapping_key_value=KeyValueMapping(**kv) if kv else None,
    )


def _merge(draft: SegmentDraft, fields: dict[str, Any], append: bool) -> SegmentDraft:
    """A PUT: fields not sent stay; arrays sent replace the stored ones unless `append`."""
    changes: dict[str, Any] = {k: v for k, v in fields.items() if k in WRITABLE}
    if "piggyback_pixels" in changes:
        sent = tuple(Piggyback(**p) for p in changes["piggyback_pixels"] or ())
        changes["piggyback_pixels"] = (draft.piggyback_pixels + sent) if append else sent
    if changes.get("querystring_mapping") is not None:
        changes["querystring_mapping"] = _qs_mapping(changes["querystring_mapping"])
    if changes.get("querystring_mapping_key_value") is not None:
        changes["querystring_mapping_key_value"] = KeyValueMapping(
            **changes["querystring_mapping_key_value"]
        )
    if "max_usersync_pixels" in changes and changes["max_usersync_pixels"] is None:
        changes["max_usersync_pixels"] = 0  # null means 0 (SPEC §1.2)
    return replace(draft, **changes)


def _qs_mapping(data: dict[str, Any]) -> QueryStringMapping:
    def ids(key: str) -> tuple[int, ...]:
        return tuple(int(item["id"]) for item in data.get(key) or ())

    return QueryStringMapping(
        param=data["param"],
        value_type=data.get("value_type") or "text",
        values=tuple(data.get("values") or ()),
        allow_empty_text=bool(data.get("allow_empty_text")),
        publishers=ids("publishers"),
        sites=ids("sites"),
        placements=ids("placements"),
    )


def _columns(draft: SegmentDraft) -> dict[str, Any]:
    qs, kv = draft.querystring_mapping, draft.querystring_mapping_key_value
    return {
        "advertiser_id": draft.advertiser_id,
        "short_name": draft.short_name,
        "code": draft.code,
        "code_key": draft.code.lower() if draft.code else None,
        "description": draft.description,
        "state": draft.state,
        "expire_minutes": draft.expire_minutes,
        "max_usersync_pixels": draft.max_usersync_pixels or 0,
        "piggyback_pixels": [
            {"url": p.url, "pixel_type": p.pixel_type} for p in draft.piggyback_pixels
        ],
        "querystring_mapping": _qs_dict(qs) if qs else None,
        "querystring_mapping_key_value": {"qs_key": kv.qs_key, "qs_value": kv.qs_value}
        if kv
        else None,
        "qs_param_key": qs.param.lower() if qs else None,
    }


def _qs_dict(qs: QueryStringMapping) -> dict[str, Any]:
    return {
        "param": qs.param,
        "value_type": qs.value_type,
        "values": list(qs.values),
        "allow_empty_text": qs.allow_empty_text,
        "publishers": [{"id": i} for i in qs.publishers],
        "sites": [{"id": i} for i in qs.sites],
        "placements": [{"id": i} for i in qs.placements],
    }


def segment_out(row: Segment) -> dict[str, Any]:
    """The segment as the API shows it (the reference's field names)."""
    draft = draft_of(row)
    return {
        "id": row.id,
        "member_id": row.member_id,
        "advertiser_id": row.advertiser_id,
        "short_name": row.short_name,
        "code": row.code,
        "description": row.description,
        "state": row.state,
        "expire_minutes": row.expire_minutes,
        "max_usersync_pixels": row.max_usersync_pixels,
        "type": segment_type(draft),
        "piggyback_pixels": row.piggyback_pixels or [],
        "querystring_mapping": row.querystring_mapping,
        "querystring_mapping_key_value": row.querystring_mapping_key_value,
        "last_modified": fmt_time(row.last_modified),
    }
