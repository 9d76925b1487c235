"""Publishers, sites and placements in the catalog (SPEC §1.5).

A site belongs to a publisher and a placement to a site, all of one member; the owner is given
when the object is made and never moves (move inventory by making it anew).
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from segpixel.catalog.owned import MemberOwnedRepo
from segpixel.catalog.repo import Repo, fmt_time
from segpixel.catalog.tables import Placement, Publisher, Site
from segpixel.domain.errors import FieldError, ValidationFailed, field_error, raise_if_any
from segpixel.domain.inventory import InventoryDraft, inventory_errors
from segpixel.domain.segments import QueryStringMapping


class InventoryRepo(MemberOwnedRepo[Any]):
    # the owner a new object names: None = the member itself, else (field, repo of the parent)
    parent: ClassVar[tuple[str, type[Repo[Any]]] | None] = None

    def create(self, owner_id: int, fields: dict[str, Any]) -> Any:
        if self.parent is None:
            member_id, owner = owner_id, {}
            self.require_member(member_id)
        else:
            name, repo_type = self.parent
            parent = repo_type(self.session, self.principal).get(owner_id)
            member_id, owner = parent.member_id, {name: parent.id}
        self.require_manager(member_id)
        row = self.model(member_id=member_id, **owner)
        self._store(row, {"name": "", "state": "active"}, fields)
        self.session.add(row)
        self.session.flush()
        return row

    def update(self, row: Any, fields: dict[str, Any]) -> Any:
        self.require_manager(row.member_id)
        for name in ("member_id", self.parent[0] if self.parent else None):
            if name and name in fields and fields[name] != getattr(row, name):
                raise ValidationFailed(
                    [field_error(name, f"cannot be changed: a {self.noun} stays with its owner")]
                )
        self._store(row, {"name": row.name, "state": row.state}, fields)
        self.session.flush()
        return row

    def delete(self, row: Any) -> None:
        self.require_manager(row.member_id)
        self.check_unused(row)
        self.session.delete(row)
        self.session.flush()

    def _store(self, row: Any, current: dict[str, Any], fields: dict[str, Any]) -> None:
        merged = {**current, **{k: v for k, v in fields.items() if k in current}}
        draft = InventoryDraft(name=merged["name"] or "", state=merged["state"] or "active")
        raise_if_any(inventory_errors(draft))
        self.apply(row, {"name": draft.name, "state": draft.state})


class PublisherRepo(InventoryRepo):
    model = Publisher
    noun = "publisher"
    dependents = ((Site, "publisher_id", "site(s)"),)


class SiteRepo(InventoryRepo):
    model = Site
    noun = "site"
    parent = ("publisher_id", PublisherRepo)
    dependents = ((Placement, "site_id", "placement(s)"),)


class PlacementRepo(InventoryRepo):
    model = Placement
    noun = "placement"
    parent = ("site_id", SiteRepo)


def _common(row: Any) -> dict[str, Any]:
    return {"id": row.id, "member_id": row.member_id, "name": row.name, "state": row.state}


def publisher_out(row: Publisher) -> dict[str, Any]:
    return {**_common(row), "last_modified": fmt_time(row.last_modified)}


def site_out(row: Site) -> dict[str, Any]:
    return {
        **_common(row),
        "publisher_id": row.publisher_id,
        "last_modified": fmt_time(row.last_modified),
    }


def placement_out(row: Placement) -> dict[str, Any]:
    return {**_common(row), "site_id": row.site_id, "last_modified": fmt_time(row.last_modified)}


def check_mapping_scope(session: Session, member_id: int, qs: QueryStringMapping) -> None:
    """A query-string mapping's scope names inventory of the segment's own member (SPEC §5.1)."""
    errors: list[FieldError] = []
    for key, model, ids in (
        ("publishers", Publisher, qs.publishers),
        ("sites", Site, qs.sites),
        ("placements", Placement, qs.placements),
    ):
        if not ids:
            continue
        stmt = select(model.id).where(model.id.in_(ids), model.member_id == member_id)
        found = set(session.scalars(stmt))
        noun = key[:-1]
        errors += [
            field_error(
                f"querystring_mapping.{key}[{i}].id",
                f"must be a {noun} of member {member_id} ({noun} {oid} not found)",
            )
            for i, oid in enumerate(ids)
            if oid not in found
        ]
    raise_if_any(errors)
