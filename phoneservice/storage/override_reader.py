"""The overrides in force, read with the backend's own driver (``sqlite3``, ``psycopg``).

The registry commands (``status``, ``hours``) must honour the manual overrides stored in
the database, as the board does, but should start in a fraction of a second: importing
SQLAlchemy and SQLModel alone costs more than the whole command. This reader asks the
same question as :meth:`OverrideRepository.active` in one plain ``SELECT``; a contract
test holds the two to the same answer on both backends. It never writes, and never
creates a database.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, tzinfo
from typing import Any
from urllib.parse import unquote

from phoneservice.domain.hours.override import Override

# OverrideRepository.active as plain SQL, in each driver's parameter style (columns of
# storage/models.py, migration 0005).
_SQLITE_QUERY = (
    'SELECT unit, start, "end", open, reason, author, ended_at FROM overrides'
    ' WHERE "end" > ? AND (ended_at IS NULL OR ended_at > ?) ORDER BY start, id'
)
_POSTGRES_QUERY = (
    'SELECT unit, start, "end", open, reason, author, ended_at FROM overrides'
    ' WHERE "end" > %(since)s AND (ended_at IS NULL OR ended_at > %(since)s)'
    " ORDER BY start, id"
)
_SQLITE_INSTANT = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores naive UTC on SQLite


def in_force(url: str, since: datetime, tz: tzinfo) -> tuple[Override, ...]:
    """The overrides not over at ``since`` (in force or starting later), times in ``tz``."""
    rows = _sqlite_rows(url, since) if url.startswith("sqlite") else _postgres_rows(url, since)
    found = (_override(row, tz) for row in rows)
    return tuple(o for o in found if o is not None)


def _sqlite_rows(url: str, since: datetime) -> list[tuple[Any, ...]]:
    """The rows from a SQLite file, opened read-only (a missing file is an error)."""
    import sqlite3

    path = unquote(url.split(":///", 1)[1].split("?", 1)[0])
    value = since.astimezone(UTC).strftime(_SQLITE_INSTANT)
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        rows = connection.execute(_SQLITE_QUERY, (value, value)).fetchall()
    connection.close()
    return [_sqlite_row(*row) for row in rows]


def _sqlite_row(*row: Any) -> tuple[Any, ...]:
    """A SQLite row with its instants (stored as naive UTC text) made aware."""
    unit, start, end, is_open, reason, author, ended_at = row
    instants = (_sqlite_instant(value) for value in (start, end, ended_at))
    start, end, ended_at = instants
    return unit, start, end, is_open, reason, author, ended_at


def _postgres_rows(url: str, since: datetime) -> list[tuple[Any, ...]]:
    """The rows from PostgreSQL, through psycopg (``timestamptz`` comes back aware)."""
    import psycopg

    with psycopg.connect(_libpq_url(url), autocommit=True) as connection:
        return list(connection.execute(_POSTGRES_QUERY, {"since": since}).fetchall())


def _libpq_url(url: str) -> str:
    """A SQLAlchemy URL (``postgresql+psycopg://``) as libpq takes it (``postgresql://``)."""
    scheme, rest = url.split("://", 1)
    return f"{scheme.split('+', 1)[0]}://{rest}"


def _sqlite_instant(text: str | None) -> datetime | None:
    """A stored naive UTC instant, aware."""
    return None if text is None else datetime.fromisoformat(text).replace(tzinfo=UTC)


def _override(row: Iterable[Any], tz: tzinfo) -> Override | None:
    """The domain override of a row; None when it was ended before it began."""
    unit, start, end, is_open, reason, author, ended_at = row
    local = (moment and moment.astimezone(tz) for moment in (start, end, ended_at))
    start, end, ended_at = local
    return Override.as_stored(unit, start, end, bool(is_open), reason, author, ended_at)
