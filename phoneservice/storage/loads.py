"""The staffing roll-up read back: load cells per unit and local hour of the week.

``call_load_cells`` holds, per local day, unit and local hour of the week, the calls in
phone hours that reached the unit's queue, and how many agents answered one of them in
that hour (:mod:`phoneservice.storage.rollup` keeps it with the calls; the agents
themselves are the rows of ``call_agent_hours``, which make the count exact when calls
of one hour arrive in several batches). :meth:`LoadRepository.cells` sums it over a
range of days with one ``GROUP BY``: ``hours`` is the number of (day, hour) rows,
``agent_hours`` the sum of their agents, the (day, hour, agent) rows. The hour from
02:00 that occurs twice in autumn is one hour of the day, as everywhere in the reports.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from phoneservice.domain.evaluation.model import LoadCell
from phoneservice.storage.rollup import LOAD_CELLS

_SUMS = ("calls", "answered", "talked", "talk_s", "waited_s", "abandoned", "agents")


class LoadRepository:
    """Reads the staffing roll-up; it never writes."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def cells(self, first: date, last: date, unit: str | None) -> list[LoadCell]:
        """Load cells per unit and hour of the week over local days ``first`` to ``last``.

        Only ``unit`` when one is given; ordered by unit and hour of the week.
        """
        c = LOAD_CELLS.c
        terms = [c.day >= first, c.day <= last, *([] if unit is None else [c.unit == unit])]
        keys = (c.unit, c.hour_of_week)
        sums = [func.sum(c[name]) for name in _SUMS]
        query = select(*keys, func.count(), *sums).where(*terms).group_by(*keys).order_by(*keys)
        return [_cell(row) for row in self._session.execute(query)]


def _cell(row: Any) -> LoadCell:
    """A row ``(unit, hour, hours, *sums)`` as a load cell."""
    unit, hour, hours, calls, answered, talked, talk_s, waited_s, abandoned, agents = row
    return LoadCell(
        unit=str(unit),
        hour_of_week=int(hour),
        hours=int(hours),
        calls=int(calls),
        answered=int(answered),
        talked=int(talked),
        talk_s=int(talk_s),
        waited_s=int(waited_s),
        abandoned=int(abandoned),
        agent_hours=int(agents),
    )
