"""initial catalog

Revision ID: 0001
Revises:
Create Date: 2026-11-29 17:49:34.114469
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalog_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_version")),
    )
    # The one row the pixel servers poll; every catalog write moves it.
    op.execute("INSERT INTO catalog_version (id, version) VALUES (1, 1)")
    op.create_table(
        "members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("redirect_domains", sa.JSON(), nullable=False),
        sa.Column("dongle", sa.String(length=64), nullable=False),
        sa.Column("last_modified", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_members")),
    )
    op.create_table(
        "advertisers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=True),
        sa.Column("code_key", sa.String(length=50), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("last_modified", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_advertisers_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advertisers")),
        sa.UniqueConstraint(
            "member_id", "code_key", name=op.f("uq_advertisers_member_id_code_key")
        ),
    )
    with op.batch_alter_table("advertisers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_advertisers_member_id"), ["member_id"], unique=False)

    op.create_table(
        "usersync_pixels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("pixel_type", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("last_modified", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_usersync_pixels_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usersync_pixels")),
    )
    with op.batch_alter_table("usersync_pixels", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_usersync_pixels_member_id"), ["member_id"], unique=False
        )

    op.create_table(
        "segments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("advertiser_id", sa.Integer(), nullable=True),
        sa.Column("short_name", sa.String(length=255), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=True),
        sa.Column("code_key", sa.String(length=50), nullable=True),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("expire_minutes", sa.Integer(), nullable=True),
        sa.Column("max_usersync_pixels", sa.Integer(), nullable=False),
        sa.Column("piggyback_pixels", sa.JSON(), nullable=False),
        sa.Column("querystring_mapping", sa.JSON(), nullable=True),
        sa.Column("querystring_mapping_key_value", sa.JSON(), nullable=True),
        sa.Column("qs_param_key", sa.String(length=60), nullable=True),
        sa.Column("last_modified", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["advertiser_id"],
            ["advertisers.id"],
            name=op.f("fk_segments_advertiser_id_advertisers"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_segments_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segments")),
        sa.UniqueConstraint("member_id", "code_key", name=op.f("uq_segments_member_id_code_key")),
        sa.UniqueConstraint(
            "member_id", "qs_param_key", name=op.f("uq_segments_member_id_qs_param_key")
        ),
    )
    with op.batch_alter_table("segments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_segments_member_id_advertiser_id"),
            ["member_id", "advertiser_id"],
            unique=False,
        )

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("advertiser_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("last_modified", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["advertiser_id"], ["advertisers.id"], name=op.f("fk_users_advertiser_id_advertisers")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_users_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_member_id"), ["member_id"], unique=False)

    op.create_table(
        "api_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.BigInteger(), nullable=False),
        sa.Column("last_used_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_api_tokens")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_user_id"))

    op.drop_table("api_tokens")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_member_id"))

    op.drop_table("users")
    with op.batch_alter_table("segments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_segments_member_id_advertiser_id"))

    op.drop_table("segments")
    with op.batch_alter_table("usersync_pixels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_usersync_pixels_member_id"))

    op.drop_table("usersync_pixels")
    with op.batch_alter_table("advertisers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_advertisers_member_id"))

    op.drop_table("advertisers")
    op.drop_table("members")
    op.drop_table("catalog_version")
