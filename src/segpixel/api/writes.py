"""POST and PUT bodies as the reference's clients send them, for every service (SPEC §2.1).

One mechanism, whatever the service:

- **Round trips.** A body may carry what a GET returned. `id` names the object on PUT (it must
  agree with `?id=`) and is ignored on POST; the other read-only fields are dropped, except the
  derived ones (a segment's `type`), which must agree with what the answer will show.
- **Fields the reference documents but segpixel does not implement** are dropped too, each named
  once in the answer's `dbg_info.warnings`. Anything else was refused by the body model: a typo.
- **Bulk bodies** (`{"segments": [...]}`) are written in one transaction: the first item that
  fails rolls every one back, and its error names the item (`segments[2].code …`).

The route hands over what a single object needs written (`Write`), the rest is here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from segpixel.api.schemas import Bulk
from segpixel.api.service_fields import ServiceFields
from segpixel.domain.errors import FieldError, ValidationFailed, field_error
from segpixel.errors import SegpixelError


@dataclass
class Item:
    """One object of a body: what to store, and what it carried besides."""

    index: int | None  # its place in a bulk body; None when the body held one object
    fields: dict[str, Any]  # the writable fields sent (fields not sent are absent)
    id: int | None  # the `id` it carried
    derived: dict[str, Any]  # derived read-only fields sent: the answer must show the same

    def path(self, service: ServiceFields, name: str = "") -> str:
        """How an error names this item's field: `segments[2].code`, or just `code`."""
        where = "" if self.index is None else f"{service.plural}[{self.index}]"
        return ".".join(p for p in (where, name) if p)


@dataclass
class Incoming:
    items: list[Item]
    bulk: bool
    warnings: list[str]


def read_body(service: ServiceFields, body: Bulk) -> Incoming:
    """Split each object of the body into stored fields, its id, and what is only accepted."""
    objects, bulk = body.objects()
    items: list[Item] = []
    ignored: list[str] = []
    read_only = service.read_only
    for index, model in enumerate(objects):
        sent = model.model_dump(exclude_unset=True)
        item = Item(index if bulk else None, {}, None, {})
        for name, value in sent.items():
            if name == "id":
                item.id = value
            elif name in service.derived:
                item.derived[name] = value
            elif name in read_only:
                continue
            elif name in service.unimplemented:
                if name not in ignored:
                    ignored.append(name)
            else:
                item.fields[name] = value
        items.append(item)
    warnings = [
        f"{name} is documented by the reference but not implemented by segpixel: accepted and "
        "not stored"
        for name in ignored
    ]
    return Incoming(items, bulk, warnings)


def address(service: ServiceFields, item: Item, query_id: int | None) -> int | None:
    """The object a PUT item changes: its `id`, or `?id=`; the two must agree."""
    if item.id is not None and query_id is not None and item.id != query_id:
        raise ValidationFailed(
            [
                field_error(
                    item.path(service, "id"),
                    f"must be the id of the {service.key} addressed by ?id= ({query_id}); "
                    f"got {item.id}",
                )
            ]
        )
    return item.id if item.id is not None else query_id


def check_derived(service: ServiceFields, item: Item, out: dict[str, Any]) -> None:
    """A derived read-only field sent back must say what the answer says."""
    errors = [
        field_error(
            item.path(service, name),
            f"is read-only and derived from the other fields: this {service.key} is "
            f"{out.get(name)!r} (got {value!r})",
        )
        for name, value in item.derived.items()
        if value != out.get(name)
    ]
    if errors:
        raise ValidationFailed(errors)


def name_item(service: ServiceFields, item: Item, exc: Exception) -> None:
    """Make the error's fields and sentence name the item of a bulk body (`segments[2]…`)."""
    if item.index is None or not isinstance(exc, ValidationFailed | SegpixelError):
        return
    prefix = item.path(service)
    exc.errors = [FieldError(f"{prefix}.{e.field}", f"{prefix}.{e.message}") for e in exc.errors]
    if isinstance(exc, ValidationFailed):
        exc.args = ("; ".join(e.message for e in exc.errors),)
    else:
        exc.message = f"{prefix}: {exc.message}"
        exc.args = (exc.message,)


Write = Callable[[Any, Item], Any]  # (the repository, one item) → the row written


def write_all(
    service: ServiceFields,
    repo: Any,
    incoming: Incoming,
    write: Write,
    out: Callable[[Any], dict[str, Any]],
) -> list[tuple[Any, dict[str, Any]]]:
    """Write every item through `write` in the repository's one transaction; (row, answer) each.

    The caller's `with caller.repo(...)` block commits when this returns and rolls back when it
    raises, so a bulk body is all or nothing.
    """
    written = []
    for item in incoming.items:
        try:
            row = write(repo, item)
            shown = out(row)
            check_derived(service, item, shown)
        except Exception as exc:
            name_item(service, item, exc)
            raise
        written.append((row, shown))
    return written
