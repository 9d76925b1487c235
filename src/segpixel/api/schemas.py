"""Request bodies: the shapes and types the API accepts, with the reference's field names.

Only shape lives here (types, known fields, enumerations); the rules (ranges, charsets, the
piggyback rules…) live in `segpixel.domain` so the API and the console share them. Every model
forbids unknown fields so a typo is answered with a sentence instead of being silently dropped.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

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


class IdRef(Shape):
    id: Id


class PiggybackIn(Shape):
    url: str
    pixel_type: Literal["img", "js"]


class QueryStringMappingIn(Shape):
    param: str
    value_type: Literal["text", "numeric", "none"] = "text"
    values: list[str] = Field(default_factory=list, max_length=1000)
    allow_empty_text: StrictBool = False
    publishers: list[IdRef] = Field(default_factory=list, max_length=1000)
    sites: list[IdRef] = Field(default_factory=list, max_length=1000)
    placements: list[IdRef] = Field(default_factory=list, max_length=1000)


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


class SegmentBody(Shape):
    segment: SegmentIn


class AdvertiserIn(Shape):
    member_id: Id | None = None
    name: str | None = None
    code: str | None = None
    state: State | None = None


class AdvertiserBody(Shape):
    advertiser: AdvertiserIn


class MemberIn(Shape):
    name: str | None = None
    state: State | None = None
    redirect_domains: list[str] | None = Field(None, max_length=1000)
    dongle: str | None = None


class MemberBody(Shape):
    member: MemberIn


class UsersyncIn(Shape):
    member_id: Id | None = None
    name: str | None = None
    url: str | None = None
    pixel_type: Literal["img", "js"] | None = None
    state: State | None = None
    priority: Int | None = None


class UsersyncBody(Shape):
    usersync_pixel: UsersyncIn = Field(alias="usersync-pixel")


class UserIn(Shape):
    username: str | None = None
    password: str | None = None
    role: Literal["admin", "member", "advertiser"] | None = None
    member_id: Id | None = None
    advertiser_id: Id | None = None


class UserBody(Shape):
    user: UserIn


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


class PublisherBody(Shape):
    publisher: InventoryIn


class SiteIn(InventoryIn):
    publisher_id: Id | None = None


class SiteBody(Shape):
    site: SiteIn


class PlacementIn(InventoryIn):
    site_id: Id | None = None


class PlacementBody(Shape):
    placement: PlacementIn


class CreativeSegmentIn(Shape):
    id: Id
    action: str  # add_on_view | add_on_click: checked by the domain, which names the rule


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


class CreativeBody(Shape):
    creative: CreativeIn


class LineItemIn(Shape):
    member_id: Id | None = None
    advertiser_id: Id | None = None
    name: str | None = None
    state: State | None = None
    priority: Int | None = None
    weight: Int | None = None
    creatives: list[Id | IdRef] | None = Field(None, max_length=1000)  # ids or {"id": N}
    profile: dict[str, Any] | None = None  # SPEC §7: read and checked by domain.targeting_rules


class LineItemBody(Shape):
    line_item: LineItemIn = Field(alias="line-item")


class EvaluateBody(Shape):
    """POST /targeting/evaluate: a profile (or a stored line item's) against one user."""

    user_id: Int | str  # our user id; a string keeps 64-bit ids exact in JavaScript clients
    profile: dict[str, Any] | None = None
    line_item_id: Id | None = None
