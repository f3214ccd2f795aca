"""A unit's declared hours and the layers that decide one date's intervals.

Precedence for a date (first match wins): unit exception, calendar closing day,
season, weekly hours; then a half day cuts the result. Manual overrides act on
instants, not dates, and are merged into the open pieces in
:mod:`phoneservice.domain.hours.timeline`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import TypeVar
from zoneinfo import ZoneInfo

from phoneservice.domain.errors import DomainError
from phoneservice.domain.hours.calendar import Calendar, MonthDay
from phoneservice.domain.hours.wallclock import MINUTES_PER_DAY, wall_epoch

_T = TypeVar("_T", int, MonthDay)

OPEN_LABEL = "telefontid"
CLOSED_LABEL = "uden for telefontid"

LAYER_EXCEPTION = "exception"
LAYER_CALENDAR = "calendar"
LAYER_SEASON = "season"
LAYER_WEEK = "week"
LAYER_HALF_DAY = "half-day"
LAYER_OVERRIDE = "override"  # a manual override touches the date (SPEC §4.4)


@dataclass(frozen=True, slots=True, order=True)
class Interval:
    """Minutes after local midnight, half-open; an end past 1440 runs into the next day."""

    start: int
    end: int

    def __post_init__(self) -> None:
        valid_end = self.start < self.end <= 2 * MINUTES_PER_DAY
        if not 0 <= self.start < MINUTES_PER_DAY or not valid_end:
            raise DomainError(f"bad interval {self.start}-{self.end}")

    def cut(self, minute: int) -> Interval | None:
        """This interval ending no later than ``minute``, or None if nothing is left."""
        if self.start >= minute:
            return None
        return Interval(self.start, min(self.end, minute))


Day = tuple[Interval, ...]
WeekHours = tuple[Day, Day, Day, Day, Day, Day, Day]
CLOSED_WEEK: WeekHours = ((), (), (), (), (), (), ())


@dataclass(frozen=True, slots=True)
class Season:
    """Recurring yearly hours that replace the weekly hours between two dates or ISO weeks."""

    name: str
    week: WeekHours
    first: MonthDay | None = None
    last: MonthDay | None = None
    weeks: tuple[int, int] | None = None

    def covers(self, day: date) -> bool:
        """Whether ``day`` falls in this season (ranges may wrap over New Year)."""
        if self.weeks is not None:
            return _in_wrapping_range(day.isocalendar().week, *self.weeks)
        if self.first is None or self.last is None:
            return False
        return _in_wrapping_range((day.month, day.day), self.first, self.last)


def _in_wrapping_range(value: _T, low: _T, high: _T) -> bool:
    """``low <= value <= high``, where a range with ``high < low`` wraps around."""
    if low <= high:
        return low <= value <= high
    return value >= low or value <= high


@dataclass(frozen=True, slots=True)
class DatedHours:
    """A dated exception for one unit: the intervals for each day from first to last."""

    first: date
    last: date
    intervals: Day
    reason: str


@dataclass(frozen=True, slots=True)
class DayPlan:
    """The effective intervals of one date and the layer (and its label) that decided them."""

    day: date
    intervals: Day
    reason: str
    layer: str


@dataclass(frozen=True, slots=True)
class Span:
    """An open period as instants (epoch seconds), with the reason that opened it."""

    start: int
    end: int
    reason: str


@dataclass(frozen=True, eq=False)
class Schedule:
    """Everything that decides when one unit is open, with per-day caches."""

    timezone: ZoneInfo
    calendar: Calendar
    week: WeekHours
    seasons: tuple[Season, ...] = ()
    exceptions: Mapping[date, DatedHours] = field(default_factory=dict)
    _plans: dict[date, DayPlan] = field(default_factory=dict, repr=False)
    _spans: dict[date, tuple[Span, ...]] = field(default_factory=dict, repr=False)
    memo: dict[str, object] = field(default_factory=dict, repr=False)

    def day_plan(self, day: date) -> DayPlan:
        """The effective intervals of ``day`` (cached)."""
        plan = self._plans.get(day)
        if plan is None:
            plan = self._plans[day] = _cut_half_day(self.calendar, self._layered(day))
        return plan

    def spans(self, day: date) -> tuple[Span, ...]:
        """The open periods that start on ``day``, as instants (cached)."""
        spans = self._spans.get(day)
        if spans is None:
            spans = self._spans[day] = self._to_spans(self.day_plan(day))
        return spans

    @cached_property
    def always_open(self) -> bool:
        """True when nothing can ever close this unit (a 24/7 line on no calendar)."""
        full = ((Interval(0, MINUTES_PER_DAY),),) * 7
        return (
            self.week == full
            and self.calendar.closes_nothing
            and all(season.week == full for season in self.seasons)
            and all(exc.intervals == full[0] for exc in self.exceptions.values())
        )

    def _layered(self, day: date) -> DayPlan:
        """Apply exception, calendar, season and weekly layers, first match wins."""
        exception = self.exceptions.get(day)
        if exception is not None:
            return DayPlan(day, exception.intervals, exception.reason, LAYER_EXCEPTION)
        closed = self.calendar.closed_reason(day)
        if closed is not None:
            return DayPlan(day, (), closed, LAYER_CALENDAR)
        for season in self.seasons:
            if season.covers(day):
                return DayPlan(day, season.week[day.weekday()], season.name, LAYER_SEASON)
        intervals = self.week[day.weekday()]
        return DayPlan(day, intervals, OPEN_LABEL if intervals else CLOSED_LABEL, LAYER_WEEK)

    def _to_spans(self, plan: DayPlan) -> tuple[Span, ...]:
        """Turn a day plan's wall-clock intervals into instants, dropping empty ones."""
        reason = plan.reason if plan.layer != LAYER_WEEK else OPEN_LABEL
        spans = []
        for interval in plan.intervals:
            start = wall_epoch(plan.day, interval.start, self.timezone)
            end = wall_epoch(plan.day, interval.end, self.timezone)
            if end > start:
                spans.append(Span(start, end, reason))
        return tuple(spans)


def _cut_half_day(calendar: Calendar, plan: DayPlan) -> DayPlan:
    """Cut every interval of a half day at its closing time."""
    half = calendar.half_day(plan.day)
    if half is None or not plan.intervals:
        return plan
    cut = tuple(c for c in (i.cut(half.cut) for i in plan.intervals) if c is not None)
    if cut == plan.intervals:
        return plan
    return DayPlan(plan.day, cut, half.name, LAYER_HALF_DAY)
