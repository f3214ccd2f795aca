"""Bulk statements shared by the repositories: one INSERT for many rows, and upserts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite


def from_arrays(table: Table, rows: Sequence[dict[str, Any]]) -> postgresql.Insert:
    """PostgreSQL: ``INSERT ... SELECT FROM unnest(<one array per column>)``.

    One parameter per column for any number of rows: psycopg parses a multi-row VALUES
    statement slowly, and this is several times faster for a file of calls.
    """
    names = tuple(rows[0])
    arrays = [
        bindparam(name, [row[name] for row in rows], type_=postgresql.ARRAY(table.c[name].type))
        for name in names
    ]
    source = func.unnest(*arrays).table_valued(*names).render_derived()
    columns = select(*(source.c[name] for name in names))
    return postgresql.insert(table).from_select(names, columns)


def dialect_insert(table: Table, dialect: str) -> postgresql.Insert | sqlite.Insert:
    """The backend's INSERT, which has ``ON CONFLICT``."""
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"no upsert for the {dialect} backend")
