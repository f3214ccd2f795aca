"""The daily roll-up of calls (``call_day_cells``, ``call_hour_cells``, and the staffing
roll-up ``call_load_cells``, ``call_agent_hours``). Never commits.

:class:`RollupRepository` adds the calls just inserted to the roll-up, in the same
transaction, with ``INSERT ... ON CONFLICT (key) DO UPDATE SET calls = calls +
excluded.calls`` (and every other summed column alike; an agent hour is ``ON CONFLICT DO
NOTHING``). The cells are counted in Python first, so a key occurs once per statement.
:func:`backfill` fills an empty roll-up from every stored call: one ``INSERT ... SELECT
... GROUP BY`` per table on PostgreSQL (``AT TIME ZONE``), Python in batches on SQLite,
which has no time zone database. Migrations 0007 (:func:`backfill_calls`) and 0012
(:func:`backfill_loads`, and the callbacks' roll-up) and ``phoneservice db
rebuild-rollup`` (all of them) use it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Table, delete, inspect, select, text
from sqlalchemy.orm import Session

from phoneservice.domain.reports.rollup import (
    AgentKey,
    CallFacts,
    DayKey,
    HourKey,
    LoadKey,
    LoadSums,
    loads_of,
    rolled_up,
)
from phoneservice.storage.bulk import dialect_insert, from_arrays, upsert_sums
from phoneservice.storage.callback_rollup import CALLBACK_CELLS, backfill_callbacks
from phoneservice.storage.models import (
    AGENT_KEY,
    DAY_KEY,
    HOUR_KEY,
    LOAD_KEY,
    CallAgentHourRow,
    CallDayCellRow,
    CallHourCellRow,
    CallLoadCellRow,
    CallRow,
)

DAY_CELLS = cast(Table, inspect(CallDayCellRow).local_table)
HOUR_CELLS = cast(Table, inspect(CallHourCellRow).local_table)
LOAD_CELLS = cast(Table, inspect(CallLoadCellRow).local_table)
AGENT_HOURS = cast(Table, inspect(CallAgentHourRow).local_table)
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
# The staffing roll-up: calls in phone hours that reached a unit's queue.
_QUEUED_LOCAL = """
SELECT arrived_at AT TIME ZONE :tz AS local, unit, outcome, talk_s, wait_s, agent
FROM calls WHERE during_hours AND unit IS NOT NULL AND unit <> '' AND queue IS NOT NULL
"""
_LOCAL_HOUR = """CAST(local AS date), unit, CAST(date_part('isodow', local) AS integer) * 24
    - 24 + CAST(date_part('hour', local) AS integer)"""
_BACKFILL_LOADS = f"""
INSERT INTO call_load_cells
    (day, unit, hour_of_week, calls, answered, talked, talk_s, waited_s, abandoned, agents)
SELECT {_LOCAL_HOUR}, count(*),
    count(*) FILTER (WHERE outcome = 'answered'),
    count(*) FILTER (WHERE outcome = 'answered' AND talk_s IS NOT NULL),
    coalesce(sum(talk_s) FILTER (WHERE outcome = 'answered'), 0),
    coalesce(sum(wait_s), 0),
    count(*) FILTER (WHERE outcome IN ('abandoned', 'timeout')), 0
FROM ({_QUEUED_LOCAL}) AS queued
GROUP BY 1, 2, 3
"""  # noqa: S608 (constants only, no input)
_BACKFILL_AGENTS = f"""
INSERT INTO call_agent_hours (day, unit, hour_of_week, agent)
SELECT DISTINCT {_LOCAL_HOUR}, agent
FROM ({_QUEUED_LOCAL}) AS queued
WHERE outcome = 'answered' AND agent IS NOT NULL AND agent <> ''
"""  # noqa: S608 (constants only, no input)
_BACKFILL_AGENT_COUNTS = """
UPDATE call_load_cells AS l SET agents = a.n
FROM (SELECT day, unit, hour_of_week, count(*) AS n FROM call_agent_hours
      GROUP BY 1, 2, 3) AS a
