"""The report's SQL (SPEC §7): the daily roll-up for the calls, ``calls`` for withheld
numbers, ``callbacks`` for the callbacks.

Nothing is fetched per call. The calls figures and the calls outside phone hours come
from the daily roll-up (:mod:`phoneservice.storage.rollup`): its rows are the cells the
domain folds, counted per local day, so a report sums a few rows per unit and day over
the range's dates (the periods of a split report are found with a balanced ``CASE`` tree
over their first dates). Withheld numbers are counted from ``calls`` over a partial
index, because the retention purge changes them. The callbacks pass counts each report
status; PostgreSQL adds the median time to acknowledge (``percentile_cont`` with
grouping sets), SQLite returns a histogram of it for the domain to read.

The same two passes computed from ``calls`` themselves, the reference the roll-up is
tested against, are in the test suite (``tests/storage/direct_reports.py``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Subquery,
    Table,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    select,
    tuple_,
)
from sqlalchemy.orm import Session

from phoneservice.domain.callbacks.rules import CANCELLED, DONE, EXPIRED, OPEN, UNREACHABLE
from phoneservice.domain.calls.records import ANSWERED
from phoneservice.domain.reports.cells import (
    ALL_UNITS,
    CALLBACK_STATUSES,
    CallbackCell,
    CallCell,
    HourCell,
    ReportData,
    WithheldCell,
)
from phoneservice.domain.reports.percentiles import percentile
from phoneservice.domain.reports.periods import Period
from phoneservice.domain.reports.rollup import unit_of, wait_of
from phoneservice.storage.callbacks import ATTEMPTS, CALLBACKS, CALLS
from phoneservice.storage.rollup import DAY_CELLS, HOUR_CELLS
from phoneservice.storage.types import to_utc

Medians = dict[tuple[int | None, str], float]
MEDIAN = 0.5


class ReportRepository:
    """Reads the cells of a report; it never writes."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._dialect = session.get_bind().dialect.name

    def data(self, periods: Sequence[Period], unit: str | None, now: datetime) -> ReportData:
        """Every cell the report's figures need, for ``periods`` (consecutive) and ``unit``."""
        callbacks, medians = self.callbacks(periods, unit, now)
        return ReportData(
            self.call_cells(periods, unit),
            self.closed_hours(periods, unit),
            self.withheld(periods, unit),
            callbacks,
            medians,
        )

    def call_cells(self, periods: Sequence[Period], unit: str | None) -> list[CallCell]:
        """Calls counted per combination of the figures' inputs, from the daily roll-up."""
        d = DAY_CELLS.c
        keys = [d.unit, d.outcome, d.short_abandon, d.during_hours, d.wait_s]
        found = self._summed(DAY_CELLS, keys, periods, unit)
        return [
            CallCell(p, unit_of(u), o, bool(s), bool(h), wait_of(w), n)
            for p, u, o, s, h, w, n in found
        ]

    def closed_hours(self, periods: Sequence[Period], unit: str | None) -> list[HourCell]:
        """Calls outside phone hours per local hour of the week, from the daily roll-up."""
        h = HOUR_CELLS.c
        found = self._summed(HOUR_CELLS, [h.unit, h.hour_of_week], periods, unit)
        return [HourCell(p, unit_of(u), int(hour), n) for p, u, hour, n in found]

    def _summed(
        self, table: Table, keys: list[Any], periods: Sequence[Period], unit: str | None
    ) -> list[tuple[Any, ...]]:
        """``(period, *keys, calls)`` summed over the roll-up's days of the range.

        The period is a key only when the range is split: a tree over the first dates.
        """
        day, split = table.c.day, len(periods) > 1
        firsts = [p.first for p in periods]
        period = [_tree(day, firsts, 0, len(periods)).label("period")] if split else []
        terms = [day >= periods[0].first, day <= periods[-1].last, *_of_unit(table.c.unit, unit)]
        cells = select(*period, *keys, table.c.calls).where(*terms).subquery("cells")
        columns = [column for column in cells.c if column.name != "calls"]
        query = select(*columns, func.sum(cells.c.calls)).group_by(*columns)
        found = _counts(self._session.execute(query))
        return [(int(row[0]), *row[1:]) for row in found] if split else [(0, *r) for r in found]

    def withheld(self, periods: Sequence[Period], unit: str | None) -> list[WithheldCell]:
        """Missed calls with a withheld number (not erased by the purge), per outcome."""
        c = CALLS.c
        keys = [c.unit, c.outcome]
        terms = [  # ix_calls_withheld
            c.caller_number.is_(None),
            c.number_erased_at.is_(None),
            c.outcome != ANSWERED,
            *_of_unit(c.unit, unit),
        ]
        found = self._counted(keys, c.arrived_at, periods, terms)
        return [WithheldCell(p, u, o, n) for p, u, o, n in found]

    def callbacks(
        self, periods: Sequence[Period], unit: str | None, now: datetime
    ) -> tuple[list[CallbackCell], Medians]:
        """Callbacks counted per period, unit and status, and the medians to acknowledge."""
        tasks = self._tasks(periods, unit)
        ack = _acknowledged_at(tasks)
        seconds = self._epoch(ack) - self._epoch(tasks.c.first_call_at)
        counts = [*(func.count().filter(term) for term in _statuses(tasks, now)), func.count(ack)]
        if self._dialect == "postgresql":
            return self._callbacks_with_medians(tasks, counts, seconds, len(periods) > 1)
        keys = [tasks.c.period, tasks.c.unit]
        cells = self._session.execute(select(*keys, *counts).group_by(*keys))
        histogram = select(*keys, seconds, func.count()).where(ack.is_not(None))
        return [_callback_cell(row) for row in cells], _medians(
            self._session.execute(histogram.group_by(*keys, seconds))
        )

    def _callbacks_with_medians(
        self, tasks: Subquery, counts: list[Any], seconds: ColumnElement[Any], split: bool
    ) -> tuple[list[CallbackCell], Medians]:
        """One pass: counts per (period, unit) and ``percentile_cont(0.5)`` per (period,
        unit), per period, per unit and over all, by grouping sets (a rollup of units when
        the range is one period: then a unit's period is its whole range).
        """
        period, unit = tasks.c.period, tasks.c.unit
        sets = (
            func.grouping_sets(tuple_(period, unit), tuple_(period), tuple_(unit), tuple_())
            if split
            else func.rollup(unit)
        )
        median = func.percentile_cont(MEDIAN).within_group(seconds)
        first = period if split else literal(0)
        flags = [func.grouping(period) if split else literal(0), func.grouping(unit)]
        query = select(first, unit, *flags, *counts, median).group_by(sets)
        cells: list[CallbackCell] = []
        medians: Medians = {}
        for row in self._session.execute(query):
            p, u, all_periods, all_units, *figures, value = row
            if not (all_periods or all_units):
                cells.append(_callback_cell((p, u, *figures)))
            for key in _median_keys(p, u, all_periods, all_units, split):
                if value is not None:
                    medians[key] = float(value)
        return cells, medians

    def _counted(
        self,
        keys: list[Any],
        arrived_at: ColumnElement[datetime],
        periods: Sequence[Period],
        terms: list[Any],
    ) -> list[tuple[Any, ...]]:
        """``(period, *keys, count)`` of the calls of the range, per distinct keys.

        The period is a key only when the range is split (a constant key costs time per
        call). The keys are computed in a subquery and grouped by its columns, so an
        expression with bound values is written once (PostgreSQL cannot match two copies).
        """
        split = len(periods) > 1
        period = [_period_case(arrived_at, periods).label("period")] if split else []
        rows = select(*period, *keys).where(*_in_range(arrived_at, periods), *terms)
        columns = list(rows.subquery("cells").c)
        found = self._session.execute(select(*columns, func.count()).group_by(*columns))
        return [(int(row[0]), *row[1:]) if split else (0, *row) for row in found]

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
            .where(*_in_range(cb.first_call_at, periods), *_of_unit(cb.unit, unit))
        )
        return query.subquery("tasks")

    def _epoch(self, column: ColumnElement[Any]) -> ColumnElement[int]:
        """Whole seconds since the Unix epoch of an instant column, rounded down."""
        if self._dialect == "postgresql":
            # date_part is double precision; EXTRACT is numeric, several times slower
            return cast(func.floor(func.date_part("epoch", column)), BigInteger)
        return cast(func.strftime("%s", column), Integer)  # naive UTC text on SQLite


