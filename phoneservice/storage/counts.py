"""Counts for ``/metrics``: calls by unit and outcome, open callbacks by unit. Never commits.

No row leaves this module, only counts per unit and outcome: no personal data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from phoneservice.domain.callbacks.rules import OPEN
from phoneservice.storage.callbacks import CALLBACKS, CALLS
from phoneservice.storage.types import to_utc


@dataclass(frozen=True, slots=True)
class CallCount:
    """How many calls a unit (None: no unit) had with one outcome, and how many of them
    the PBX and the registry disagreed on (``hours_disagree``)."""

    unit: str | None
    outcome: str
    calls: int
    disagreements: int


@dataclass(frozen=True, slots=True)
class CallbackCount:
    """A unit's open callback tasks, and how many of them are past their deadline."""

    unit: str
    open: int
    overdue: int


class CountRepository:
    """Aggregates over ``calls`` and ``callbacks``."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def calls(self) -> list[CallCount]:
        """Every call ever stored, counted by ``(unit, outcome)`` in one pass over the table."""
        disagree = func.sum(case((CALLS.c.hours_disagree, 1), else_=0))
        query = (
            select(CALLS.c.unit, CALLS.c.outcome, func.count(), disagree)
            .group_by(CALLS.c.unit, CALLS.c.outcome)
            .order_by(CALLS.c.unit, CALLS.c.outcome)
        )
        rows = self._session.execute(query)
        return [CallCount(unit, outcome, int(n), int(d or 0)) for unit, outcome, n, d in rows]

    def open_callbacks(self, now: datetime) -> list[CallbackCount]:
        """Open tasks by unit, and those whose ``due_at`` is before ``now``."""
        overdue = func.sum(case((CALLBACKS.c.due_at < to_utc(now), 1), else_=0))
        query = (
            select(CALLBACKS.c.unit, func.count(), overdue)
            .where(CALLBACKS.c.state == OPEN)
            .group_by(CALLBACKS.c.unit)
            .order_by(CALLBACKS.c.unit)
        )
        rows = self._session.execute(query)
        return [CallbackCount(unit, int(n), int(d or 0)) for unit, n, d in rows]
