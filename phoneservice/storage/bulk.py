"""Bulk statements shared by the repositories: one INSERT for many rows, and upserts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, cast

from sqlalchemy import Connection, Table, bindparam, func, select
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


def upsert_sums(
    connection: Connection,
    table: Table,
    key: tuple[str, ...],
    counts: Mapping[Any, int] | Mapping[Any, dict[str, int]],
) -> None:
    """``INSERT ... ON CONFLICT (key) DO UPDATE SET calls = calls + excluded.calls``.

    A count is the table's one value column (``calls``, ``callbacks``); a dict gives a
    value per column, each added alike. Rows go in key order, so concurrent writers lock
    shared cells in the same order.
    """
    if not counts:
        return
    value = next(c.name for c in table.c if c.name not in key)
    rows = [
        {**cast(NamedTuple, k)._asdict(), **(n if isinstance(n, dict) else {value: n})}
        for k, n in sorted(counts.items())
    ]
    dialect = connection.dialect.name
    stmt = from_arrays(table, rows) if dialect == "postgresql" else dialect_insert(table, dialect)
    added = {name: table.c[name] + stmt.excluded[name] for name in rows[0] if name not in key}
    upserting = stmt.on_conflict_do_update(index_elements=list(key), set_=added)
    if dialect == "postgresql":
        connection.execute(upserting)
    else:
        connection.execute(upserting, rows)
