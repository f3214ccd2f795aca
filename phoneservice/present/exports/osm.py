"""An OpenStreetMap ``opening_hours`` value for a unit, exact for the coming year.

The value has three parts, joined by ``; `` so that a later rule replaces an earlier
one on the days it names: the weekly hours (equal neighbouring days merged), the
seasons as recurring rules (the first season in the registry is written last, so it
wins as it does in the registry), and then every date of the next 365 days on which
those recurring rules would be wrong, as a dated rule with its year. After those 365
dates the value may be wrong: :func:`exact_period` says which dates it is exact for, and
``export osm`` states them beside the value (stderr, or the ``--json`` item), so that
the value itself stays one plain ``opening_hours`` string.

How a rule's overnight part (``Fr 22:00-02:00``) reaches the next date is where OSM
readers differ. The module reads its own rules as ``opening-hours-py`` does
(``schedule_at`` in opening-hours-rs): the last rule that names a date decides it,
and brings yesterday's overnight part only if it named yesterday too; when no rule
names the date, the first rule that named yesterday gives its overnight part. So a
rule states the overnight part it receives from another rule (``Sa 00:00-02:00``),
which every reader understands, and the dated rules repair whatever is still wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from phoneservice.domain.hours.schedule import Day, Interval, Schedule, Season, WeekHours
from phoneservice.domain.hours.wallclock import MINUTES_PER_DAY
from phoneservice.domain.units import Unit
from phoneservice.present.exports import (
    Cover,
    merged,
    own_part,
    runs,
    spill_part,
    wall_cover,
    window,
)
from phoneservice.present.shapes import interval_text
from phoneservice.registry import Registry

WINDOW_DAYS = 365
DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_FULL_DAY = (Interval(0, MINUTES_PER_DAY),)
_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule: its text, the dates it names and their intervals (none: ``off``)."""

    text: str
    names: Callable[[date], bool]
    intervals: Day


def render(registry: Registry, units: Sequence[Unit], now: datetime) -> str:
    """One unit: its value on a line; several: ``id<TAB>value`` per line."""
    today = now.date()
    if len(units) == 1:
        return opening_hours(units[0].schedule, today) + "\n"
    return "".join(f"{u.id}\t{opening_hours(u.schedule, today)}\n" for u in units)


def exact_period(today: date) -> tuple[date, date]:
    """The first and last date a value made on ``today`` is exact for (365 dates)."""
    return today, today + (WINDOW_DAYS - 1) * _DAY


def period_note(today: date) -> str:
    """``exact from 2026-12-03 to 2027-12-02``: said beside the value, never inside it."""
    first, last = exact_period(today)
    return f"exact from {first.isoformat()} to {last.isoformat()}"


def opening_hours(schedule: Schedule, today: date) -> str:
    """The ``opening_hours`` value of a schedule, exact from ``today`` for 365 days."""
    if schedule.always_open:
        return "24/7"
    rules = recurring_rules(schedule)
    texts = [rule.text for rule in rules + dated_rules(schedule, rules, today)]
    return "; ".join(texts) or "off"


def recurring_rules(schedule: Schedule) -> list[Rule]:
    """The weekly rules, then the seasons, the first season last (it wins)."""
    rules = weekly_rules(schedule.week)
    for season in reversed(schedule.seasons):
        rules += season_rules(season, schedule.week)
    return rules


def weekly_rules(week: WeekHours) -> list[Rule]:
    """One rule per run of equal days."""
    if all(day == _FULL_DAY for day in week):
        return [Rule("24/7", _any_day, _FULL_DAY)]
    return [
        Rule(f"{_days_text(a, b)} {_times_text(hours)}", _weekdays(a, b), hours)
        for a, b, hours in runs(_stated_week(week))
        if hours
    ]


def season_rules(season: Season, week: WeekHours) -> list[Rule]:
    """A season's rules: its hours per run of equal days, ``off`` where the week has hours."""
    selector = season_selector(season)
    if selector is None:
        return []
    if not any(season.week):
        return [Rule(f"{selector} off", season.covers, ())]
    rules, plain = [], _stated_week(week)
    for a, b, hours in runs(_stated_week(season.week)):
        if hours or any(plain[a : b + 1]):
            text = f"{selector} {_days_text(a, b)} {_times_text(hours) if hours else 'off'}"
            rules.append(Rule(text, _in_season(season, a, b), hours))
    return rules


