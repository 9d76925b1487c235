"""Apply the catalog's Alembic migrations (on `serve`, `init`, and in tests)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def _config(engine: Engine, connection) -> Config:  # type: ignore[no-untyped-def]
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    _run(engine, lambda config: command.upgrade(config, revision))


def downgrade(engine: Engine, revision: str = "base") -> None:
    _run(engine, lambda config: command.downgrade(config, revision))


def _run(engine: Engine, step: Callable[[Config], None]) -> None:
    """Run `step` in one transaction. On SQLite, migrations that copy a table (batch mode) drop
    the old one, which foreign keys would refuse or cascade: enforcement is off meanwhile (the
    pragma only takes effect outside a transaction) and every key is checked before the commit."""
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()  # (SQLAlchemy's autobegun unit; the driver sent no BEGIN)
        try:
            with connection.begin():
                step(_config(engine, connection))
                if sqlite:
                    _check_foreign_keys(connection)
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


def _check_foreign_keys(connection: Connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"catalog migration left broken foreign keys: {broken[:5]}")


def autogenerate(engine: Engine, message: str) -> None:
    """Developer helper: write a new revision from the difference between tables.py and the DB."""
    with engine.begin() as connection:
        command.revision(_config(engine, connection), message=message, autogenerate=True)
