"""Schema migrations: Alembic, configured in code, with its scripts inside this package.

The application never creates tables itself; ``upgrade`` is the one way a schema comes to
be, on a new database and on an existing one alike (Alembic skips what is applied).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from phoneservice.storage.engine import create_engine_for

SCRIPT_LOCATION = Path(__file__).resolve().parent / "migrations"
# Tables that belong to libraries, not to our migrations: APScheduler's job store
# creates and upgrades its own table in the same database.
FOREIGN_TABLES = frozenset({"apscheduler_jobs"})
# Web and worker may start together: on PostgreSQL one upgrades while the other waits.
_ADVISORY_LOCK_ID = 0x70686F6E  # "phon"


def alembic_config(connection: Connection | None = None, timezone: str | None = None) -> Config:
    """An Alembic configuration without alembic.ini; ``env.py`` runs on ``connection``.

    ``timezone`` (an IANA name) is the registry's, for migrations that compute local
    dates (0007's roll-up backfill); without it they count UTC days.
    """
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.attributes["connection"] = connection
    config.attributes["timezone"] = timezone
    return config


def upgrade(url: str, revision: str = "head", timezone: str | None = None) -> None:
    """Bring the database at ``url`` to ``revision`` (the latest by default)."""
    engine = create_engine_for(url)
    try:
        with engine.begin() as connection:
            _lock(connection)
            command.upgrade(alembic_config(connection, timezone), revision)
    finally:
        engine.dispose()


def revisions(url: str) -> tuple[str | None, str | None]:
    """The database's schema revision (None when it has none) and the latest one."""
    latest = ScriptDirectory.from_config(alembic_config()).get_current_head()
    engine = create_engine_for(url)
    try:
        with engine.connect() as connection:
            found = MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
    return found, latest


def _lock(connection: Connection) -> None:
    """Serialise concurrent upgrades where the backend can (until the transaction ends)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _ADVISORY_LOCK_ID})


def include_object(
    obj: object, name: str | None, kind: str, reflected: bool, other: object
) -> bool:
    """Leave library-owned tables out of autogenerate and schema comparisons."""
    return not (kind == "table" and name in FOREIGN_TABLES)
