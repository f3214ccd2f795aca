"""The report's SQL (SPEC §7): the daily roll-up for the calls, ``calls`` for withheld
numbers, ``callbacks`` for the callbacks.

Nothing is fetched per call. The calls figures and the calls outside phone hours come
from the daily roll-up (:mod:`phoneservice.storage.rollup`): its rows are the cells the
domain folds, counted per local day, so a report sums a few rows per unit and day over
the range's dates (the periods of a split report are found with a balanced ``CASE`` tree
over their first dates). Withheld numbers are counted from ``calls`` over a partial
index, because the retention purge changes them. The callbacks pass reads the closed
tasks from the callback roll-up (:mod:`phoneservice.storage.callback_rollup`: per local
day, unit, final status and bucket of the time to acknowledge) and the open ones, whose
status depends on the time of the report, from ``callbacks`` over a partial index; the
median time to acknowledge is interpolated within its bucket
(:mod:`phoneservice.domain.reports.buckets`).

The same two passes computed from ``calls`` themselves, the reference the roll-up is
tested against, are in the test suite (``tests/storage/direct_reports.py``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Table,
    case,
    cast,
    func,
    literal,
    select,
)
from sqlalchemy.orm import Session

from phoneservice.domain.callbacks.rules import OPEN
from phoneservice.domain.calls.records import ANSWERED
from phoneservice.domain.reports.buckets import NOT_ACKNOWLEDGED, bucket_median, bucket_of
from phoneservice.domain.reports.cells import (
    ALL_UNITS,
    CALLBACK_STATUSES,
    CallbackCell,
    CallCell,
    HourCell,
    ReportData,
    WithheldCell,
)
from phoneservice.domain.reports.periods import Period
from phoneservice.domain.reports.report import PASSES
from phoneservice.domain.reports.rollup import unit_of, wait_of
from phoneservice.storage.callback_rollup import CALLBACK_CELLS, task_facts
from phoneservice.storage.callbacks import CALLBACKS, CALLS
from phoneservice.storage.rollup import DAY_CELLS, HOUR_CELLS
from phoneservice.storage.types import to_utc

Medians = dict[tuple[int | None, str], float]
_ACKNOWLEDGED = "acknowledged"  # the count of acknowledged tasks, beside the statuses


class ReportRepository:
    """Reads the cells of a report; it never writes."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._dialect = session.get_bind().dialect.name

    def data(
        self,
        periods: Sequence[Period],
        unit: str | None,
        now: datetime,
        passes: Collection[str] = PASSES,
    ) -> ReportData:
        """The cells the report's figures need, for ``periods`` (consecutive) and ``unit``,
        read by each of ``passes`` (a pass not asked for gives no cells).
        """
        callbacks, medians = (
            self.callbacks(periods, unit, now) if "callbacks" in passes else ([], {})
        )
        return ReportData(
            self.call_cells(periods, unit) if "calls" in passes else [],
            self.closed_hours(periods, unit) if "closed_hours" in passes else [],
            self.withheld(periods, unit) if "withheld" in passes else [],
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
        """``(period, *keys, count)`` summed over the roll-up's days of the range.

        The period is a key only when the range is split: a tree over the first dates.
        """
        day, split = table.c.day, len(periods) > 1
        firsts = [p.first for p in periods]
        period = [_tree(day, firsts, 0, len(periods)).label("period")] if split else []
        terms = [day >= periods[0].first, day <= periods[-1].last, *_of_unit(table.c.unit, unit)]
        value = table.c.callbacks if table is CALLBACK_CELLS else table.c.calls
        cells = select(*period, *keys, value.label("n")).where(*terms).subquery("cells")
        columns = [column for column in cells.c if column.name != "n"]
        query = select(*columns, func.sum(cells.c.n)).group_by(*columns)
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
        """Callbacks counted per period, unit and status, and the medians to acknowledge.

        Closed tasks come from the callback roll-up, open ones (overdue or pending at
        ``now``) from ``callbacks`` over a partial index; both as counts per bucket of the
        time to acknowledge, from which the domain interpolates the medians.
        """
        rows = [*self._closed_callbacks(periods, unit), *self._open_callbacks(periods, unit, now)]
        counts: defaultdict[tuple[int, str], Counter[str]] = defaultdict(Counter)
        histograms: defaultdict[tuple[int | None, str], Counter[int]] = defaultdict(Counter)
        for period, task_unit, status, bucket, n in rows:
            counts[period, task_unit][status] += n
            counts[period, task_unit][_ACKNOWLEDGED] += 0 if bucket == NOT_ACKNOWLEDGED else n
            for key in _median_keys(period, task_unit):
                histograms[key][bucket] += n
        cells = [
            CallbackCell(p, u, {s: found[s] for s in CALLBACK_STATUSES}, found[_ACKNOWLEDGED])
            for (p, u), found in sorted(counts.items())
        ]
        medians = {key: bucket_median(h.items()) for key, h in histograms.items()}
        return cells, {key: value for key, value in medians.items() if value is not None}

    def _closed_callbacks(
        self, periods: Sequence[Period], unit: str | None
    ) -> list[tuple[int, str, str, int, int]]:
        """``(period, unit, status, bucket, tasks)`` of the closed tasks, from the roll-up."""
        k = CALLBACK_CELLS.c
        found = self._summed(CALLBACK_CELLS, [k.unit, k.status, k.ack_bucket], periods, unit)
        return [(p, str(u), str(s), int(b), n) for p, u, s, b, n in found]

    def _open_callbacks(
        self, periods: Sequence[Period], unit: str | None, now: datetime
    ) -> list[tuple[int, str, str, int, int]]:
        """``(period, unit, status, bucket, tasks)`` of the open tasks, from ``callbacks``."""
        t = task_facts().where(CALLBACKS.c.state == OPEN).subquery("open_tasks").c
        overdue = case((t.due_at < to_utc(now), "overdue"), else_="pending")
        seconds = self._epoch(t.attempted_at) - self._epoch(t.first_call_at)
        keys = [_period_case(t.first_call_at, periods).label("period"), t.unit, overdue, seconds]
        terms = [*_in_range(t.first_call_at, periods), *_of_unit(t.unit, unit)]
        rows = select(*keys).where(*terms).subquery("keys")
        found: Any = self._session.execute(select(*rows.c, func.count()).group_by(*rows.c))
        return [
            (int(p), str(u), str(s), bucket_of(None if w is None else int(w)), int(n))
            for p, u, s, w, n in found
        ]

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


def _counts(rows: Any) -> list[tuple[Any, ...]]:
    """Rows whose last column is a sum, with that sum as an ``int`` (PostgreSQL: numeric)."""
    return [(*row[:-1], int(row[-1])) for row in rows]


def _median_keys(period: int, unit: str) -> list[tuple[int | None, str]]:
    """The medians a task counts in: its period's and the range's, its unit's and all.

    Unsplit, the one period is the range: its figures are the range's.
    """
    periods: list[int | None] = [period, None]
    return [(p, u) for p in periods for u in (unit, ALL_UNITS)]
