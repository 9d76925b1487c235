"""job leases

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 03:30:00

Jobs are claimed by job runners (segpixel.jobs) with a lease: who holds the job and until when
(epoch milliseconds), how many times it was claimed, which upload folder holds its file and which
profile store it writes to or reads (runners claim only jobs they can run), and when it started
and ended. Claims look for the oldest job by status.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_owner", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("lease_until", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("spool", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("store", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("started_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("finished_at", sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_jobs_status_id"), ["status", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jobs_status_id"))
        for name in ("finished_at", "started_at", "store", "spool", "attempts"):
            batch_op.drop_column(name)
        batch_op.drop_column("lease_until")
        batch_op.drop_column("lease_owner")
