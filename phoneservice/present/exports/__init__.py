"""Exports of a unit's hours for other systems: OSM, iCalendar, JSON-LD and Asterisk.

Every export works on wall-clock minutes of local dates. An interval that runs past
midnight belongs to the date it starts on; formats that cannot say so (Asterisk, the
dated part of OSM) see the part after midnight on the next date: the helpers below
give each date's *wall cover*, its own part plus what spills in from the day before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import TypeVar

from phoneservice.domain.errors import require_aware
from phoneservice.domain.hours.schedule import Day, Schedule, WeekHours
from phoneservice.domain.hours.wallclock import MINUTES_PER_DAY
from phoneservice.domain.units import Unit
from phoneservice.registry import Registry

FORMATS = ("ics", "jsonld", "osm", "asterisk")

Cover = tuple[tuple[int, int], ...]
"""Within-day open minutes ``(start, end)``, 0 <= start < end <= 1440, sorted and merged."""

Renderer = Callable[[Registry, Sequence[Unit], datetime], str]
_T = TypeVar("_T")
_DAY = timedelta(days=1)


def render(kind: str, registry: Registry, units: Sequence[Unit], now: datetime) -> str:
    """The export ``kind`` of ``units`` as text, generated at ``now``."""
    renderer = _renderers().get(kind)
    if renderer is None:
        raise ValueError(f"unknown export format {kind!r} (known: {', '.join(FORMATS)})")
    require_aware(now, "now")
    return renderer(registry, units, now.astimezone(registry.timezone))


def _renderers() -> dict[str, Renderer]:
    """The format modules, imported on use because they import the helpers below."""
    from phoneservice.present.exports import asterisk, ics, jsonld, osm

    return {
        "ics": ics.render,
        "jsonld": jsonld.render,
        "osm": osm.render,
        "asterisk": asterisk.render,
    }


def own_part(intervals: Day) -> Cover:
    """The part of each interval before midnight of its own date."""
    return tuple((i.start, min(i.end, MINUTES_PER_DAY)) for i in intervals)


def spill_part(intervals: Day) -> Cover:
    """The part of each interval after midnight, as minutes of the next date."""
    return tuple((0, i.end - MINUTES_PER_DAY) for i in intervals if i.end > MINUTES_PER_DAY)


def merged(pieces: Iterable[tuple[int, int]]) -> Cover:
    """Pieces sorted, with overlapping and touching ones joined."""
    result: list[tuple[int, int]] = []
    for start, end in sorted(pieces):
        if result and start <= result[-1][1]:
            result[-1] = (result[-1][0], max(result[-1][1], end))
        else:
            result.append((start, end))
    return tuple(result)


def wall_cover(schedule: Schedule, day: date) -> Cover:
    """The open minutes of ``day`` on the wall clock, including yesterday's overnight part."""
    today, yesterday = schedule.day_plan(day), schedule.day_plan(day - _DAY)
    return merged(own_part(today.intervals) + spill_part(yesterday.intervals))


def week_cover(week: WeekHours, weekday: int) -> Cover:
    """Like :func:`wall_cover` for a plain week (Monday is 0)."""
    return merged(own_part(week[weekday]) + spill_part(week[weekday - 1]))


def runs(items: Sequence[_T]) -> list[tuple[int, int, _T]]:
    """Consecutive equal items as ``(first index, last index, item)``."""
    found: list[tuple[int, int, _T]] = []
    for n, item in enumerate(items):
        if found and found[-1][2] == item:
            found[-1] = (found[-1][0], n, item)
        else:
            found.append((n, n, item))
    return found


def window(first: date, days: int) -> list[date]:
    """``days`` consecutive dates from ``first``."""
    return [first + timedelta(days=n) for n in range(days)]
