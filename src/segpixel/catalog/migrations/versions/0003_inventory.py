"""inventory

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 19:30:32.249022
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "publishers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("last_modified", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_publishers_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publishers")),
    )
    with op.batch_alter_table("publishers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_publishers_member_id"), ["member_id"], unique=False)

    op.create_table(
        "creatives",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("advertiser_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("media_url", sa.Text(), nullable=True),
        sa.Column("click_url", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["advertiser_id"],
            ["advertisers.id"],
            name=op.f("fk_creatives_advertiser_id_advertisers"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_creatives_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_creatives")),
    )
    with op.batch_alter_table("creatives", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_creatives_member_id_advertiser_id"),
            ["member_id", "advertiser_id"],
            unique=False,
        )

    op.create_table(
        "line_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("advertiser_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("weight", sa.Integer(), nullable=True),
        sa.Column("profile", sa.JSON(), nullable=True),
        sa.Column("last_modified", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["advertiser_id"],
            ["advertisers.id"],
            name=op.f("fk_line_items_advertiser_id_advertisers"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_line_items_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_line_items")),
    )
    with op.batch_alter_table("line_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_line_items_member_id_advertiser_id"),
            ["member_id", "advertiser_id"],
            unique=False,
        )

    op.create_table(
        "sites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("publisher_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("last_modified", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_sites_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["publisher_id"], ["publishers.id"], name=op.f("fk_sites_publisher_id_publishers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sites")),
    )
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sites_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sites_publisher_id"), ["publisher_id"], unique=False)

    op.create_table(
        "creative_segments",
        sa.Column("creative_id", sa.Integer(), nullable=False),
        sa.Column("segment_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["creative_id"],
            ["creatives.id"],
            name=op.f("fk_creative_segments_creative_id_creatives"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["segment_id"], ["segments.id"], name=op.f("fk_creative_segments_segment_id_segments")
        ),
        sa.PrimaryKeyConstraint(
            "creative_id", "segment_id", "action", name=op.f("pk_creative_segments")
        ),
    )
    with op.batch_alter_table("creative_segments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_creative_segments_segment_id"), ["segment_id"], unique=False
        )

    op.create_table(
        "line_item_creatives",
        sa.Column("line_item_id", sa.Integer(), nullable=False),
        sa.Column("creative_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["creative_id"],
            ["creatives.id"],
            name=op.f("fk_line_item_creatives_creative_id_creatives"),
        ),
        sa.ForeignKeyConstraint(
            ["line_item_id"],
            ["line_items.id"],
            name=op.f("fk_line_item_creatives_line_item_id_line_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("line_item_id", "creative_id", name=op.f("pk_line_item_creatives")),
    )
    with op.batch_alter_table("line_item_creatives", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_line_item_creatives_creative_id"), ["creative_id"], unique=False
        )

    op.create_table(
        "line_item_segments",
        sa.Column("line_item_id", sa.Integer(), nullable=False),
        sa.Column("segment_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["line_item_id"],
            ["line_items.id"],
            name=op.f("fk_line_item_segments_line_item_id_line_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["segment_id"], ["segments.id"], name=op.f("fk_line_item_segments_segment_id_segments")
        ),
        sa.PrimaryKeyConstraint("line_item_id", "segment_id", name=op.f("pk_line_item_segments")),
    )
    with op.batch_alter_table("line_item_segments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_line_item_segments_segment_id"), ["segment_id"], unique=False
        )

    op.create_table(
        "placements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("last_modified", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_placements_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_placements_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_placements")),
    )
    with op.batch_alter_table("placements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_placements_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_placements_site_id"), ["site_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("placements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_placements_site_id"))
        batch_op.drop_index(batch_op.f("ix_placements_member_id"))

    op.drop_table("placements")
    with op.batch_alter_table("line_item_segments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_line_item_segments_segment_id"))

    op.drop_table("line_item_segments")
    with op.batch_alter_table("line_item_creatives", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_line_item_creatives_creative_id"))

    op.drop_table("line_item_creatives")
    with op.batch_alter_table("creative_segments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_creative_segments_segment_id"))

    op.drop_table("creative_segments")
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sites_publisher_id"))
        batch_op.drop_index(batch_op.f("ix_sites_member_id"))

    op.drop_table("sites")
    with op.batch_alter_table("line_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_line_items_member_id_advertiser_id"))

    op.drop_table("line_items")
    with op.batch_alter_table("creatives", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_creatives_member_id_advertiser_id"))

    op.drop_table("creatives")
    with op.batch_alter_table("publishers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_publishers_member_id"))

    op.drop_table("publishers")
