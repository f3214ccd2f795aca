"""The layered Danish calendar: statutory holidays, closing days, half days, closures.

The registry hands this module plain data; the statutory holidays arrive as a lookup
function so that the domain never imports the ``holidays`` package.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from phoneservice.domain.errors import DomainError

HolidayLookup = Callable[[date], str | None]
MonthDay = tuple[int, int]

MUNICIPAL = "municipal"
NATIONAL = "national"
NONE = "none"
CALENDAR_NAMES = (MUNICIPAL, NATIONAL, NONE)


def easter_sunday(year: int) -> date:
    """Gregorian Easter Sunday (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (b - (b + 8) // 25 + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    weekday = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * weekday) // 451
    month, day = divmod(h + weekday - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _day_after_ascension(year: int) -> tuple[date, ...]:
    """Friday after Kristi himmelfartsdag (Easter + 40 days)."""
    return (easter_sunday(year) + timedelta(days=40),)


def _between_christmas_and_new_year(year: int) -> tuple[date, ...]:
    """27 to 30 December."""
    return tuple(date(year, 12, day) for day in range(27, 31))


@dataclass(frozen=True, slots=True)
class Rule:
    """A named movable closing day, declared once and looked up by name."""

    name: str
    label: str
    dates: Callable[[int], tuple[date, ...]]


RULES: Mapping[str, Rule] = {
    rule.name: rule
    for rule in (
        Rule("day-after-ascension", "Dagen efter Kristi himmelfartsdag", _day_after_ascension),
        Rule(
            "days-between-christmas-and-new-year",
            "Mellem jul og nytår",
            _between_christmas_and_new_year,
        ),
    )
}


@dataclass(frozen=True, slots=True)
class Closure:
    """A dated closure (inclusive) for every unit on a calendar."""

    first: date
    last: date
    reason: str

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise DomainError(f"closure ends {self.last} before it starts {self.first}")


@dataclass(frozen=True, slots=True)
class HalfDay:
    """A working day that ends early: every interval is cut at ``cut`` minutes."""

    cut: int
    name: str


def _no_holidays(_day: date) -> str | None:
    """The lookup of a calendar without statutory holidays."""
    return None


@dataclass(frozen=True, eq=False)
class Calendar:
    """One calendar: what closes a date for every unit on it, and when a workday ends."""

    name: str
    workday_end: int
    holidays: HolidayLookup = _no_holidays
    closed: Mapping[MonthDay, str] = field(default_factory=dict)
    closes_early: Mapping[MonthDay, HalfDay] = field(default_factory=dict)
    rules: tuple[Rule, ...] = ()
    closures: tuple[Closure, ...] = ()
    _rule_days: dict[int, dict[date, str]] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    @property
    def closes_nothing(self) -> bool:
        """True for a calendar that never closes a date (no holidays, days or closures)."""
        return (
            self.holidays is _no_holidays
            and not self.closed
            and not self.closes_early
            and not self.rules
            and not self.closures
        )

    def closed_reason(self, day: date) -> str | None:
        """Why the calendar closes ``day``, or None when it does not."""
        return (
            self.holidays(day)
            or self.closed.get((day.month, day.day))
            or self._rule_reason(day)
            or self._closure_reason(day)
        )

    def half_day(self, day: date) -> HalfDay | None:
        """The early close of ``day``, if it is a half day."""
        return self.closes_early.get((day.month, day.day))

    def is_working_day(self, day: date) -> bool:
        """Monday to Friday, and not closed by this calendar."""
        return day.weekday() < 5 and self.closed_reason(day) is None

    def workday_end_minute(self, day: date) -> int:
        """When the working day ``day`` ends: the half-day cut or ``workday_end``."""
        half = self.half_day(day)
        return half.cut if half is not None else self.workday_end

    def _rule_reason(self, day: date) -> str | None:
        """The label of a named rule that closes ``day``."""
        if not self.rules:
            return None
        days = self._rule_days.get(day.year)
        if days is None:
            days = {d: rule.label for rule in self.rules for d in rule.dates(day.year)}
            self._rule_days[day.year] = days
        return days.get(day)

    def _closure_reason(self, day: date) -> str | None:
        """The reason of a dated closure that covers ``day``."""
        for closure in self.closures:
            if closure.first <= day <= closure.last:
                return closure.reason
        return None
