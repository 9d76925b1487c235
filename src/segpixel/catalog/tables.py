"""The catalog's tables (SQLAlchemy 2). Migrations in `migrations/` create exactly these."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Versioned:
    """Marks the tables whose changes the pixel servers must see (the catalog version moves)."""


class CatalogVersion(Base):
    __tablename__ = "catalog_version"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=1)


class Member(Versioned, Base):
    __tablename__ = "members"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16), default="active")
    redirect_domains: Mapped[list[str]] = mapped_column(JSON, default=list)
    dongle: Mapped[str] = mapped_column(String(64))
    last_modified: Mapped[datetime] = mapped_column(DateTime)


class Advertiser(Versioned, Base):
    __tablename__ = "advertisers"
    __table_args__ = (UniqueConstraint("member_id", "code_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    code: Mapped[str | None] = mapped_column(String(50))
    code_key: Mapped[str | None] = mapped_column(String(50))  # lower-cased code: uniqueness
    state: Mapped[str] = mapped_column(String(16), default="active")
    last_modified: Mapped[datetime] = mapped_column(DateTime)


class Segment(Versioned, Base):
    __tablename__ = "segments"
    __table_args__ = (
        UniqueConstraint("member_id", "code_key"),
        UniqueConstraint("member_id", "qs_param_key"),
        Index(None, "member_id", "advertiser_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    advertiser_id: Mapped[int | None] = mapped_column(ForeignKey("advertisers.id"))
    short_name: Mapped[str] = mapped_column(String(255))
    code: Mapped[str | None] = mapped_column(String(50))
    code_key: Mapped[str | None] = mapped_column(String(50))
    description: Mapped[str | None] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(16), default="active")
    expire_minutes: Mapped[int | None] = mapped_column(Integer)
    max_usersync_pixels: Mapped[int] = mapped_column(Integer, default=0)
    piggyback_pixels: Mapped[list[dict]] = mapped_column(JSON, default=list)
    querystring_mapping: Mapped[dict | None] = mapped_column(JSON)
    querystring_mapping_key_value: Mapped[dict | None] = mapped_column(JSON)
    qs_param_key: Mapped[str | None] = mapped_column(String(60))  # lower-cased param: uniqueness
    last_modified: Mapped[datetime] = mapped_column(DateTime)


class UsersyncPixel(Versioned, Base):
    __tablename__ = "usersync_pixels"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    url: Mapped[str] = mapped_column(Text)
    pixel_type: Mapped[str] = mapped_column(String(8), default="img")
    state: Mapped[str] = mapped_column(String(16), default="active")
    priority: Mapped[int] = mapped_column(Integer, default=5)
    last_modified: Mapped[datetime] = mapped_column(DateTime)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    advertiser_id: Mapped[int | None] = mapped_column(ForeignKey("advertisers.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_modified: Mapped[datetime] = mapped_column(DateTime)


class ApiToken(Base):
    __tablename__ = "api_tokens"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    issued_at: Mapped[int] = mapped_column(BigInteger)  # epoch seconds
    last_used_at: Mapped[int] = mapped_column(BigInteger)


class Job(Base):
    """Long work done off the request: a report (SPEC §8) or a batch upload (SPEC §9).

    Kept in the catalog database so any server of a deployment can answer for it.
    """

    __tablename__ = "jobs"
    __table_args__ = (Index(None, "member_id", "kind"), Index(None, "status", "id"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # "report" | "batch-segment"
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    progress: Mapped[dict] = mapped_column(JSON, default=dict)
    # read only by the download: a status poll need not load a year's report
    result: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    # The runner that holds the job and until when (epoch ms): segpixel.catalog.job_queue.
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[int | None] = mapped_column(BigInteger)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    spool: Mapped[str | None] = mapped_column(String(32))  # the upload folder holding its file
    store: Mapped[str | None] = mapped_column(String(32))  # the profile store it works on
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The reference's `job_id` (40 letters and digits): the Batch Segment Service addresses a job
    # by it, and its upload_url carries it.
    public_id: Mapped[str | None] = mapped_column(String(40), unique=True)


class BatchSegmentConfig(Base):
    """A member's batch file format (SPEC §9.2, the reference's Batch Segment Service -
    Configuration); a member without one reads files in the format of SPEC §9.1."""

    __tablename__ = "batch_segment_configs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), unique=True
    )
    separator_1: Mapped[str] = mapped_column(String(4))
    separator_2: Mapped[str] = mapped_column(String(4))
    separator_3: Mapped[str] = mapped_column(String(4))
    separator_4: Mapped[str | None] = mapped_column(String(4))
    segment_fields: Mapped[list[str]] = mapped_column(JSON)
    created_on: Mapped[datetime] = mapped_column(DateTime)
    last_modified: Mapped[datetime] = mapped_column(DateTime)


# -- inventory and buyers (SPEC §1.5): what ad calls name and what answers them -----------------


class Publisher(Versioned, Base):
    __tablename__ = "publishers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16), default="active")
    last_modified: Mapped[datetime] = mapped_column(DateTime)


class Site(Versioned, Base):
    __tablename__ = "sites"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    publisher_id: Mapped[int] = mapped_column(ForeignKey("publishers.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16), default="active")
    last_modified: Mapped[datetime] = mapped_column(DateTime)


class Placement(Versioned, Base):
    __tablename__ = "placements"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16), default="active")
    last_modified: Mapped[datetime] = mapped_column(DateTime)


class Creative(Versioned, Base):
    __tablename__ = "creatives"
    __table_args__ = (Index(None, "member_id", "advertiser_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    advertiser_id: Mapped[int] = mapped_column(ForeignKey("advertisers.id"))
    name: Mapped[str] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16), default="active")
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    content: Mapped[str | None] = mapped_column(Text)
    media_url: Mapped[str | None] = mapped_column(Text)
    click_url: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[datetime] = mapped_column(DateTime)
    segment_links: Mapped[list[CreativeSegment]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="CreativeSegment.segment_id"
    )


class CreativeSegment(Versioned, Base):
    """A creative's segment actions (add_on_view / add_on_click); the FK keeps a segment a
    creative adds from being deleted."""

    __tablename__ = "creative_segments"
    creative_id: Mapped[int] = mapped_column(
        ForeignKey("creatives.id", ondelete="CASCADE"), primary_key=True
    )
    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id"), primary_key=True, index=True)
    action: Mapped[str] = mapped_column(String(16), primary_key=True)


class LineItem(Versioned, Base):
    __tablename__ = "line_items"
    __table_args__ = (Index(None, "member_id", "advertiser_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    advertiser_id: Mapped[int] = mapped_column(ForeignKey("advertisers.id"))
    name: Mapped[str] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16), default="active")
    priority: Mapped[int] = mapped_column(Integer, default=5)
    weight: Mapped[int | None] = mapped_column(Integer)
    profile: Mapped[dict | None] = mapped_column(JSON)  # SPEC §7, as targeting_rules writes it
    last_modified: Mapped[datetime] = mapped_column(DateTime)
    creative_links: Mapped[list[LineItemCreative]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="LineItemCreative.creative_id"
    )
    segment_links: Mapped[list[LineItemSegment]] = relationship(
        lazy="selectin", cascade="all, delete-orphan"
    )


class LineItemCreative(Versioned, Base):
    __tablename__ = "line_item_creatives"
    line_item_id: Mapped[int] = mapped_column(
        ForeignKey("line_items.id", ondelete="CASCADE"), primary_key=True
    )
    creative_id: Mapped[int] = mapped_column(
        ForeignKey("creatives.id"), primary_key=True, index=True
    )


class LineItemSegment(Versioned, Base):
    """The segments a line item's profile names, kept beside the JSON so that the database
    refuses to delete a targeted segment (and "who targets segment N" is one query)."""

    __tablename__ = "line_item_segments"
    line_item_id: Mapped[int] = mapped_column(
        ForeignKey("line_items.id", ondelete="CASCADE"), primary_key=True
    )
    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id"), primary_key=True, index=True)


def _ids_are_never_reused() -> None:
    """SQLite gives a new row max(id) + 1 unless the table says AUTOINCREMENT: deleting the newest
    segment would hand its id to the next one, and with it the profiles and load counters still
    kept under that id. PostgreSQL sequences never go back, so this is SQLite's option only."""
    for table in Base.metadata.tables.values():
        keyed_by_id = [c.name for c in table.primary_key.columns] == ["id"]
        if keyed_by_id and table.name != "catalog_version":
            table.dialect_options["sqlite"]["autoincrement"] = True


_ids_are_never_reused()
