"""Engines and sessions: SQLite (WAL) by default, PostgreSQL through psycopg 3 in production."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

DATABASE_FILE = "phoneservice.sqlite3"
BUSY_TIMEOUT_MS = 5000  # the web and the worker share one SQLite file
# Each connection of a file database gets these: WAL lets readers and the writer overlap,
# foreign keys make ON DELETE CASCADE work, the busy timeout waits out a short write lock.
_SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
)
# Bare PostgreSQL URLs (as in DATABASE_URL conventions) go to psycopg 3, not psycopg2.
_POSTGRES_DRIVERS = {"postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg"}


def default_database_url(instance_dir: str | Path) -> str:
    """The SQLite file in the instance folder, as a URL."""
    return f"sqlite:///{Path(instance_dir).absolute() / DATABASE_FILE}"


def database_url(url: str | URL) -> URL:
    """The URL with the driver this project uses for its backend."""
    parsed = make_url(url)
    driver = _POSTGRES_DRIVERS.get(parsed.drivername)
    return parsed.set(drivername=driver) if driver else parsed


def create_engine_for(url: str | URL) -> Engine:
    """An engine for ``url``; SQLite connections are set up for WAL and foreign keys.

    ``hide_parameters``: a failed statement's error names its SQL but not its values, so a
    logged traceback never carries a citizen's number, name or note (SPEC §11).
    """
    engine = create_engine(database_url(url), hide_parameters=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _on_sqlite_connect)
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to ``engine``; the services open one per unit of work and commit it."""
    return sessionmaker(engine, class_=Session, expire_on_commit=False)


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    """Apply the pragmas to a new SQLite connection."""
    cursor = dbapi_connection.cursor()
    try:
        for pragma in _SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()
