"""the reference's Batch Segment Service

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 10:50:00

Jobs get the reference's `job_id` (`public_id`: a Batch Segment Service job is read by it and its
upload_url carries it), and members a batch file format of their own (`batch_segment_configs`:
separators 1–4 and the order of the segment fields).
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("public_id", sa.String(length=40), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_jobs_public_id"), ["public_id"])
    op.create_table(
        "batch_segment_configs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("separator_1", sa.String(length=4), nullable=False),
        sa.Column("separator_2", sa.String(length=4), nullable=False),
        sa.Column("separator_3", sa.String(length=4), nullable=False),
        sa.Column("separator_4", sa.String(length=4), nullable=True),
        sa.Column("segment_fields", sa.JSON(), nullable=False),
        sa.Column("created_on", sa.DateTime(), nullable=False),
        sa.Column("last_modified", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_batch_segment_configs_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch_segment_configs")),
        sa.UniqueConstraint("member_id", name=op.f("uq_batch_segment_configs_member_id")),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("batch_segment_configs")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_jobs_public_id"), type_="unique")
        batch_op.drop_column("public_id")
