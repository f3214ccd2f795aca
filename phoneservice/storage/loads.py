"""The staffing roll-up read back: load cells per unit and local hour of the week.

``call_load_cells`` holds, per local day, unit and local hour of the week, the calls in
phone hours that reached the unit's queue (:mod:`phoneservice.storage.rollup` keeps it
with the calls); ``call_agent_hours`` one row per agent who answered such a call in that
hour. :meth:`LoadRepository.cells` sums them over a range of days with one ``GROUP BY``
per table: ``hours`` is the number of (day, hour) rows, ``agent_hours`` the number of
(day, hour, agent) rows. The hour from 02:00 that occurs twice in autumn is one hour of
the day, as everywhere in the reports.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from phoneservice.domain.evaluation.model import LoadCell
from phoneservice.storage.rollup import AGENT_HOURS, LOAD_CELLS

_SUMS = ("calls", "answered", "talked", "talk_s", "waited_s", "abandoned")


class LoadRepository:
    """Reads the staffing roll-up; it never writes."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def cells(self, first: date, last: date, unit: str | None) -> list[LoadCell]:
        """Load cells per unit and hour of the week over local days ``first`` to ``last``.

        Only ``unit`` when one is given; ordered by unit and hour of the week.
        """
        c = LOAD_CELLS.c
        sums = [func.sum(c[name]) for name in _SUMS]
        query = select(c.unit, c.hour_of_week, func.count(), *sums)
        loads = self._session.execute(_grouped(query, LOAD_CELLS, first, last, unit))
        agents = self._agent_hours(first, last, unit)
        return [
            LoadCell(
                unit=str(unit),
                hour_of_week=int(hour),
                hours=int(hours),
                calls=int(calls),
                answered=int(answered),
                talked=int(talked),
                talk_s=int(talk_s),
                waited_s=int(waited_s),
                abandoned=int(abandoned),
                agent_hours=agents.get((str(unit), int(hour)), 0),
            )
            for unit, hour, hours, calls, answered, talked, talk_s, waited_s, abandoned in loads
        ]

    def _agent_hours(self, first: date, last: date, unit: str | None) -> dict[tuple[str, int], int]:
        """(day, hour, agent) rows per unit and hour of the week."""
        a = AGENT_HOURS.c
        query = select(a.unit, a.hour_of_week, func.count())
        rows = self._session.execute(_grouped(query, AGENT_HOURS, first, last, unit))
        return {(str(u), int(hour)): int(n) for u, hour, n in rows}


def _grouped(query: Any, table: Table, first: date, last: date, unit: str | None) -> Any:
    """``query`` over ``table``'s days in range (and unit), per unit and hour of the week."""
    c = table.c
    terms = [c.day >= first, c.day <= last, *([] if unit is None else [c.unit == unit])]
    keys = (c.unit, c.hour_of_week)
    return query.where(*terms).group_by(*keys).order_by(*keys)