def _in_range(column: ColumnElement[datetime], periods: Sequence[Period]) -> list[Any]:
    """``[start of the first period, end of the last)``."""
    return [column >= to_utc(periods[0].start), column < to_utc(periods[-1].end)]


def _of_unit(column: ColumnElement[Any], unit: str | None) -> list[Any]:
    """Only ``unit``, when one is asked for."""
    return [] if unit is None else [column == unit]


def _period_case(column: ColumnElement[datetime], periods: Sequence[Period]) -> Any:
    """The index of the period holding ``column``: a balanced ``CASE`` tree on the starts."""
    return _tree(column, [to_utc(p.start) for p in periods], 0, len(periods))


def _tree(column: ColumnElement[Any], starts: Sequence[Any], low: int, high: int) -> Any:
    """The index in ``[low, high)`` of the period holding ``column`` (log2 n comparisons)."""
    if high - low == 1:
        return literal(low, Integer)
    middle = (low + high) // 2
    earlier, later = _tree(column, starts, low, middle), _tree(column, starts, middle, high)
    return case((column < starts[middle], earlier), else_=later)


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
    """The first real attempt to call the citizen or the closing, whichever came first.

    The purge closing an expired task acknowledges nothing: only its attempts count.
    """
    attempted = tasks.c.attempted_at
    closed = case((tasks.c.resolution == EXPIRED, null()), else_=tasks.c.closed_at)
    return case(
        (attempted.is_(None), closed),
        (closed.is_(None), attempted),
        (attempted < closed, attempted),
        else_=closed,
    )


