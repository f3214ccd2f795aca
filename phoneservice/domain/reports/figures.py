"""The reports of SPEC §7 as pure definitions: parameters, periods, figures, percentiles.

Storage hands over *cells*: how many calls (or callbacks) share one combination of the
inputs of every figure (unit, outcome, wait in whole seconds, hour of week, ...). The
figures are folded from those counts here, so one SQL pass per table serves every
figure, and percentiles are exact without sending single calls over the wire.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from phoneservice.domain.calls.records import (
    ABANDONED,
    ANSWERED,
    CLOSED,
    TIMEOUT,
    UNANSWERED,
    UNKNOWN,
)
from phoneservice.domain.errors import DomainError
from phoneservice.domain.hours.wallclock import wall_datetime

DEFAULT_THRESHOLD_S = 60  # SPEC §7: service level "answered within T seconds", T default 60
GROUPINGS = ("day", "week", "month", "year")
MAX_RANGE_DAYS = 3660  # ten years: Sorø's two-year cycle five times over
MAX_PERIODS = 800  # two years by day, with room
HOURS_PER_WEEK = 168
# The Unix epoch (1970-01-01 00:00) was a Thursday: 72 hours after the Monday before it.
EPOCH_HOUR_OF_WEEK = 72
WAIT_PERCENTILE = 0.9
# Callback states as the report counts them; their sum is the number created.
CALLBACK_STATUSES = ("on_time", "late", "overdue", "pending", "unreachable", "cancelled")
TOTAL = "I alt"
ALL_UNITS = "*"  # the key of a figure over every unit: no unit id can be "*"
NO_UNIT = "Uden enhed"  # calls that matched neither a queue nor an inbound number


class ReportError(DomainError):
    """A report was asked for with parameters that cannot give one (a bad range)."""


@dataclass(frozen=True, slots=True)
class ReportParameters:
    """What the figures depend on besides the data: thresholds, limits, the time zone."""

    timezone: ZoneInfo
    short_abandon_s: int
    thresholds: Mapping[str, int]
    default_threshold_s: int = DEFAULT_THRESHOLD_S
    withheld_closed_count: bool = True  # outside_hours = "callback": closed calls are owed one

    def threshold(self, unit: str | None) -> int:
        """The service-level threshold T of ``unit`` in seconds."""
        return self.thresholds.get(unit or "", self.default_threshold_s)


@dataclass(frozen=True, slots=True)
class ReportRequest:
    """What was asked: local dates ``first`` to ``last`` inclusive, one unit or all, a split."""

    first: date
    last: date
    unit: str | None = None
    by: str | None = None


@dataclass(frozen=True, slots=True)
class Period:
    """Local dates ``first`` to ``last`` inclusive, and the instants ``[start, end)`` they span."""

    first: date
    last: date
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class CallCell:
    """How many calls of one period and unit share these inputs of the figures."""

    period: int
    unit: str | None
    outcome: str
    short_abandon: bool
    during_hours: bool
    wait_s: int | None  # answered calls only
    count: int


@dataclass(frozen=True, slots=True)
class HourCell:
    """How many calls of one period and unit arrived outside phone hours in one hour of week."""

    period: int
    unit: str | None
    hour_of_week: int  # local time: 0 is Monday 00:00-01:00
    count: int


@dataclass(frozen=True, slots=True)
class WithheldCell:
    """How many missed calls of one period, unit and outcome came from a withheld number."""

    period: int
    unit: str | None
    outcome: str
    count: int


@dataclass(frozen=True, slots=True)
class CallbackCell:
    """The callbacks of one period and unit, counted per report status."""

    period: int
    unit: str
    statuses: Mapping[str, int]  # keys: CALLBACK_STATUSES
    acknowledged: int  # how many have a time to acknowledge


@dataclass(frozen=True, slots=True)
class ReportData:
    """What storage found for a report: the cells, and the median time to acknowledge
    per ``(period, unit)``: a period of None is the whole range, the unit ALL_UNITS all.
    """

    calls: Sequence[CallCell]
    closed_hours: Sequence[HourCell]
    withheld: Sequence[WithheldCell]
    callbacks: Sequence[CallbackCell]
    ack_medians: Mapping[tuple[int | None, str], float]


@dataclass(frozen=True, slots=True)
class CallFigures:
    """The call figures of one unit (or the total) in one period; None where 0 ÷ 0."""

    calls: int
    answered: int
    abandoned: int
    short_abandons: int
    timeouts: int
    closed: int
    unanswered: int
    unknown: int
    calls_during_hours: int
    answered_during_hours: int
    short_abandons_during_hours: int
    answer_rate: float | None
    answered_with_wait: int
    answered_within_threshold: int
    service_level: float | None
    wait_avg_s: float | None
    wait_p90_s: float | None
    unacknowledgeable: int
    closed_by_hour_of_week: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class CallbackFigures:
    """The callback figures of one unit (or the total) in one period; None where 0 ÷ 0."""

    created: int
    on_time: int
    late: int
    overdue: int
    pending: int
    unreachable: int
    cancelled: int
    on_time_rate: float | None
    acknowledged: int
    ack_median_s: float | None


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


def ratio(part: int, whole: int) -> float | None:
    """``part / whole``, or None when there is nothing to divide by (never a false 0 %)."""
    return None if whole == 0 else part / whole


def percentile(histogram: Iterable[tuple[float, int]], fraction: float) -> float | None:
    """The ``fraction`` percentile of values given with counts, as ``percentile_cont``.

    Linear interpolation between the two values closest to rank ``fraction * (n - 1)``
    (0-based), which is what PostgreSQL's ``percentile_cont`` computes; None if empty.
    """
    items = sorted((value, count) for value, count in histogram if count > 0)
    total = sum(count for _, count in items)
    if total == 0:
        return None
    rank = fraction * (total - 1)
    low, high = _value_at(items, math.floor(rank)), _value_at(items, math.ceil(rank))
    return low + (high - low) * (rank - math.floor(rank))


def _value_at(items: Sequence[tuple[float, int]], rank: int) -> float:
    """The value at 0-based ``rank`` of sorted values with counts."""
    seen = 0
    for value, count in items:
        seen += count
        if rank < seen:
            return value
    return items[-1][0]


def hour_of_week(instant: datetime, tz: ZoneInfo) -> int:
    """The local hour of the week of an instant: 0 is Monday 00:00-01:00, 167 Sunday 23-24.

    The same arithmetic as the SQL: whole local seconds since the epoch, in hours, from
    Monday. In the hour that occurs twice in autumn both occurrences fall in one bucket.
    """
    epoch = math.floor(instant.timestamp())
    offset = instant.astimezone(tz).utcoffset() or timedelta(0)
    local = epoch + int(offset.total_seconds())
    return (local // 3600 + EPOCH_HOUR_OF_WEEK) % HOURS_PER_WEEK


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


def periods(first: date, last: date, by: str | None, tz: ZoneInfo) -> list[Period]:
    """The periods of a report from ``first`` to ``last`` (inclusive), whole or split ``by``."""
    if last < first:
        raise ReportError(f"the range ends ({last}) before it starts ({first})")
    if (last - first).days >= MAX_RANGE_DAYS:
        raise ReportError(f"a report covers at most {MAX_RANGE_DAYS} days")
    if by is not None and by not in GROUPINGS:
        raise ReportError(f"cannot group by {by!r}: use one of {', '.join(GROUPINGS)}")
    starts = [first]
    while by is not None and (following := _next_start(starts[-1], by)) <= last:
        starts.append(following)
        if len(starts) > MAX_PERIODS:
            raise ReportError(f"at most {MAX_PERIODS} periods: group by a longer period")
    ends = [*(s - timedelta(days=1) for s in starts[1:]), last]
    return [_period(a, b, tz) for a, b in zip(starts, ends, strict=True)]


def _next_start(day: date, by: str) -> date:
    """The first date of the period after the one holding ``day``."""
    if by == "day":
        return day + timedelta(days=1)
    if by == "week":  # ISO weeks: Monday to Sunday
        return day + timedelta(days=7 - day.weekday())
    if by == "month":
        return date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return date(day.year + 1, 1, 1)


def _period(first: date, last: date, tz: ZoneInfo) -> Period:
    """A period of whole local days: from local midnight to the midnight after ``last``."""
    end = wall_datetime(last + timedelta(days=1), 0, tz)
    return Period(first, last, wall_datetime(first, 0, tz), end)


def call_figures(data: ReportData, params: ReportParameters) -> CallFigures:
    """Every call figure of SPEC §7 from the cells of one unit (or of all) in one period."""
    cells = data.calls
    count = _counter(cells)
    calls_during = count(lambda c: c.during_hours)
    answered_during = count(lambda c: c.during_hours and c.outcome == ANSWERED)
    short_during = count(lambda c: c.during_hours and _short(c))
    waits = _waits(cells, params)
    with_wait = sum(n for _, n, _ in waits)
    within = sum(n for wait, n, limit in waits if wait <= limit)
    return CallFigures(
        calls=count(lambda c: True),
        answered=count(lambda c: c.outcome == ANSWERED),
        abandoned=count(lambda c: c.outcome == ABANDONED and not c.short_abandon),
        short_abandons=count(_short),
        timeouts=count(lambda c: c.outcome == TIMEOUT),
        closed=count(lambda c: c.outcome == CLOSED),
        unanswered=count(lambda c: c.outcome == UNANSWERED),
        unknown=count(lambda c: c.outcome == UNKNOWN),
        calls_during_hours=calls_during,
        answered_during_hours=answered_during,
        short_abandons_during_hours=short_during,
        answer_rate=ratio(answered_during, calls_during - short_during),
        answered_with_wait=with_wait,
        answered_within_threshold=within,
        service_level=ratio(within, with_wait),
        wait_avg_s=None if not with_wait else sum(w * n for w, n, _ in waits) / with_wait,
        wait_p90_s=percentile([(w, n) for w, n, _ in waits], WAIT_PERCENTILE),
        unacknowledgeable=sum(c.count for c in data.withheld if _owed(c, params)),
        closed_by_hour_of_week=_by_hour_of_week(data.closed_hours),
    )


def _waits(cells: Sequence[CallCell], params: ReportParameters) -> list[tuple[int, int, int]]:
    """``(wait, calls, threshold)`` of answered calls with a known wait."""
    return [
        (c.wait_s, c.count, params.threshold(c.unit))
        for c in cells
        if c.outcome == ANSWERED and c.wait_s is not None
    ]


def _counter(cells: Sequence[CallCell]) -> Callable[[Callable[[CallCell], bool]], int]:
    """A function counting the calls of the cells that match a test."""
    return lambda test: sum(c.count for c in cells if test(c))


def _short(cell: CallCell) -> bool:
    """A short abandon: the caller hung up before the short-abandon limit."""
    return cell.outcome == ABANDONED and cell.short_abandon


def _owed(cell: WithheldCell, params: ReportParameters) -> bool:
    """Whether withheld calls of this outcome count: closed ones only when owed a callback."""
    return params.withheld_closed_count or cell.outcome != CLOSED


def _by_hour_of_week(cells: Sequence[HourCell]) -> tuple[int, ...]:
    """Calls outside phone hours per local hour of the week, Monday 00:00 first."""
    counts = Counter[int]()
    for cell in cells:
        counts[cell.hour_of_week] += cell.count
    return tuple(counts[hour] for hour in range(HOURS_PER_WEEK))


def callback_figures(cells: Sequence[CallbackCell], ack_median_s: float | None) -> CallbackFigures:
    """Every callback figure from the cells of one unit (or of all) in one period."""
    by_status = Counter[str]()
    for cell in cells:
        by_status.update(cell.statuses)
    created = sum(by_status.values())
    decided = created - by_status["pending"] - by_status["cancelled"]
    return CallbackFigures(
        created=created,
        on_time=by_status["on_time"],
        late=by_status["late"],
        overdue=by_status["overdue"],
        pending=by_status["pending"],
        unreachable=by_status["unreachable"],
        cancelled=by_status["cancelled"],
        on_time_rate=ratio(by_status["on_time"], decided),
        acknowledged=sum(cell.acknowledged for cell in cells),
        ack_median_s=ack_median_s,
    )


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
) -> Section:
    """The figures of period ``index`` (None: the whole range), one row per unit, then all."""
    mine = _of_period(data, index)
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
    split = tuple(section(p, i, rows, data, params) for i, p in enumerate(parts))
    return Report(
        request,
        generated_at,
        params,
        section(whole, None, rows, data, params),
        split if request.by else (),
    )