def season_selector(season: Season) -> str | None:
    """``Jul 01-31``, ``Dec 20-Jan 05``, ``week 28-30`` or ``week 01,52-53``."""
    if season.weeks is not None:
        first, last = season.weeks
        if first <= last:
            return f"week {_number_range(first, last)}"
        return f"week {_number_range(1, last)},{_number_range(first, 53)}"
    if season.first is None or season.last is None:
        return None
    (m1, d1), (m2, d2) = season.first, season.last
    end = f"{d2:02d}" if m1 == m2 and d1 <= d2 else f"{MONTHS[m2 - 1]} {d2:02d}"
    return f"{MONTHS[m1 - 1]} {d1:02d}-{end}"


def dated_rules(schedule: Schedule, rules: Sequence[Rule], today: date) -> list[Rule]:
    """A rule for every date of the window on which the rules before give wrong minutes."""
    fixes: dict[date, Day] = {}
    for day in window(today, WINDOW_DAYS):
        yesterday = day - _DAY
        before = [_dated_rule(yesterday, yesterday, fixes[yesterday])] if yesterday in fixes else []
        if rule_cover([*rules, *before], day) != wall_cover(schedule, day):
            fixes[day] = _with_spill(
                schedule.day_plan(day).intervals, schedule.day_plan(yesterday).intervals
            )
    return [_dated_rule(first, last, hours) for first, last, hours in _joined(fixes)]


def rule_cover(rules: Sequence[Rule], day: date) -> Cover:
    """The wall-clock minutes ``rules`` give ``day``, as opening-hours-py reads them."""
    yesterday = day - _DAY
    state: Cover | None = None
    for rule in rules:
        if rule.names(day):
            state = own_part(rule.intervals)
            if rule.names(yesterday):
                state += spill_part(rule.intervals)
        elif state is None and rule.names(yesterday):
            state = spill_part(rule.intervals)
    return merged(state or ())


def _stated_week(week: WeekHours) -> list[Day]:
    """Each weekday's intervals with yesterday's overnight part stated from midnight."""
    return [_with_spill(week[n], week[n - 1]) for n in range(7)]


def _with_spill(own: Day, yesterday: Day) -> Day:
    """``own`` plus yesterday's overnight part from midnight, unless ``own`` covers it."""
    covered = max((i.end for i in own if i.start == 0), default=0)
    spilled = {Interval(0, end) for _, end in spill_part(yesterday) if end > covered}
    return tuple(sorted({*own, *spilled}))


def _joined(fixes: dict[date, Day]) -> list[tuple[date, date, Day]]:
    """Consecutive dates with the same hours (none overnight) joined into ranges."""
    spans: list[tuple[date, date, Day]] = []
    for day, hours in sorted(fixes.items()):
        if (
            spans
            and spans[-1][1] == day - _DAY
            and spans[-1][2] == hours
            and not _has_overnight(hours)
        ):
            spans[-1] = (spans[-1][0], day, hours)
        else:
            spans.append((day, day, hours))
    return spans


def _dated_rule(first: date, last: date, hours: Day) -> Rule:
    """``2026 Dec 24 off``, ``2026 Dec 28-30 off``, ``2026 Dec 28-2027 Jan 01 off``."""
    start = f"{first.year} {MONTHS[first.month - 1]} {first.day:02d}"
    if last == first:
        span = start
    elif (last.year, last.month) == (first.year, first.month):
        span = f"{start}-{last.day:02d}"
    elif last.year == first.year:
        span = f"{start}-{MONTHS[last.month - 1]} {last.day:02d}"
    else:
        span = f"{start}-{last.year} {MONTHS[last.month - 1]} {last.day:02d}"
    text = f"{span} {_times_text(hours) if hours else 'off'}"
    return Rule(text, lambda day: first <= day <= last, hours)


def _number_range(first: int, last: int) -> str:
    """``07`` or ``07-09``."""
    return f"{first:02d}" if first == last else f"{first:02d}-{last:02d}"


def _days_text(first: int, last: int) -> str:
    """``Mo``, ``Mo-We`` (Monday is 0)."""
    return DAYS[first] if first == last else f"{DAYS[first]}-{DAYS[last]}"


def _times_text(hours: Day) -> str:
    """``10:00-12:00,13:00-15:00``; overnight as ``22:00-02:00``."""
    return ",".join(interval_text(interval) for interval in hours)


def _has_overnight(hours: Day) -> bool:
    """Whether an interval runs past midnight."""
    return any(interval.end > MINUTES_PER_DAY for interval in hours)


def _any_day(_day: date) -> bool:
    """Every date."""
    return True


def _weekdays(first: int, last: int) -> Callable[[date], bool]:
    """Dates whose weekday is from ``first`` to ``last`` (Monday is 0)."""
    return lambda day: first <= day.weekday() <= last


def _in_season(season: Season, first: int, last: int) -> Callable[[date], bool]:
    """Dates in ``season`` whose weekday is from ``first`` to ``last``."""
    return lambda day: first <= day.weekday() <= last and season.covers(day)