WHERE l.day = a.day AND l.unit = a.unit AND l.hour_of_week = a.hour_of_week
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
        added = list(calls)
        days, hours = rolled_up(added, self._timezone)
        connection = self._session.connection()
        upsert(connection, days, hours)
        upsert_loads(connection, *loads_of(added, self._timezone))

    def rebuild(self) -> None:
        """Empty the roll-up (calls, staffing, callbacks) and fill it again."""
        connection = self._session.connection()
        for table in (DAY_CELLS, HOUR_CELLS, LOAD_CELLS, AGENT_HOURS, CALLBACK_CELLS):
            connection.execute(delete(table))
        backfill(connection, self._timezone)


def upsert(
    connection: Connection, days: Mapping[DayKey, int], hours: Mapping[HourKey, int]
) -> None:
    """Add counts to the cells of both tables (new cells are inserted)."""
    upsert_sums(connection, DAY_CELLS, DAY_KEY, days)
    upsert_sums(connection, HOUR_CELLS, HOUR_KEY, hours)


def upsert_loads(
    connection: Connection, loads: Mapping[LoadKey, LoadSums], agents: Iterable[AgentKey]
) -> None:
    """Mark the agent hours (those marked already stay), then add the sums to the load
    cells, each cell's ``agents`` by the agent hours that were new.

    The new agent hours come back from the insert (``RETURNING``), so two writers adding
    different agents to one hour both count theirs.
    """
    new = Counter(LoadKey(*row[:3]) for row in _insert_agents(connection, agents))
    sums = {key: {**value._asdict(), "agents": new[key]} for key, value in loads.items()}
    upsert_sums(connection, LOAD_CELLS, LOAD_KEY, sums)


def _insert_agents(connection: Connection, agents: Iterable[AgentKey]) -> list[Any]:
    """``INSERT ... ON CONFLICT DO NOTHING RETURNING`` the agent hours; the new ones."""
    rows = [key._asdict() for key in sorted(agents)]
    if not rows:
        return []
    dialect = connection.dialect.name
    key = list(AGENT_KEY)
    returned = [AGENT_HOURS.c[name] for name in key]
    if dialect == "postgresql":
        arrays = from_arrays(AGENT_HOURS, rows).on_conflict_do_nothing(index_elements=key)
        return list(connection.execute(arrays.returning(*returned)))
    inserting = dialect_insert(AGENT_HOURS, dialect).on_conflict_do_nothing(index_elements=key)
    return list(connection.execute(inserting.returning(*returned), rows))


def backfill(connection: Connection, timezone: ZoneInfo) -> None:
    """Fill the (empty) roll-up of calls, staffing and callbacks, in ``timezone``."""
    backfill_calls(connection, timezone)
    backfill_loads(connection, timezone)
    backfill_callbacks(connection, timezone)


def backfill_loads(connection: Connection, timezone: ZoneInfo) -> None:
    """Fill the (empty) staffing roll-up from every stored call."""
    if connection.dialect.name == "postgresql":
        for statement in (_BACKFILL_LOADS, _BACKFILL_AGENTS, _BACKFILL_AGENT_COUNTS):
            connection.execute(text(statement), {"tz": timezone.key})
        return
    loads: dict[LoadKey, LoadSums] = {}
    agents: set[AgentKey] = set()
    for batch in _call_batches(connection):
        more_loads, more_agents = loads_of(batch, timezone)
        for key, sums in more_loads.items():
            loads[key] = loads.get(key, LoadSums()).plus(sums)
        agents |= more_agents
    upsert_loads(connection, loads, agents)


def backfill_calls(connection: Connection, timezone: ZoneInfo) -> None:
    """Fill the (empty) day and hour cells from every stored call (migration 0007)."""
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
    columns = [
        *(c.id, c.arrived_at, c.unit, c.outcome, c.short_abandon, c.during_hours, c.wait_s),
        *(c.queue, c.talk_s, c.agent),
    ]
    last = 0
    while True:
        query = select(*columns).where(c.id > last).order_by(c.id).limit(_BATCH)
        batch = list(connection.execute(query))
        if not batch:
            return
        last = batch[-1].id
        yield cast(list[CallFacts], batch)
