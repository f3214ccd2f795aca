"""The report's call passes computed from ``calls`` themselves, and its callbacks pass
from every task joined to its first attempt: the reference the roll-ups are tested
against (and the benchmark's comparison), as the report read them before the roll-ups
existed. The callbacks' reference gives the exact times to acknowledge (a histogram per
median key), from which a test computes the exact median and the bucketed one's bound.

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

from sqlalchemy import (
    ColumnElement,
    Integer,
    Subquery,
    and_,
    case,
    func,
    literal,
    not_,
    null,
    select,
)

from phoneservice.domain.callbacks.rules import CANCELLED, DONE, EXPIRED, OPEN, UNREACHABLE
from phoneservice.domain.calls.records import ANSWERED
from phoneservice.domain.reports.cells import (
    ALL_UNITS,
    CALLBACK_STATUSES,
    CallbackCell,
    CallCell,
    HourCell,
)
from phoneservice.domain.reports.periods import Period
from phoneservice.domain.reports.weeks import EPOCH_HOUR_OF_WEEK, HOURS_PER_WEEK
from phoneservice.storage.callbacks import ATTEMPTS, CALLBACKS, CALLS
from phoneservice.storage.reports import ReportRepository, _in_range, _period_case
from phoneservice.storage.types import to_utc

Offsets = Sequence[tuple[int, int]]
Histograms = dict[tuple[int | None, str], list[tuple[int, int]]]


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

    def callbacks_direct(
        self, periods: Sequence[Period], unit: str | None, now: datetime
    ) -> tuple[list[CallbackCell], Histograms]:
        """:meth:`callbacks` from every task and its first attempt: the cells, and the
        exact times to acknowledge per median key as ``(seconds, count)``.
        """
        tasks = self._tasks(periods, unit)
        ack = _acknowledged_at(tasks)
        seconds = self._epoch(ack) - self._epoch(tasks.c.first_call_at)
        counts = [*(func.count().filter(term) for term in _statuses(tasks, now)), func.count(ack)]
        keys = [tasks.c.period, tasks.c.unit]
        cells = [
            CallbackCell(
                int(p), str(u), dict(zip(CALLBACK_STATUSES, found[:-1], strict=True)), found[-1]
            )
            for p, u, *found in self._session.execute(select(*keys, *counts).group_by(*keys))
        ]
        histogram = select(*keys, seconds, func.count()).where(ack.is_not(None))
        histograms: Histograms = {}
        for p, u, value, n in self._session.execute(histogram.group_by(*keys, seconds)):
            for key in ((p, u), (p, ALL_UNITS), (None, u), (None, ALL_UNITS)):
                histograms.setdefault(key, []).append((int(value), int(n)))
        return cells, histograms

    def _tasks(self, periods: Sequence[Period], unit: str | None) -> Subquery:
        """The callbacks whose first missed call is in range, with their first real attempt."""
        cb, at = CALLBACKS.c, ATTEMPTS.c
        first = (
            select(at.callback_id, func.min(at.at).label("attempted_at"))
            .where(at.outcome.is_not(None))
            .group_by(at.callback_id)
            .subquery("first_attempts")
        )
        query = (
            select(
                _period_case(cb.first_call_at, periods).label("period"),
                cb.unit,
                cb.state,
                cb.due_at,
                cb.closed_at,
                cb.resolution,
                cb.first_call_at,
                first.c.attempted_at,
            )
            .select_from(CALLBACKS.outerjoin(first, first.c.callback_id == cb.id))
            .where(*_in_range(cb.first_call_at, periods), *_only(cb.unit, unit))
        )
        return query.subquery("tasks")


def _statuses(tasks: Subquery, now: datetime) -> list[ColumnElement[bool]]:
    """The test of each report status at ``now``, in the order of ``CALLBACK_STATUSES``."""
    t, at = tasks.c, to_utc(now)
    found = {
        "on_time": and_(t.state == DONE, t.closed_at <= t.due_at),
        "late": and_(t.state == DONE, t.closed_at > t.due_at),
        "overdue": and_(t.state == OPEN, t.due_at < at),
        "pending": and_(t.state == OPEN, t.due_at >= at),
        "unreachable": t.state == UNREACHABLE,
        "cancelled": t.state == CANCELLED,
    }
    return [found[status] for status in CALLBACK_STATUSES]


def _acknowledged_at(tasks: Subquery) -> ColumnElement[Any]:
    """The first real attempt or the closing, whichever came first (expiry: no closing)."""
    attempted = tasks.c.attempted_at
    closed = case((tasks.c.resolution == EXPIRED, null()), else_=tasks.c.closed_at)
    return case(
        (attempted.is_(None), closed),
        (closed.is_(None), attempted),
        (attempted < closed, attempted),
        else_=closed,
    )


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
