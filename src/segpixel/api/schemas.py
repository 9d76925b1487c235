"""Request bodies: the shapes and types the API accepts, with the reference's field names.

Only shape lives here (types, known fields, enumerations); the rules (ranges, charsets, the
piggyback rules…) live in `segpixel.domain` so the API and the console share them. Every model
forbids unknown fields so a typo is answered with a sentence instead of being silently dropped.

`*In` models hold what a service stores. What a body of the service may carry besides (SPEC
§2.1: the read-only fields a GET returned, the fields the reference documents that we do not
implement) is added from the service's table in `api/service_fields.py` by `round_trip`, and
`body_of` wraps it as the reference does: `{"segment": {...}}` or, in bulk, `{"segments": [...]}`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    create_model,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from segpixel.api import service_fields as tables
from segpixel.api.service_fields import ServiceFields
from segpixel.domain.limits import PAGE_SIZE_MAX

# strict: `true` is not the number 1, nor is "5" an id (JSON has numbers for that)
Int = Annotated[int, Field(strict=True)]
Id = Annotated[int, Field(ge=1, le=2**31 - 1, strict=True)]
State = Literal["active", "inactive"]


class Shape(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        """NUL bytes and lone surrogates cannot be stored (PostgreSQL, UTF-8): a SYNTAX error."""
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str) and ("\x00" in text or not text.isascii()):
                if "\x00" in text:
                    raise ValueError("must not contain NUL characters")
                try:
                    text.encode()
                except UnicodeEncodeError:
                    raise ValueError("must be valid Unicode (no lone surrogates)") from None
        return value


READ_ONLY = "Read-only: accepted back (as a GET returned it) and ignored."
NOT_IMPLEMENTED = (
    "Documented by the reference, not implemented by segpixel: accepted, not stored, and named "
    "in the answer's dbg_info.warnings."
)
MAX_BULK = PAGE_SIZE_MAX  # objects in one bulk body


class IdRef(Shape):
    id: Id
    name: Any = Field(None, description=READ_ONLY)  # the reference's answers name the object


class PiggybackIn(Shape):
    url: str
    pixel_type: Literal["img", "js"]


class QueryStringMappingIn(Shape):
    param: str
    value_type: Literal["text", "numeric", "none"] = "text"
    # null is an empty list, as the reference's own answers write it
    values: list[str] | None = Field(None, max_length=1000)
    allow_empty_text: StrictBool = False
    publishers: list[IdRef] | None = Field(None, max_length=1000)
    sites: list[IdRef] | None = Field(None, max_length=1000)
    placements: list[IdRef] | None = Field(None, max_length=1000)


class KeyValueMappingIn(Shape):
    qs_key: str
    qs_value: str | None = None


class SegmentIn(Shape):
    """POST and PUT take the same fields; a PUT changes only those it sends."""

    member_id: Id | None = None
    advertiser_id: Id | None = None
    short_name: str | None = None
    code: str | None = None
    description: str | None = None
    state: State | None = None
    expire_minutes: Int | None = None
    max_usersync_pixels: Int | None = None
    piggyback_pixels: list[PiggybackIn] | None = Field(None, max_length=1000)
    querystring_mapping: QueryStringMappingIn | None = None
    querystring_mapping_key_value: KeyValueMappingIn | None = None


class AdvertiserIn(Shape):
    member_id: Id | None = None
    name: str | None = None
    code: str | None = None
    state: State | None = None


class MemberIn(Shape):
    name: str | None = None
    state: State | None = None
    redirect_domains: list[str] | None = Field(None, max_length=1000)
    dongle: str | None = None


class UsersyncIn(Shape):
    member_id: Id | None = None
    name: str | None = None
    url: str | None = None
    pixel_type: Literal["img", "js"] | None = None
    state: State | None = None
    priority: Int | None = None


class UserIn(Shape):
    username: str | None = None
    password: str | None = None
    role: Literal["admin", "member", "advertiser"] | None = None
    member_id: Id | None = None
    advertiser_id: Id | None = None


class Credentials(Shape):
    username: str = Field(max_length=200)
    password: str = Field(max_length=1000)


class AuthBody(Shape):
    auth: Credentials


# -- inventory and buyers (SPEC §1.5, §7); the rules live in segpixel.domain -----------------


class InventoryIn(Shape):
    member_id: Id | None = None
    name: str | None = None
    state: State | None = None


class SiteIn(InventoryIn):
    publisher_id: Id | None = None


class PlacementIn(InventoryIn):
    site_id: Id | None = None


class CreativeSegmentIn(Shape):
    id: Id
    action: str  # add_on_view | add_on_click: checked by the domain, which names the rule


class CreativeRef(IdRef):
    """A line item's creative as the reference's answers show it: only `id` is read."""

    code: Any = Field(None, description=READ_ONLY)
    state: Any = Field(None, description=READ_ONLY)
    width: Any = Field(None, description=READ_ONLY)
    height: Any = Field(None, description=READ_ONLY)
    format: Any = Field(None, description=READ_ONLY)
    audit_status: Any = Field(None, description=READ_ONLY)
    is_expired: Any = Field(None, description=READ_ONLY)
    is_prohibited: Any = Field(None, description=READ_ONLY)
    is_self_audited: Any = Field(None, description=READ_ONLY)
    pop_window_maximize: Any = Field(None, description=READ_ONLY)


class CreativeIn(Shape):
    member_id: Id | None = None
    advertiser_id: Id | None = None
    name: str | None = None
    state: State | None = None
    width: Int | None = None
    height: Int | None = None
    content: str | None = None
    media_url: str | None = None
    click_url: str | None = None
    segments: list[CreativeSegmentIn] | None = Field(None, max_length=1000)


class LineItemIn(Shape):
    member_id: Id | None = None
    advertiser_id: Id | None = None
    name: str | None = None
    state: State | None = None
    priority: Int | None = None
    weight: Int | None = None
    creatives: list[Id | CreativeRef] | None = Field(None, max_length=1000)  # ids or {"id": N}
    profile: dict[str, Any] | None = None  # SPEC §7: read and checked by domain.targeting_rules


class EvaluateBody(Shape):
    """POST /targeting/evaluate: a profile (or a stored line item's) against one user."""

    user_id: Int | str  # our user id; a string keeps 64-bit ids exact in JavaScript clients
    profile: dict[str, Any] | None = None
    line_item_id: Id | None = None


# -- bodies as the reference's clients send them (SPEC §2.1) -------------------------------------


class Bulk(Shape):
    """`{"<service>": {...}}` or `{"<services>": [...]}`: one of the two."""

    @model_validator(mode="before")
    @classmethod
    def _one_form(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data  # refused as "not an object" by the model itself
        one, many = (field.alias or name for name, field in cls.model_fields.items())
        sent = [key for key in (one, many) if data.get(key) is not None]
        if len(sent) != 1:
            other = [key for key in data if key not in (one, many)]
            got = f" (got {', '.join(other)[:80]})" if other else ""
            raise PydanticCustomError(
                "body_form",
                "{field} is required: send {form}, one of the two{got}",
                {"field": one, "form": f'{{"{one}": {{...}}}} or {{"{many}": [...]}}', "got": got},
            )
        return data

    def objects(self) -> tuple[list[BaseModel], bool]:
        """The objects sent, and whether they came as a list (the bulk form)."""
        (value,) = [getattr(self, n) for n in self.model_fields_set if getattr(self, n) is not None]
        return (value, True) if isinstance(value, list) else ([value], False)


def round_trip(base: type[Shape], service: ServiceFields) -> type[Shape]:
    """`base` plus the fields a body of `service` may carry without them being stored."""
    extra: dict[str, Any] = {}
    for name in sorted(service.read_only - base.model_fields.keys()):
        kind = Id | None if name == "id" else Any
        note = READ_ONLY
        if name == "id":
            note = "The object's id: on PUT it names the object (as ?id= does); on POST ignored."
        elif name in service.derived:
            note = "Read-only, derived from the other fields: sent back, it must agree."
        extra[name] = (kind, Field(None, description=note))
    for name in service.unimplemented:
        extra[name] = (Any, Field(None, description=NOT_IMPLEMENTED))
    name = "".join(part.capitalize() for part in service.key.split("-"))
    model = create_model(name, __base__=base, **extra)
    model.__doc__ = base.__doc__
    return model


def body_of(base: type[Shape], service: ServiceFields) -> type[Bulk]:
    item = round_trip(base, service)
    one, many = service.key.replace("-", "_"), service.plural.replace("-", "_")
    return create_model(
        f"{item.__name__}Body",
        __base__=Bulk,
        **{
            one: (item | None, Field(None, alias=service.key)),
            many: (
                list[item] | None,  # type: ignore[valid-type]
                Field(
                    None,
                    alias=service.plural,
                    min_length=1,
                    max_length=MAX_BULK,
                    description=f"Several at once: all or nothing (at most {MAX_BULK})",
                ),
            ),
        },
    )


SegmentBody = body_of(SegmentIn, tables.SEGMENT)
AdvertiserBody = body_of(AdvertiserIn, tables.ADVERTISER)
MemberBody = body_of(MemberIn, tables.MEMBER)
UserBody = body_of(UserIn, tables.USER)
UsersyncBody = body_of(UsersyncIn, tables.USERSYNC_PIXEL)
PublisherBody = body_of(InventoryIn, tables.PUBLISHER)
SiteBody = body_of(SiteIn, tables.SITE)
PlacementBody = body_of(PlacementIn, tables.PLACEMENT)
CreativeBody = body_of(CreativeIn, tables.CREATIVE)
LineItemBody = body_of(LineItemIn, tables.LINE_ITEM)
