"""Engine, sessions and the catalog version number that every write moves."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from segpixel.catalog.tables import CatalogVersion, Versioned

NOTIFY_CHANNEL = "segpixel_catalog"  # catalog.notify LISTENs on it (PostgreSQL only)
PG_CONNECT_TIMEOUT = 5  # seconds: an unreachable catalog is an error, never a hang


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    connect_args = {"connect_timeout": PG_CONNECT_TIMEOUT} if "psycopg" in parsed.drivername else {}
    return create_engine(
        url, pool_pre_ping=True, pool_size=5, max_overflow=10, connect_args=connect_args
    )


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


class Catalog:
    """The catalog database: sessions, and the version number the pixel servers watch."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends normally, rolled back otherwise."""
        with self._sessions() as session, session.begin():
            yield session

    def version(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(
                select(CatalogVersion.version).where(CatalogVersion.id == 1)
            ).scalar_one()

    def dispose(self) -> None:
        self.engine.dispose()


@event.listens_for(Session, "before_flush")
def _note_catalog_change(session: Session, _ctx, _instances) -> None:  # type: ignore[no-untyped-def]
    if any(isinstance(o, Versioned) for o in (*session.new, *session.dirty, *session.deleted)):
        session.info["catalog_changed"] = True


@event.listens_for(Session, "before_commit")
def _bump_catalog_version(session: Session) -> None:
    session.flush()  # so that before_flush has seen every pending change
    if session.info.pop("catalog_changed", False):
        session.execute(
            update(CatalogVersion)
            .where(CatalogVersion.id == 1)
            .values(version=CatalogVersion.version + 1)
        )
        if session.get_bind().dialect.name == "postgresql":
            # Delivered by PostgreSQL when (and only if) this transaction commits.
            session.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))
