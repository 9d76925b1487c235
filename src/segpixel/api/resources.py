"""The verbs of a catalog service, written once for every service of SPEC §2.

A route module declares its parameters (for OpenAPI) and hands over to its `Service`:

- `read`: GET one by `?id=`, several by `?id=1,2`, or a page of all the caller may see, with the
  reference's listing filters (`state=active`, `min_last_modified=…`, `like_name=…`; unknown →
  SYNTAX), `search`, paging (`num_elements` above 100 is 100), `sort` and `fields=` projection;
- `write`: POST / PUT of one object or a bulk list, round trips included (api/writes.py); the
  route supplies how one object is created or changed;
- `delete`: `?id=1,2,3`, all or nothing;

`Owned` adds the create and update of the inventory and buyer services, which differ only in the
owner a POST names (`?member_id=`, `?publisher_id=`, `?site_id=`, `?advertiser_id=`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from segpixel.api.deps import Caller
from segpixel.api.envelope import ok
from segpixel.api.owners import one_of, resolve_member
from segpixel.api.schemas import Bulk
from segpixel.api.service_fields import ServiceFields
from segpixel.api.writes import Item, Write, address, read_body, write_all
from segpixel.catalog.repo import Repo
from segpixel.domain.access import Principal
from segpixel.domain.errors import ValidationFailed, field_error
from segpixel.domain.filters import Filter, parse_filters, parse_projection, project
from segpixel.domain.paging import parse_id_list, parse_page

Paging = tuple[str | None, str | None, str | None]
Out = Callable[[Any, Principal], dict[str, Any]]
# Parameters every GET reads itself; everything else in its query string is a listing filter.
GET_PARAMS = frozenset({"id", "start_element", "num_elements", "sort", "fields"})
ID_ASSIGNED = "id is assigned by segpixel: the id sent with a new object was ignored"


def plain(out: Callable[[Any], dict[str, Any]]) -> Out:
    """An answer shape that does not depend on who asks."""
    return lambda row, _principal: out(row)


@dataclass(frozen=True)
class Service:
    fields: ServiceFields
    repo: type[Repo[Any]]
    out: Out
    params: frozenset[str] = frozenset({"search"})  # further GET parameters the route reads
    # adds to an answer what the catalog does not hold (a segment's quick stats)
    enrich: Callable[[Caller, dict[str, Any]], dict[str, Any]] | None = None

    @property
    def key(self) -> str:
        return self.fields.key

    @property
    def plural(self) -> str:
        return self.fields.plural

    # -- reads -------------------------------------------------------------------------------

    def read(
        self,
        caller: Caller,
        request: Request,
        paging: Paging,
        *,
        one: Callable[[Any], Any] | None = None,
        extra: Callable[[Any], list[Filter]] | None = None,
    ) -> dict[str, Any]:
        """`one(repo)` may name the single object to answer; `extra(repo)` adds filters."""
        query = request.query_params
        raw_ids = query.get("id")
        ids = parse_id_list("id", raw_ids) if raw_ids else None
        page = parse_page(*paging, sortable=self.fields.sortable)
        reserved = GET_PARAMS | self.params
        filters = parse_filters(
            ((k, v) for k, v in query.multi_items() if k not in reserved),
            self.fields.by_name,
            self.key,
        )
        projection = parse_projection(query.get("fields"), self.fields.by_name, self.key)
        search = query.get("search") if "search" in self.params else None
        with caller.repo(self.repo) as repo:
            row = one(repo) if one is not None else None
            if row is None and ids is not None and len(ids) == 1 and not filters:
                row = repo.get(ids[0])
            if row is not None:
                answer = ok({"id": row.id, self.key: self.out(row, caller.principal)})
            else:
                stmt = repo.query(ids=ids, **({"search": search} if search else {}))  # type: ignore[attr-defined]
                stmt = repo.filtered(stmt, filters + (extra(repo) if extra else []))
                total, rows = repo.list(stmt, page)
                objects = [self.out(r, caller.principal) for r in rows]
                answer = ok({self.plural: objects}, count=total, page=page)
        return self._shaped(caller, answer, projection)

    def _shaped(
        self, caller: Caller, answer: dict[str, Any], projection: tuple[str, ...] | None = None
    ) -> dict[str, Any]:
        if self.enrich is not None:
            answer = self.enrich(caller, answer)
        if projection is not None:
            payload = answer["response"]
            for name in (self.key, self.plural):
                if isinstance(payload.get(name), dict):
                    payload[name] = project(payload[name], projection)
                elif isinstance(payload.get(name), list):
                    payload[name] = [project(o, projection) for o in payload[name]]
        return answer

    # -- writes ------------------------------------------------------------------------------

    def write(
        self,
        caller: Caller,
        body: Bulk,
        write: Write,
        *,
        creating: bool = False,
        repo_options: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """POST (`creating`) or PUT of the body's objects, all in one transaction
        (`repo_options`: what the repository is opened with)."""
        incoming = read_body(self.fields, body)
        warnings = list(incoming.warnings)
        if creating and any(item.id is not None for item in incoming.items):
            warnings.insert(0, ID_ASSIGNED)
        with caller.repo(self.repo, **(repo_options or {})) as repo:
            written = write_all(
                self.fields, repo, incoming, write, lambda row: self.out(row, caller.principal)
            )
        rows = [row.id for row, _ in written]
        if incoming.bulk:
            payload = {"ids": rows, self.plural: [shown for _, shown in written]}
            answer = ok(payload, count=len(rows), warnings=warnings)
        else:
            answer = ok({"id": rows[0], self.key: written[0][1]}, warnings=warnings)
        return self._shaped(caller, answer)

    def target(self, repo: Any, item: Item, query_id: int | None) -> Any:
        """The stored object a PUT item changes (its `id`, or `?id=`)."""
        row_id = address(self.fields, item, query_id)
        if row_id is None:
            raise ValidationFailed(
                [field_error(item.path(self.fields, "id"), "is required (as ?id= or in the body)")]
            )
        return repo.get(row_id)

    def delete(
        self, caller: Caller, ids: str | None, target: Callable[[Any], Any] | None = None
    ) -> dict[str, Any]:
        """DELETE `?id=1,2,3` (or the one `target(repo)` names): all or nothing."""
        if target is None and not ids:
            raise ValidationFailed([field_error("id", "is required (one id or a list: 1,2,3)")])
        with caller.repo(self.repo) as repo:
            if target is not None:
                rows = [target(repo)]
            else:
                rows = repo.get_many(list(dict.fromkeys(parse_id_list("id", ids or ""))))
            deleted = [row.id for row in rows]
            for row in rows:
                repo.delete(row)  # type: ignore[attr-defined]
        if len(deleted) == 1:
            return ok({"id": deleted[0]})
        return ok({"ids": deleted}, count=len(deleted))


@dataclass(frozen=True)
class Owned(Service):
    """A service whose POST names an owner: member, publisher, site or advertiser."""

    owner: str = "member_id"  # member_id | publisher_id | site_id | advertiser_id

    def create(
        self, caller: Caller, body: Bulk, owner_id: int | None, member_id: int | None
    ) -> dict[str, Any]:
        def write(repo: Any, item: Item) -> Any:
            return self._create(repo, caller, item, owner_id, member_id)

        return self.write(caller, body, write, creating=True)

    def update(self, caller: Caller, body: Bulk, row_id: int | None, **options: Any) -> Any:
        def write(repo: Any, item: Item) -> Any:
            return repo.update(self.target(repo, item, row_id), item.fields, **options)

        return self.write(caller, body, write)

    def _create(
        self,
        repo: Any,
        caller: Caller,
        item: Item,
        owner_id: int | None,
        member_id: int | None,
    ) -> Any:
        fields = dict(item.fields)
        member = one_of("member_id", member_id, fields.pop("member_id", None))
        principal = caller.principal
        if self.owner == "member_id":
            owner = resolve_member(principal, member)
        else:
            owner = one_of(self.owner, owner_id, fields.pop(self.owner, None))
        if owner is None and self.owner == "advertiser_id" and principal.role == "advertiser":
            owner = principal.advertiser_id  # an advertiser user makes its own advertiser's
        if owner is None:
            raise ValidationFailed(
                [field_error(self.owner, f"is required (as ?{self.owner}= or in the body)")]
            )
        row = repo.create(owner, fields)
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
        return row
