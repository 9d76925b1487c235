"""What the catalog groups share: the fields an option named, change one object, delete one."""

from __future__ import annotations

from typing import Any

from segpixel.commands import context
from segpixel.commands.output import say, show, usage


def given(**fields: Any) -> dict[str, Any]:
    """The fields an option named (PUT keeps the others as they are)."""
    return {k: v for k, v in fields.items() if v is not None}


def change(service: str, object_id: int, fields: dict[str, Any], as_json: bool) -> None:
    """PUT the fields and show the object as it now is."""
    if not fields:
        raise usage("nothing to change: give at least one field option (see --help)")
    with context.api() as api:
        show(api.update(service, object_id, fields), as_json)


def remove(service: str, noun: str, object_id: int, as_json: bool) -> None:
    with context.api() as api:
        api.delete(service, object_id)
    say(f"Deleted {noun} {object_id}", as_json, {"id": object_id, "deleted": True})
