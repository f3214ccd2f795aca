"""Warnings about a unit's hours as a whole: none at all, or dated hours about to run out."""

from __future__ import annotations

from datetime import timedelta

from phoneservice.domain.hours.schedule import DatedHours, Schedule
from phoneservice.domain.units import Unit
from phoneservice.registry.checker import Checker
from phoneservice.registry.problems import Path

RUN_OUT_DAYS = 90  # warn this many days before a unit's last dated hours end


def warn_no_hours(ck: Checker, path: Path, unit: Unit) -> None:
    """Warn about a unit that is never open by its weekly hours, seasons or exceptions."""
    schedule = unit.schedule
    if not has_recurring_hours(schedule) and not any(_dated(schedule)):
        ck.warn(path, unit.id, "has no hours at all: it is always shown as closed")


def warn_hours_run_out(ck: Checker, path: Path, unit: Unit) -> None:
    """Warn when a unit's hours come only from dated exceptions and the last one ends soon.

    Weekly hours and seasons recur every year, so a unit with any of them never runs out.
    Without them, the exception with hours that ends last decides: when it ends before
    today + :data:`RUN_OUT_DAYS` days (or has already ended), the unit will be shown as
    closed from the day after. An exception without hours (closed) covers nothing.
    """
    if has_recurring_hours(unit.schedule):
        return
    opening = [(n, e) for n, e in enumerate(_dated(unit.schedule)) if e.intervals]
    if not opening:
        return
    n, last = max(opening, key=lambda item: item[1].last)
    left = (last.last - ck.today).days
    if left >= RUN_OUT_DAYS:
        return
    key = "date" if last.first == last.last else "to"
    after = (last.last + timedelta(days=1)).isoformat()
    said = (
        f"was the last day with hours: since {after}"
        if left < 0
        else f"is the last day with hours, in {left} days: from {after}"
    )
    ck.warn(
        (*path, "exception", n, key),
        last.last,
        f"{said} the unit is always shown as closed, as no weekly hours or season follow "
        "(add hours or later exceptions)",
    )


def has_recurring_hours(schedule: Schedule) -> bool:
    """Whether the weekly hours or a season open the unit on some day."""
    weeks = [schedule.week, *(s.week for s in schedule.seasons)]
    return any(any(day) for week in weeks for day in week)


def _dated(schedule: Schedule) -> list[DatedHours]:
    """The unit's exceptions in the order of the file (each once, not once per date)."""
    return list(dict.fromkeys(schedule.exceptions.values()))
