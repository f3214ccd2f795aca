"""The report's call passes computed from ``calls`` themselves: the reference the daily
roll-up is tested against (and the benchmark's comparison), as the report read them
before the roll-up existed.

Local time is computed in SQL without time zone support: the epoch second plus the UTC
offset in force, from a short ``CASE`` over the range's DST changes, which Python
computes from ``zoneinfo`` (:func:`offset_changes`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Integer, case, literal, not_, null

from phoneservice.domain.calls.records import ANSWERED
from phoneservice.domain.reports.cells import CallCell, HourCell
from phoneservice.domain.reports.periods import Period
from phoneservice.domain.reports.weeks import EPOCH_HOUR_OF_WEEK, HOURS_PER_WEEK
from phoneservice.storage.callbacks import CALLS
from phoneservice.storage.reports import ReportRepository

Offsets = Sequence[tuple[int, int]]


class DirectReportRepository(ReportRepository):
    """:class:`ReportRepository` with the call passes also computed from ``calls``."""

    def call_cells_direct(self, periods: Sequence[Period], unit: str | None) -> list[CallCell]:
        """:meth:`call_cells` computed from ``calls`` (the reference for the roll-up).

        The keys are columns and a ``CASE`` over two of them, whose number of groups
        PostgreSQL estimates well, so it aggregates in parallel; an expression over
        ``arrived_at`` (other than the period of a split report) would make it expect one
        group per call and aggregate in one process.
        """
        c = CALLS.c
        keys = [
            c.unit,
            c.outcome,
            c.short_abandon,
            c.during_hours,
            case((c.outcome == ANSWERED, c.wait_s), else_=null()).label("wait_s"),
        ]
        found = self._counted(keys, c.arrived_at, periods, _only(c.unit, unit))
        return [_call_cell(row) for row in found]

    def closed_hours_direct(
        self, periods: Sequence[Period], unit: str | None, offsets: Offsets
    ) -> list[HourCell]:
        """:meth:`closed_hours` computed from ``calls`` (the reference for the roll-up)."""
        c = CALLS.c
        epoch = self._epoch(c.arrived_at)
        hour = (
            (epoch + _offset_case(c.arrived_at, offsets)) // 3600 + EPOCH_HOUR_OF_WEEK
        ) % HOURS_PER_WEEK
        keys = [c.unit, hour.label("hour")]
        terms = [not_(c.during_hours), *_only(c.unit, unit)]  # ix_calls_outside_hours
        found = self._counted(keys, c.arrived_at, periods, terms)
        return [HourCell(p, u, int(h), n) for p, u, h, n in found]


def offset_changes(start: datetime, end: datetime, tz: ZoneInfo) -> list[tuple[int, int]]:
    """``(epoch second, UTC offset in seconds)`` at ``start`` and at each change to ``end``."""
    first = math.floor(start.timestamp())
    changes = [(first, _offset_at(first, tz))]
    day = first
    while day < end.timestamp():
        following = min(day + 86400, math.ceil(end.timestamp()))
        if _offset_at(following, tz) != changes[-1][1]:
            at = _first_with_offset(day, following, _offset_at(following, tz), tz)
            changes.append((at, _offset_at(at, tz)))
        day = following
    return changes


def _offset_at(epoch: int, tz: ZoneInfo) -> int:
    """The UTC offset in seconds in force at an epoch second."""
    offset = datetime.fromtimestamp(epoch, UTC).astimezone(tz).utcoffset() or timedelta(0)
    return int(offset.total_seconds())


def _first_with_offset(low: int, high: int, offset: int, tz: ZoneInfo) -> int:
    """The first second in ``(low, high]`` with ``offset``, by bisection (one change inside)."""
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if _offset_at(middle, tz) == offset else (middle, high)
    return high


def _offset_case(column: ColumnElement[datetime], offsets: Offsets) -> Any:
    """The UTC offset in seconds in force at the instant in ``column``, from the changes."""
    if len(offsets) == 1:
        return literal(offsets[0][1], Integer)
    whens = [
        (column < datetime.fromtimestamp(since, UTC), offset)
        for (_, offset), (since, _) in pairwise(offsets)
    ]
    return case(*whens, else_=offsets[-1][1])


def _call_cell(row: Any) -> CallCell:
    """A row of the calls pass as a cell."""
    period, unit, outcome, short, during, wait, count = row
    return CallCell(
        period=int(period),
        unit=unit,
        outcome=outcome,
        short_abandon=bool(short),
        during_hours=bool(during),
        wait_s=None if wait is None else int(wait),
        count=int(count),
    )


def _only(column: ColumnElement[Any], unit: str | None) -> list[Any]:
    """Only ``unit``, when one is asked for."""
    return [] if unit is None else [column == unit]
