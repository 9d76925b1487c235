"""ids never reused on SQLite

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 21:40:00

SQLite hands a deleted newest row's id to the next insert unless the table is AUTOINCREMENT, and
profiles and load counters outlive a deleted segment under its id. SQLite cannot add the keyword
to a table, so each table is copied into a new one that has it (`migrate.upgrade` turns foreign
key enforcement off around this and checks the keys afterwards). PostgreSQL is unchanged: its
sequences never go back.
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLES = (
    "members",
    "advertisers",
    "segments",
    "usersync_pixels",
    "users",
    "jobs",
    "publishers",
    "sites",
    "placements",
    "creatives",
    "line_items",
)


def _recreate(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ):
            pass


def upgrade() -> None:
    _recreate(True)


def downgrade() -> None:
    _recreate(False)
