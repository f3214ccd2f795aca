"""A schema.org ``ContactPoint`` per unit, as JSON-LD for web pages and search engines.

``hoursAvailable`` holds the plain week, one ``OpeningHoursSpecification`` per
interval with every weekday that has it. ``specialOpeningHoursSpecification`` holds
each date of the next 30 days whose hours differ from that week: closed dates as
``opens`` = ``closes`` = ``00:00:00`` (schema.org's way to say closed all day).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from phoneservice.domain.hours.schedule import Interval, Schedule, WeekHours
from phoneservice.domain.hours.wallclock import MINUTES_PER_DAY
from phoneservice.domain.units import Unit
from phoneservice.present.exports import window
from phoneservice.registry import Registry

SPECIAL_DAYS = 30
CONTEXT = "https://schema.org"
WEEKDAYS = tuple(
    f"https://schema.org/{day}"
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
)
CLOSED_ALL_DAY = "00:00:00"

Json = dict[str, Any]


def render(registry: Registry, units: Sequence[Unit], now: datetime) -> str:
    """One JSON-LD document: the ContactPoint, or an ``@graph`` of them for several units."""
    points = [contact_point(unit, now.date()) for unit in units]
    document = (
        {"@context": CONTEXT, **points[0]}
        if len(points) == 1
        else {"@context": CONTEXT, "@graph": points}
    )
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def contact_point(unit: Unit, today: date) -> Json:
    """A unit as a ContactPoint with its weekly and special hours."""
    point: Json = {
        "@type": "ContactPoint",
        "identifier": unit.id,
        "name": unit.name,
        "telephone": unit.phone,
    }
    if unit.email:
        point["email"] = unit.email
    if unit.url:
        point["url"] = unit.url
    point["hoursAvailable"] = hours_available(unit.schedule.week)
    point["specialOpeningHoursSpecification"] = special_hours(unit.schedule, today)
    return point


def hours_available(week: WeekHours) -> list[Json]:
    """One specification per distinct weekly interval, listing the weekdays that have it."""
    days: dict[Interval, list[str]] = {}
    for weekday, intervals in enumerate(week):
        for interval in intervals:
            days.setdefault(interval, []).append(WEEKDAYS[weekday])
    return [
        {"@type": "OpeningHoursSpecification", "dayOfWeek": names, **_times(interval)}
        for interval, names in days.items()
    ]


def special_hours(schedule: Schedule, today: date) -> list[Json]:
    """The dates of the next 30 days whose hours differ from the plain week."""
    specs = []
    for day in window(today, SPECIAL_DAYS):
        plan = schedule.day_plan(day)
        if plan.intervals == schedule.week[day.weekday()]:
            continue
        dated = {
            "@type": "OpeningHoursSpecification",
            "name": plan.reason,
            "validFrom": day.isoformat(),
            "validThrough": day.isoformat(),
        }
        if not plan.intervals:
            specs.append({**dated, "opens": CLOSED_ALL_DAY, "closes": CLOSED_ALL_DAY})
        specs += [{**dated, **_times(interval)} for interval in plan.intervals]
    return specs


def _times(interval: Interval) -> Json:
    """``opens``/``closes``; an end at midnight is ``23:59:59``, past midnight it wraps."""
    return {"opens": _clock(interval.start), "closes": _clock(interval.end)}


def _clock(minute: int) -> str:
    """Minutes after midnight as ``HH:MM:SS``."""
    if minute == MINUTES_PER_DAY:
        return "23:59:59"
    minute %= MINUTES_PER_DAY
    return f"{minute // 60:02d}:{minute % 60:02d}:00"
