"""The daily roll-up of calls (``call_day_cells``, ``call_hour_cells``). Never commits.

:class:`RollupRepository` adds the calls just inserted to the roll-up, in the same
transaction, with ``INSERT ... ON CONFLICT (key) DO UPDATE SET calls = calls +
excluded.calls`` (the cells are counted in Python first, so a key occurs once per
statement). :func:`backfill` fills an empty roll-up from every stored call: one
``INSERT ... SELECT ... GROUP BY`` per table on PostgreSQL (``AT TIME ZONE``), Python in
batches on SQLite, which has no time zone database. Migration 0007 and ``phoneservice
db rebuild-rollup`` use it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Table, delete, inspect, select, text
from sqlalchemy.orm import Session

from phoneservice.domain.reports.rollup import CallFacts, DayKey, HourKey, rolled_up
from phoneservice.storage.bulk import dialect_insert, from_arrays
from phoneservice.storage.models import (
    DAY_KEY,
    HOUR_KEY,
    CallDayCellRow,
    CallHourCellRow,
    CallRow,
)

DAY_CELLS = cast(Table, inspect(CallDayCellRow).local_table)
HOUR_CELLS = cast(Table, inspect(CallHourCellRow).local_table)
_CALLS = cast(Table, inspect(CallRow).local_table)
_BATCH = 20_000  # calls read per round of the Python backfill

# PostgreSQL: the local date (and hour of the week) from the zone's rules in the server.
_BACKFILL_DAYS = """
INSERT INTO call_day_cells (day, unit, outcome, short_abandon, during_hours, wait_s, calls)
SELECT CAST(arrived_at AT TIME ZONE :tz AS date), coalesce(unit, ''), outcome,
    short_abandon, during_hours,
    CASE WHEN outcome = 'answered' THEN coalesce(wait_s, -1) ELSE -1 END, count(*)
FROM calls GROUP BY 1, 2, 3, 4, 5, 6
"""
_BACKFILL_HOURS = """
INSERT INTO call_hour_cells (day, unit, hour_of_week, calls)
SELECT CAST(local AS date), unit, CAST(date_part('isodow', local) AS integer) * 24 - 24
    + CAST(date_part('hour', local) AS integer), count(*)
FROM (SELECT arrived_at AT TIME ZONE :tz AS local, coalesce(unit, '') AS unit
      FROM calls WHERE NOT during_hours) AS outside
GROUP BY 1, 2, 3
"""


class RollupRepository:
    """Keeps the roll-up in step with the calls inserted in the session's transaction.

    ``timezone`` is the registry's: the cells count calls per local day and hour.
    """

    def __init__(self, session: Session, timezone: ZoneInfo) -> None:
        self._session = session
        self._timezone = timezone

    def add(self, calls: Iterable[CallFacts]) -> None:
        """Count ``calls`` (inserted just now, each once) into their cells."""
        days, hours = rolled_up(calls, self._timezone)
        upsert(self._session.connection(), days, hours)

    def rebuild(self) -> None:
        """Empty the roll-up and fill it again from every stored call."""
        connection = self._session.connection()
        connection.execute(delete(DAY_CELLS))
        connection.execute(delete(HOUR_CELLS))
        backfill(connection, self._timezone)


def upsert(
    connection: Connection, days: Mapping[DayKey, int], hours: Mapping[HourKey, int]
) -> None:
    """Add counts to the cells of both tables (new cells are inserted)."""
    _upsert(connection, DAY_CELLS, DAY_KEY, days)
    _upsert(connection, HOUR_CELLS, HOUR_KEY, hours)


def backfill(connection: Connection, timezone: ZoneInfo) -> None:
    """Fill the (empty) roll-up from every stored call, local dates in ``timezone``."""
    if connection.dialect.name == "postgresql":
        for statement in (_BACKFILL_DAYS, _BACKFILL_HOURS):
            connection.execute(text(statement), {"tz": timezone.key})
        return
    days, hours = Counter[DayKey](), Counter[HourKey]()
    for batch in _call_batches(connection):
        more_days, more_hours = rolled_up(batch, timezone)
        days.update(more_days)
        hours.update(more_hours)
    upsert(connection, days, hours)


def _call_batches(connection: Connection) -> Iterable[list[CallFacts]]:
    """Every call's roll-up columns, in batches by id."""
    c = _CALLS.c
    columns = [c.id, c.arrived_at, c.unit, c.outcome, c.short_abandon, c.during_hours, c.wait_s]
    last = 0
    while True:
        query = select(*columns).where(c.id > last).order_by(c.id).limit(_BATCH)
        batch = list(connection.execute(query))
        if not batch:
            return
        last = batch[-1].id
        yield cast(list[CallFacts], batch)


def _upsert(
    connection: Connection, table: Table, key: tuple[str, ...], counts: Mapping[Any, int]
) -> None:
    """``INSERT ... ON CONFLICT (key) DO UPDATE SET calls = calls + excluded.calls``.

    Rows go in key order, so concurrent writers lock shared cells in the same order.
    """
    if not counts:
        return
    rows = [{**cast(NamedTuple, k)._asdict(), "calls": n} for k, n in sorted(counts.items())]
    dialect = connection.dialect.name
    stmt = from_arrays(table, rows) if dialect == "postgresql" else dialect_insert(table, dialect)
    added = {"calls": table.c.calls + stmt.excluded.calls}
    upserting = stmt.on_conflict_do_update(index_elements=list(key), set_=added)
    if dialect == "postgresql":
        connection.execute(upserting)
    else:
        connection.execute(upserting, rows)
