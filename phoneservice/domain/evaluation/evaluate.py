"""TEMPORARY: a minimal ``evaluate`` so the doors (page, PDF, JSON, command line) run.

This file is a stand-in for the domain's real evaluation and is replaced by it when the
branches meet; nothing here is meant to stay. It reads the two reports as they are: each
goal's figure from the report's row, a share's 95 % Wilson interval when its basis is
small, the trend from the monthly sections, the three busiest hours outside phone hours,
and a staffing table from the load cells without queueing formulas (``needed_*`` None).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import datetime

from phoneservice.domain.evaluation.model import (
    GOAL_KEYS,
    SHARE_GOALS,
    CallbackSummary,
    DemandHour,
    Evaluation,
    Figure,
    GoalResult,
    Goals,
    LoadCell,
    Month,
    StaffingHour,
    UnitEvaluation,
)
from phoneservice.domain.reports.periods import Period
from phoneservice.domain.reports.report import Report, UnitFigures

CONFIDENT_FROM = 100  # a share over fewer calls gets its interval
TOP_HOURS = 3
_Z = 1.96


def evaluate(
    this: Report,
    previous: Report,
    loads: Sequence[LoadCell],
    goals_of: Callable[[str | None], Goals],
    municipality: str,
    generated_at: datetime,
) -> Evaluation:
    """The evaluation of ``this`` (split by month) against ``previous`` (whole)."""
    before = {row.unit: row for row in (*previous.whole.units, previous.whole.total)}
    days = (this.request.last - this.request.first).days + 1

    def unit_of(row: UnitFigures, total: bool) -> UnitEvaluation:
        key = None if total else row.unit
        months = [
            _month(s.period, found)
            for s in this.periods
            if (found := _find(s.total if total else s.units, row.unit)) is not None
        ]
        cells = [] if total else [c for c in loads if c.unit == row.unit]
        return _unit(row, before.get(key), goals_of(key), months, cells, days, total)

    units = tuple(unit_of(row, False) for row in this.whole.units if row.unit is not None)
    return Evaluation(
        municipality,
        this.request.first,
        this.request.last,
        previous.request.first,
        previous.request.last,
        generated_at,
        units,
        unit_of(this.whole.total, True),
    )


def _find(rows: UnitFigures | Sequence[UnitFigures], unit: str | None) -> UnitFigures | None:
    """The row of ``unit`` among ``rows`` (a single row is the total)."""
    if isinstance(rows, UnitFigures):
        return rows
    return next((r for r in rows if r.unit == unit), None)


def _unit(
    row: UnitFigures,
    before: UnitFigures | None,
    goals: Goals,
    months: Sequence[Month],
    cells: Sequence[LoadCell],
    days: int,
    total: bool,
) -> UnitEvaluation:
    """One unit's evaluation."""
    results = tuple(
        r for key in GOAL_KEYS if (r := _goal(key, goals.target(key), row, before)) is not None
    )
    closed = row.calls.closed_by_hour_of_week
    b = row.callbacks
    return UnitEvaluation(
        None if total else row.unit,
        row.name,
        row.threshold_s,
        row.calls.calls,
        0 if before is None else before.calls.calls,
        results,
        tuple(months),
        closed,
        _top(closed, days),
        CallbackSummary(
            b.created, b.on_time, b.late, b.unreachable, b.overdue + b.pending, b.ack_median_s
        ),
        tuple(
            _staffing(c, goals.service_level, row.threshold_s)
            for c in sorted(cells, key=lambda c: c.hour_of_week)
        ),
    )


def _figure(key: str, row: UnitFigures | None) -> Figure:
    """The figure of goal ``key`` in a report row."""
    if row is None:
        return Figure(None, 0)
    c, b = row.calls, row.callbacks
    value, basis = {
        "answer_rate": (c.answer_rate, c.calls_during_hours - c.short_abandons_during_hours),
        "service_level": (c.service_level, c.answered_with_wait),
        "acknowledged_on_time": (b.on_time_rate, b.created - b.pending - b.cancelled),
        "max_wait_p90_seconds": (c.wait_p90_s, c.answered_with_wait),
    }[key]
    if key in SHARE_GOALS and value is not None and basis < CONFIDENT_FROM:
        low, high = _wilson(value, basis)
        return Figure(value, basis, low, high)
    return Figure(value, basis)


def _wilson(share: float, n: int) -> tuple[float, float]:
    """The 95 % Wilson interval of ``share`` of ``n``."""
    centre = (share + _Z**2 / (2 * n)) / (1 + _Z**2 / n)
    half = _Z * math.sqrt(share * (1 - share) / n + _Z**2 / (4 * n * n)) / (1 + _Z**2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _goal(
    key: str, target: float | None, row: UnitFigures, before: UnitFigures | None
) -> GoalResult | None:
    """One goal, or None when it has neither a target nor a figure."""
    this, previous = _figure(key, row), _figure(key, before)
    if target is None and this.value is None:
        return None
    met = None
    if target is not None and this.value is not None:
        met = this.value >= target if key in SHARE_GOALS else this.value <= target
    uncertain = (
        target is not None
        and this.low is not None
        and this.high is not None
        and this.low < target < this.high
    )
    return GoalResult(key, target, this, previous, met, uncertain)


def _month(period: Period, row: UnitFigures) -> Month:
    """One month of the trend."""
    return Month(
        period.first,
        period.last,
        row.calls.calls,
        row.calls.answer_rate,
        row.calls.service_level,
        row.callbacks.on_time_rate,
        row.calls.wait_p90_s,
    )


def _top(closed: Sequence[int], days: int) -> tuple[DemandHour, ...]:
    """The three hours outside phone hours with most calls, per year."""
    ranked = sorted((n, hour) for hour, n in enumerate(closed) if n)
    best = sorted(ranked, key=lambda pair: (-pair[0], pair[1]))[:TOP_HOURS]
    return tuple(DemandHour(hour, n, n * 365.25 / days) for n, hour in best)


def _staffing(cell: LoadCell, target: float | None, threshold_s: int | None) -> StaffingHour:
    """One hour of the week's load and the agents Erlang C asks for (no Erlang A here)."""
    hours = max(cell.hours, 1)
    handling = cell.talk_s / cell.talked if cell.talked else None
    arrivals = cell.calls / hours
    needed = None
    if handling and target is not None and threshold_s is not None:
        needed = _erlang_c_agents(arrivals * handling / 3600, handling, target, threshold_s)
    return StaffingHour(
        cell.hour_of_week,
        cell.hours,
        arrivals,
        handling,
        None,
        needed,
        None,
        cell.agent_hours / hours,
    )


def _erlang_c_agents(load: float, handling_s: float, target: float, threshold_s: int) -> int:
    """The fewest agents whose Erlang C service level reaches ``target``."""
    agents = max(1, math.ceil(load))
    while True:
        if agents > load:
            level = 1 - _wait_probability(agents, load) * math.exp(
                -(agents - load) * threshold_s / handling_s
            )
            if level >= target:
                return agents
        agents += 1


def _wait_probability(agents: int, load: float) -> float:
    """Erlang C: the probability that a call waits, with ``agents`` and ``load`` erlangs."""
    term, total = 1.0, 1.0
    for k in range(1, agents):
        term *= load / k
        total += term
    last = term * load / agents * agents / (agents - load)
    return last / (total + last)
