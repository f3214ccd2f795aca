"""The periods of a report: whole local days, the range whole or split by a calendar unit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from phoneservice.domain.errors import DomainError
from phoneservice.domain.hours.wallclock import wall_datetime

GROUPINGS = ("day", "week", "month", "year")
MAX_RANGE_DAYS = 3660  # ten years: Sorø's two-year cycle five times over
MAX_PERIODS = 800  # two years by day, with room


class ReportError(DomainError):
    """A report was asked for with parameters that cannot give one (a bad range)."""


class ReversedRange(ReportError):
    """The range ends before it starts."""


class RangeTooLong(ReportError):
    """The range covers more than :data:`MAX_RANGE_DAYS` days."""


@dataclass(frozen=True, slots=True)
class Period:
    """Local dates ``first`` to ``last`` inclusive, and the instants ``[start, end)`` they span."""

    first: date
    last: date
    start: datetime
    end: datetime


def periods(first: date, last: date, by: str | None, tz: ZoneInfo) -> list[Period]:
    """The periods of a report from ``first`` to ``last`` (inclusive), whole or split ``by``."""
    if last < first:
        raise ReversedRange(f"the range ends ({last}) before it starts ({first})")
    if (last - first).days >= MAX_RANGE_DAYS:
        raise RangeTooLong(f"a report covers at most {MAX_RANGE_DAYS} days")
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
