"""The four verbs of a catalog service, written once for the inventory and buyer services.

`/publisher`, `/site`, `/placement`, `/creative` and `/line-item` behave alike (SPEC §2): GET one
by `?id=`, several by `?id=1,2`, or a page of all the caller may see (filters, search, paging,
sort); POST names the owner (`?member_id=`, `?publisher_id=`, `?site_id=`, `?advertiser_id=`, or
the same field in the body); PUT `?id=` changes the fields sent; DELETE `?id=`. The route modules
declare their parameters (for OpenAPI) and hand over to a Resource.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from segpixel.api.deps import Caller, page_for
from segpixel.api.envelope import ok
from segpixel.api.listing import one, page_of
from segpixel.api.owners import one_of, resolve_member
from segpixel.catalog.owned import OwnedRepo
from segpixel.domain.errors import ValidationFailed, field_error
from segpixel.domain.paging import parse_id_list

Paging = tuple[str | None, str | None, str | None]


@dataclass(frozen=True)
class Resource:
    key: str  # the payload key: "line-item"
    plural: str  # "line-items"
    repo: type[OwnedRepo[Any]]
    out: Callable[[Any], dict[str, Any]]
    owner: str  # what a POST names: member_id | publisher_id | site_id | advertiser_id

    def read(
        self, caller: Caller, paging: Paging, ids: str | None, search: str | None, **filters: Any
    ) -> dict[str, Any]:
        page = page_for(paging, self.repo)
        with caller.repo(self.repo) as repo:
            id_list = parse_id_list("id", ids) if ids else None
            if id_list and len(id_list) == 1:
                return one(self.key, repo.get(id_list[0]), self.out)
            stmt = repo.query(ids=id_list, search=search, **filters)
            return page_of(repo, stmt, page, self.plural, self.out)

    def create(
        self, caller: Caller, body: BaseModel, owner_id: int | None, member_id: int | None
    ) -> dict[str, Any]:
        fields = body.model_dump(exclude_unset=True)
        member = one_of("member_id", member_id, fields.pop("member_id", None))
        if self.owner == "member_id":
            owner = resolve_member(caller.principal, member)
        else:
            owner = one_of(self.owner, owner_id, fields.pop(self.owner, None))
        principal = caller.principal
        if owner is None and self.owner == "advertiser_id" and principal.role == "advertiser":
            owner = principal.advertiser_id  # an advertiser user makes its own advertiser's
        if owner is None:
            raise ValidationFailed(
                [field_error(self.owner, f"is required (as ?{self.owner}= or in the body)")]
            )
        with caller.repo(self.repo) as repo:
            row = repo.create(owner, fields)  # type: ignore[attr-defined]
            if member is not None and row.member_id != member:  # rolled back with the session
                raise ValidationFailed(
                    [
                        field_error(
                            "member_id",
                            f"must be the owner's member ({self.owner} {owner} belongs to member "
                            f"{row.member_id}, not {member})",
                        )
                    ]
                )
            return one(self.key, row, self.out)

    def update(
        self, caller: Caller, body: BaseModel, row_id: int, **options: Any
    ) -> dict[str, Any]:
        fields = body.model_dump(exclude_unset=True)
        with caller.repo(self.repo) as repo:
            row = repo.update(repo.get(row_id), fields, **options)  # type: ignore[attr-defined]
            return one(self.key, row, self.out)

    def delete(self, caller: Caller, row_id: int) -> dict[str, Any]:
        with caller.repo(self.repo) as repo:
            repo.delete(repo.get(row_id))  # type: ignore[attr-defined]
            return ok({"id": row_id})
