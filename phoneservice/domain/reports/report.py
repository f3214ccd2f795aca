"""A whole report (SPEC §7): one row of figures per unit and the total, per period."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from phoneservice.domain.reports.cells import (
    ALL_UNITS,
    CallbackCell,
    CallCell,
    HourCell,
    ReportData,
    WithheldCell,
)
from phoneservice.domain.reports.figures import (
    CallbackFigures,
    CallFigures,
    ReportParameters,
    call_figures,
    callback_figures,
)
from phoneservice.domain.reports.periods import Period

TOTAL = "I alt"
NO_UNIT = "Uden enhed"  # calls that matched neither a queue nor an inbound number


# The report's reads (SPEC §7): every door asks for all of them; the evaluation asks its
# monthly trend for the calls and callbacks only, and its whole period without withheld
# numbers, which it does not show. A figure of a pass not read counts nothing (0).
PASSES = ("calls", "closed_hours", "withheld", "callbacks")


@dataclass(frozen=True, slots=True)
class ReportRequest:
    """What was asked: local dates ``first`` to ``last`` inclusive, one unit or all, a split,
    and which of the report's reads (:data:`PASSES`) to make.
    """

    first: date
    last: date
    unit: str | None = None
    by: str | None = None
    passes: tuple[str, ...] = PASSES


@dataclass(frozen=True, slots=True)
class UnitFigures:
    """One row of a report: a unit (None: calls that matched no unit) or the total."""

    unit: str | None
    name: str
    threshold_s: int | None  # None on a total over units with different thresholds
    calls: CallFigures
    callbacks: CallbackFigures


@dataclass(frozen=True, slots=True)
class Section:
    """The rows of one period: each unit, then the total."""

    period: Period
    units: tuple[UnitFigures, ...]
    total: UnitFigures


@dataclass(frozen=True, slots=True)
class Report:
    """A whole report: the range's figures, and each period's when it was split."""

    request: ReportRequest
    generated_at: datetime
    params: ReportParameters
    whole: Section
    periods: tuple[Section, ...]


def row_names(
    names: Mapping[str, str],
    data: ReportData,
    only: str | None = None,
) -> dict[str | None, str]:
    """The rows of a report: ``only``, or every unit of the registry, then the ones the data
    names that the registry no longer has, then calls that matched no unit if there are any.
    """
    if only is not None:
        return {only: names.get(only, only)}
    seen = {c.unit for c in data.calls} | {c.unit for c in data.callbacks}
    rows: dict[str | None, str] = {unit: name for unit, name in names.items()}
    rows.update({u: u for u in sorted(u for u in seen if u is not None and u not in names)})
    if None in seen:
        rows[None] = NO_UNIT
    return rows


def section(
    period: Period,
    index: int | None,
    rows: Mapping[str | None, str],
    data: ReportData,
    params: ReportParameters,
    mine: ReportData | None = None,
) -> Section:
    """The figures of period ``index`` (None: the whole range), one row per unit, then all.

    ``mine``: the cells of that period when the caller has sorted them out already.
    """
    mine = _of_period(data, index) if mine is None else mine
    units = tuple(
        _row(unit, name, _of_unit(mine, unit), _median(data, index, unit), params)
        for unit, name in rows.items()
    )
    thresholds = {row.threshold_s for row in units}
    threshold = thresholds.pop() if len(thresholds) == 1 else None
    total = _row(None, TOTAL, mine, data.ack_medians.get((index, ALL_UNITS)), params)
    return Section(period, units, replace(total, threshold_s=threshold))


def _median(data: ReportData, index: int | None, unit: str | None) -> float | None:
    """The median to acknowledge of a unit's row (calls without unit have no callbacks)."""
    return None if unit is None else data.ack_medians.get((index, unit))


def _row(
    unit: str | None,
    name: str,
    data: ReportData,
    ack_median_s: float | None,
    params: ReportParameters,
) -> UnitFigures:
    """One row of figures over the cells in ``data``."""
    calls = call_figures(data, params)
    callbacks = callback_figures(data.callbacks, ack_median_s)
    return UnitFigures(unit, name, params.threshold(unit), calls, callbacks)


def _of_period(data: ReportData, index: int | None) -> ReportData:
    """The cells of period ``index``; all of them for None."""
    if index is None:
        return data
    return ReportData(
        [c for c in data.calls if c.period == index],
        [c for c in data.closed_hours if c.period == index],
        [c for c in data.withheld if c.period == index],
        [c for c in data.callbacks if c.period == index],
        data.ack_medians,
    )


def _by_period(data: ReportData, count: int) -> list[ReportData]:
    """The cells of each of ``count`` periods, sorted out in one pass over each kind."""
    calls: list[list[CallCell]] = [[] for _ in range(count)]
    hours: list[list[HourCell]] = [[] for _ in range(count)]
    withheld: list[list[WithheldCell]] = [[] for _ in range(count)]
    callbacks: list[list[CallbackCell]] = [[] for _ in range(count)]
    for call in data.calls:
        calls[call.period].append(call)
    for hour in data.closed_hours:
        hours[hour.period].append(hour)
    for cell in data.withheld:
        withheld[cell.period].append(cell)
    for callback in data.callbacks:
        callbacks[callback.period].append(callback)
    return [
        ReportData(calls[i], hours[i], withheld[i], callbacks[i], data.ack_medians)
        for i in range(count)
    ]


def _of_unit(data: ReportData, unit: str | None) -> ReportData:
    """The cells of one unit (None: calls that matched no unit)."""
    return ReportData(
        [c for c in data.calls if c.unit == unit],
        [c for c in data.closed_hours if c.unit == unit],
        [c for c in data.withheld if c.unit == unit],
        [c for c in data.callbacks if c.unit == unit],
        data.ack_medians,
    )


def build_report(
    request: ReportRequest,
    parts: Sequence[Period],
    rows: Mapping[str | None, str],
    data: ReportData,
    params: ReportParameters,
    generated_at: datetime,
) -> Report:
    """The whole range, and each of ``parts`` when the request splits it."""
    whole = Period(request.first, request.last, parts[0].start, parts[-1].end)
    split: tuple[Section, ...] = ()
    if request.by:
        mine = _by_period(data, len(parts))
        split = tuple(section(p, i, rows, data, params, mine[i]) for i, p in enumerate(parts))
    return Report(request, generated_at, params, section(whole, None, rows, data, params), split)