def _counts(rows: Any) -> list[tuple[Any, ...]]:
    """Rows whose last column is a sum, with that sum as an ``int`` (PostgreSQL: numeric)."""
    return [(*row[:-1], int(row[-1])) for row in rows]


def _callback_cell(row: Any) -> CallbackCell:
    """``(period, unit, count per status..., acknowledged)`` as a cell."""
    period, unit, *counts, acknowledged = row
    statuses = {s: int(n) for s, n in zip(CALLBACK_STATUSES, counts, strict=True)}
    return CallbackCell(int(period), str(unit), statuses, int(acknowledged))


def _median_keys(
    period: Any, unit: Any, all_periods: int, all_units: int, split: bool
) -> list[tuple[int | None, str]]:
    """The keys a grouping-sets row answers; unsplit, a period's figure is the range's."""
    key_unit = ALL_UNITS if all_units else str(unit)
    if split:
        return [(None if all_periods else int(period), key_unit)]
    return [(0, key_unit), (None, key_unit)]


def _medians(rows: Any) -> Medians:
    """Medians from ``(period, unit, seconds, count)`` rows, per key and merged (SQLite)."""
    histograms: defaultdict[tuple[int | None, str], list[tuple[float, int]]]
    histograms = defaultdict(list)
    for period, unit, seconds, count in rows:
        for key in ((period, unit), (period, ALL_UNITS), (None, unit), (None, ALL_UNITS)):
            histograms[key].append((float(seconds), int(count)))
    found = {key: percentile(values, MEDIAN) for key, values in histograms.items()}
    return {key: value for key, value in found.items() if value is not None}
