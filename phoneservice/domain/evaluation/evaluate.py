"""The evaluation of a period against its goals and the previous period (issue 14).

Everything is read off two reports (docs/reports.md), so an evaluation's figures are the
report's figures to the digit: ``this`` is the period split by month (its whole for the
goals, its months for the trend), ``previous`` the previous period of the same length.
Only the staffing table needs more: the :class:`LoadCell` roll-up of calls per unit and
hour of the week, which goes through the Erlang formulas of :mod:`.erlang`.

A share over fewer than :data:`CONFIDENT_FROM` calls carries its 95 % Wilson interval;
a goal inside that interval is *uncertain*: too few calls to say it was missed or met.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta

from phoneservice.domain.evaluation.erlang import agents_needed_a, agents_needed_c
from phoneservice.domain.evaluation.model import (
    GOAL_KEYS,
    NO_GOALS,
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
from phoneservice.domain.reports.figures import CallbackFigures
from phoneservice.domain.reports.report import Report, Section, UnitFigures

CONFIDENT_FROM = 400  # from this many calls a share is shown without its interval
Z_95 = 1.959963984540054  # the standard normal quantile of 97.5 %
TOP_HOURS = 3
DAYS_PER_YEAR = 365.25
WAIT_GOAL = "max_wait_p90_seconds"  # the one goal met by staying at or below it

GoalSource = Mapping[str | None, Goals] | Callable[[str | None], Goals]


def evaluate(
    this: Report,
    previous: Report,
    loads: Sequence[LoadCell],
    goals: GoalSource,
    municipality: str,
    generated_at: datetime,
) -> Evaluation:
    """The evaluation of ``this`` (split by month) against ``previous`` (the period before).

    ``goals`` gives each unit's goals by unit id, and the total's (the registry's
    defaults) under None; a unit it lacks gets the total's.
    """
    goals_of = _goals_of(goals)
    before = {row.unit: row for row in previous.whole.units}
    by_unit = _loads_by_unit(loads)
    units = tuple(
        _unit(row, before.get(row.unit), this, by_unit.get(row.unit or "", []), goals_of(row.unit))
        for row in this.whole.units
        if _shown(row, before.get(row.unit))
    )
    total = _unit(this.whole.total, previous.whole.total, this, [], goals_of(None), total=True)
    return Evaluation(
        municipality=municipality,
        first=this.request.first,
        last=this.request.last,
        previous_first=previous.request.first,
        previous_last=previous.request.last,
        generated_at=generated_at,
        units=units,
        total=total,
    )


def previous_period(first: date, last: date) -> tuple[date, date]:
    """The period of the same number of days that ends the day before ``first``."""
    days = (last - first).days + 1
    return first - timedelta(days=days), first - timedelta(days=1)


def _goals_of(goals: GoalSource) -> Callable[[str | None], Goals]:
    """A function of the unit id from a mapping (None: the total's) or a function."""
    if callable(goals):
        return goals
    total = goals.get(None, NO_GOALS)
    return lambda unit: goals.get(unit, total)


def _shown(row: UnitFigures, before: UnitFigures | None) -> bool:
    """A unit with calls or callbacks in either period (the rest have nothing to say)."""
    rows = (row, before) if before is not None else (row,)
    return any(r.calls.calls or r.callbacks.created for r in rows)


def _unit(
    row: UnitFigures,
    before: UnitFigures | None,
    this: Report,
    loads: Sequence[LoadCell],
    goals: Goals,
    *,
    total: bool = False,
) -> UnitEvaluation:
    """One unit (or the total) of the evaluation."""
    now, then = figures(row), figures(before) if before is not None else _NONE
    results = tuple(
        goal_result(key, goals.target(key), now[key], then[key])
        for key in GOAL_KEYS
        if _has_goal_or_figure(goals.target(key), now[key], then[key])
    )
    threshold = row.threshold_s
    days = (this.request.last - this.request.first).days + 1
    return UnitEvaluation(
        unit=row.unit,
        name=row.name,
        threshold_s=threshold,
        calls=row.calls.calls,
        previous_calls=before.calls.calls if before is not None else 0,
        goals=results,
        trend=trend(this.periods, row.unit, total=total),
        outside_hours=row.calls.closed_by_hour_of_week,
        top_hours=top_hours(row.calls.closed_by_hour_of_week, days),
        callbacks=callback_summary(row.callbacks),
        staffing=staffing(loads, goals, threshold) if threshold is not None else (),
    )


def _has_goal_or_figure(target: float | None, this: Figure, previous: Figure) -> bool:
    """Whether a goal is worth a line: it has a target or a figure in either period."""
    return target is not None or this.value is not None or previous.value is not None


def figures(row: UnitFigures) -> dict[str, Figure]:
    """The figure behind each goal of one row of a report, with its basis."""
    calls, callbacks = row.calls, row.callbacks
    asked = calls.calls_during_hours - calls.short_abandons_during_hours
    decided = callbacks.created - callbacks.pending - callbacks.cancelled
    with_wait = calls.answered_with_wait
    return {
        "answer_rate": share(calls.answered_during_hours, asked),
        "service_level": share(calls.answered_within_threshold, with_wait),
        "acknowledged_on_time": share(callbacks.on_time, decided),
        WAIT_GOAL: Figure(calls.wait_p90_s, with_wait),
    }


_NONE = {key: Figure(None, 0) for key in GOAL_KEYS}


def share(part: int, whole: int) -> Figure:
    """``part / whole`` with its basis, and its Wilson interval when the basis is small."""
    if whole <= 0:
        return Figure(None, 0)
    if whole >= CONFIDENT_FROM:
        return Figure(part / whole, whole)
    low, high = wilson(part, whole)
    return Figure(part / whole, whole, low, high)


def wilson(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of ``successes`` out of ``trials`` (95 % by default)."""
    p, n = successes / trials, trials
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def goal_result(key: str, target: float | None, this: Figure, previous: Figure) -> GoalResult:
    """One goal: met when the figure reaches it (a wait: stays at or below it)."""
    if target is None or this.value is None:
        return GoalResult(key, target, this, previous, None, False)
    met = this.value <= target if key == WAIT_GOAL else this.value >= target
    inside = this.low is not None and this.high is not None and this.low <= target <= this.high
    return GoalResult(key, target, this, previous, met, inside)


def trend(months: Sequence[Section], unit: str | None, *, total: bool = False) -> tuple[Month, ...]:
    """The figures of each month of the period for one unit (None: calls without a unit),
    or with ``total`` for the total.
    """
    return tuple(_month(section, _row_of(section, unit, total)) for section in months)


def _row_of(section: Section, unit: str | None, total: bool) -> UnitFigures | None:
    """The row of ``unit`` in a section, or its total."""
    if total:
        return section.total
    return next((row for row in section.units if row.unit == unit), None)


def _month(section: Section, row: UnitFigures | None) -> Month:
    """One month of the trend; a unit the month lacks shows nothing."""
    period = section.period
    if row is None:
        return Month(period.first, period.last, 0, None, None, None, None)
    values = figures(row)
    return Month(
        period.first,
        period.last,
        row.calls.calls,
        values["answer_rate"].value,
        values["service_level"].value,
        values["acknowledged_on_time"].value,
        row.calls.wait_p90_s,
    )


def top_hours(by_hour: Sequence[int], days: int) -> tuple[DemandHour, ...]:
    """The hours of the week with most calls outside phone hours, per year of ``days``.

    Ties go to the earlier hour; hours without calls are never listed.
    """
    ranked = sorted((-calls, hour) for hour, calls in enumerate(by_hour) if calls > 0)
    return tuple(
        DemandHour(hour, -negative, -negative * DAYS_PER_YEAR / days)
        for negative, hour in ranked[:TOP_HOURS]
    )


def callback_summary(callbacks: CallbackFigures) -> CallbackSummary:
    """The callback tasks of the period; open ones are overdue or pending."""
    return CallbackSummary(
        created=callbacks.created,
        on_time=callbacks.on_time,
        late=callbacks.late,
        unreachable=callbacks.unreachable,
        open=callbacks.overdue + callbacks.pending,
        ack_median_s=callbacks.ack_median_s,
    )


def _loads_by_unit(loads: Sequence[LoadCell]) -> dict[str, list[LoadCell]]:
    """The load cells of each unit."""
    by_unit: dict[str, list[LoadCell]] = defaultdict(list)
    for cell in loads:
        by_unit[cell.unit].append(cell)
    return by_unit


def staffing(loads: Sequence[LoadCell], goals: Goals, threshold_s: int) -> tuple[StaffingHour, ...]:
    """Per hour of the week: the load measured and the agents the service-level goal takes."""
    by_hour: dict[int, list[LoadCell]] = defaultdict(list)
    for cell in loads:
        by_hour[cell.hour_of_week].append(cell)
    rows = (
        _hour(hour, cells, goals.service_level, threshold_s)
        for hour, cells in sorted(by_hour.items())
    )
    return tuple(row for row in rows if row is not None)


def _hour(
    hour: int, cells: Sequence[LoadCell], target: float | None, threshold_s: int
) -> StaffingHour | None:
    """One hour of the week of one unit (None when no concrete hour had a call)."""
    hours = sum(c.hours for c in cells)
    if hours <= 0:
        return None
    calls = sum(c.calls for c in cells)
    talked, talk_s = sum(c.talked for c in cells), sum(c.talk_s for c in cells)
    abandoned, waited_s = sum(c.abandoned for c in cells), sum(c.waited_s for c in cells)
    arrivals = calls / hours
    handling = talk_s / talked if talked else None
    patience = waited_s / abandoned if abandoned else None
    needed_c, needed_a = _needed(arrivals, handling, patience, target, threshold_s)
    seen = sum(c.agent_hours for c in cells) / hours
    return StaffingHour(hour, hours, arrivals, handling, patience, needed_c, needed_a, seen)


def _needed(
    arrivals: float,
    handling: float | None,
    patience: float | None,
    target: float | None,
    threshold_s: int,
) -> tuple[int | None, int | None]:
    """Agents for the service-level goal by Erlang C and by Erlang A (None: cannot say)."""
    if target is None or handling is None or handling <= 0:
        return None, None
    needed_c = agents_needed_c(arrivals, handling, threshold_s, target)
    if patience is None or patience <= 0:
        return needed_c, None
    return needed_c, agents_needed_a(arrivals, handling, patience, threshold_s, target, needed_c)
