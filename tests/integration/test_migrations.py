"""The catalog's Alembic migrations on real SQLite and PostgreSQL databases, and its version number.

`tables.py` is the truth; the migrations must build exactly it. The autogenerate comparison below
fails as soon as someone changes a table without writing the migration that goes with it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, select, text

from segpixel.catalog.db import Catalog
from segpixel.catalog.members import MemberRepo
from segpixel.catalog.migrate import downgrade, upgrade
from segpixel.catalog.segments import SegmentRepo
from segpixel.catalog.tables import Base, User
from segpixel.catalog.users import TokenStore, UserRepo
from segpixel.domain.access import Principal

TABLES = set(Base.metadata.tables)
OPERATOR = Principal(user_id=0, username="test", role="admin")


@pytest.fixture(params=["sqlite", "postgres"])
def fresh(
    request: pytest.FixtureRequest, tmp_path: Path, new_pg_database: Callable[[], str]
) -> Iterator[Catalog]:
    """An empty database of each kind (no tables at all)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'catalog.db'}"
    else:
        url = new_pg_database().replace("postgresql://", "postgresql+psycopg://")
    catalog = Catalog(url)
    assert inspect(catalog.engine).get_table_names() == []
    yield catalog
    catalog.dispose()


def table_names(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def head_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def differences(engine: Engine) -> list:
    """What `alembic revision --autogenerate` would write: tables.py against the database."""
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        return compare_metadata(context, Base.metadata)


def test_tables_py_declares_the_catalog() -> None:
    assert {
        "catalog_version",
        "members",
        "advertisers",
        "segments",
        "usersync_pixels",
        "users",
        "api_tokens",
    } <= TABLES


def test_upgrade_downgrade_upgrade(fresh: Catalog) -> None:
    engine = fresh.engine

    upgrade(engine)
    assert table_names(engine) == TABLES | {"alembic_version"}
    assert head_revision(engine) is not None
    inspector = inspect(engine)
    for name, table in Base.metadata.tables.items():
        columns = {c["name"] for c in inspector.get_columns(name)}
        assert columns == set(table.columns.keys()), f"columns of {name}"
    assert fresh.version() == 1, "the catalog version row exists from the start"

    upgrade(engine)  # at head already: nothing to do, nothing breaks
    assert fresh.version() == 1

    downgrade(engine)
    assert table_names(engine) <= {"alembic_version"}, "downgrade to base removes every table"
    assert head_revision(engine) is None

    upgrade(engine)
    assert table_names(engine) == TABLES | {"alembic_version"}
    assert fresh.version() == 1
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, version FROM catalog_version")).all()
    assert [tuple(r) for r in rows] == [(1, 1)], "exactly one version row"


def test_migrations_match_tables_py(fresh: Catalog) -> None:
    upgrade(fresh.engine)
    diff = differences(fresh.engine)
    assert diff == [], (
        "tables.py and the migrated database differ; write a migration "
        f"(segpixel.catalog.migrate.autogenerate) for: {diff}"
    )


def test_the_comparison_would_notice_a_missing_migration(fresh: Catalog) -> None:
    """Guard the guard: drop a table behind Alembic's back and the comparison must say so."""
    upgrade(fresh.engine)
    with fresh.engine.begin() as conn:
        conn.execute(text("DROP TABLE api_tokens"))
    diff = differences(fresh.engine)
    assert any(d[0] == "add_table" and d[1].name == "api_tokens" for d in diff), diff


# -- the catalog version: only `Versioned` tables move it ---------------------------------------


def test_catalog_version_moves_on_segment_writes_only(catalog: Catalog) -> None:
    start = catalog.version()

    with catalog.session() as session:
        member = MemberRepo(session, OPERATOR).create({"name": "Acme"})
    after_member = catalog.version()
    assert after_member > start, "a new member must reach the pixel servers"

    with catalog.session() as session:
        segment = SegmentRepo(session, OPERATOR).create(member.id, None, {"short_name": "Cars"})
    after_create = catalog.version()
    assert after_create > after_member, "a new segment must move the catalog version"

    with catalog.session() as session:
        repo = SegmentRepo(session, OPERATOR)
        repo.update(repo.get(segment.id), {"expire_minutes": 60}, append=False)
    after_update = catalog.version()
    assert after_update > after_create, "a changed segment must move the catalog version"

    with catalog.session() as session:
        repo = SegmentRepo(session, OPERATOR)
        repo.delete(repo.get(segment.id))
    after_delete = catalog.version()
    assert after_delete > after_update, "a deleted segment must move the catalog version"

    tokens = TokenStore(idle_seconds=3600, max_seconds=86_400)
    with catalog.session() as session:
        admin = session.scalars(select(User).where(User.username == "admin")).one()
        token = tokens.issue(session, admin, now=1_000_000.0)
    assert catalog.version() == after_delete, "an API token write must not move the version"

    with catalog.session() as session:
        tokens.resolve(session, token, now=1_000_120.0)  # refreshes last_used_at
        tokens.revoke(session, token)
    assert catalog.version() == after_delete, "using and revoking a token must not either"

    with catalog.session() as session:
        UserRepo(session, OPERATOR).create(
            {
                "username": "ops",
                "password": "password-123",
                "role": "member",
                "member_id": member.id,
            }
        )
    assert catalog.version() == after_delete, "users are not part of what pixel servers read"

    with catalog.session() as session:
        SegmentRepo(session, OPERATOR).get_many([])
    assert catalog.version() == after_delete, "a read-only unit of work moves nothing"


def test_a_rolled_back_segment_write_does_not_move_the_version(catalog: Catalog) -> None:
    with catalog.session() as session:
        member = MemberRepo(session, OPERATOR).create({"name": "Acme"})
    start = catalog.version()

    class Abort(Exception):
        pass

    with pytest.raises(Abort), catalog.session() as session:
        SegmentRepo(session, OPERATOR).create(member.id, None, {"short_name": "Gone"})
        raise Abort
    assert catalog.version() == start


# -- ids are never handed out twice -------------------------------------------------------------


def _new_segment(catalog: Catalog, member_id: int, name: str) -> int:
    with catalog.session() as session:
        return SegmentRepo(session, OPERATOR).create(member_id, None, {"short_name": name}).id


def _delete_segment(catalog: Catalog, segment_id: int) -> None:
    with catalog.session() as session:
        repo = SegmentRepo(session, OPERATOR)
        repo.delete(repo.get(segment_id))


def test_a_deleted_newest_segment_keeps_its_id(fresh: Catalog) -> None:
    """Profiles and load counters outlive a deleted segment under its id: a new segment must
    never inherit them (SQLite reuses max(id) + 1 unless the table is AUTOINCREMENT)."""
    upgrade(fresh.engine)
    with fresh.session() as session:
        member_id = MemberRepo(session, OPERATOR).create({"name": "Acme"}).id
    first = _new_segment(fresh, member_id, "Cars")
    newest = _new_segment(fresh, member_id, "Boats")
    _delete_segment(fresh, newest)
    assert _new_segment(fresh, member_id, "Planes") > newest > first


def test_upgrading_an_older_sqlite_catalog_keeps_its_rows_and_stops_reuse(tmp_path: Path) -> None:
    catalog = Catalog(f"sqlite:///{tmp_path / 'catalog.db'}")
    try:
        upgrade(catalog.engine, "0003")
        with catalog.session() as session:
            member_id = MemberRepo(session, OPERATOR).create({"name": "Acme"}).id
        kept = _new_segment(catalog, member_id, "Cars")
        newest = _new_segment(catalog, member_id, "Boats")
        _delete_segment(catalog, newest)

        upgrade(catalog.engine)

        with catalog.engine.connect() as conn:
            ddl = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = 'segments'"))
            assert "AUTOINCREMENT" in ddl.scalar_one()
            fk_on = conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one()
        assert fk_on == 1, "foreign keys are enforced again after the migration"
        with catalog.session() as session:
            segment = SegmentRepo(session, OPERATOR).get(kept)
            assert (segment.short_name, segment.member_id) == ("Cars", member_id)
        # the deleted id was handed out before the upgrade could remember it; from now on,
        # the highest id ever given stays given
        again = _new_segment(catalog, member_id, "Planes")
        _delete_segment(catalog, again)
        assert _new_segment(catalog, member_id, "Trains") > again
        assert differences(catalog.engine) == []
    finally:
        catalog.dispose()
