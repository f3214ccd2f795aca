"""Warnings about a unit's hours as a whole: none at all, or dated hours about to run out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

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


@dataclass(frozen=True, slots=True)
class RunOut:
    """A unit's last day with hours: the ``exception`` entry (its place in the file) and day."""

    exception: int
    last: date
    single_day: bool  # the exception names one ``date`` rather than ``from``/``to``

    @property
    def closed_from(self) -> date:
        """The first day the unit is shown as closed for good."""
        return self.last + timedelta(days=1)


def hours_run_out(unit: Unit, today: date) -> RunOut | None:
    """The unit's last day with hours when it is before ``today`` + :data:`RUN_OUT_DAYS`.

    Weekly hours and seasons recur every year, so a unit with any of them never runs out.
    Without them, the exception with hours that ends last decides: when it ends before
    today + :data:`RUN_OUT_DAYS` days (or has already ended), the unit will be shown as
    closed from the day after. An exception without hours (closed) covers nothing.
    One rule for ``check-config`` and for ``/admin``.
    """
    if has_recurring_hours(unit.schedule):
        return None
    opening = [(n, e) for n, e in enumerate(_dated(unit.schedule)) if e.intervals]
    if not opening:
        return None
    n, last = max(opening, key=lambda item: item[1].last)
    if (last.last - today).days >= RUN_OUT_DAYS:
        return None
    return RunOut(n, last.last, last.first == last.last)


def warn_hours_run_out(ck: Checker, path: Path, unit: Unit) -> None:
    """Warn when a unit's dated hours run out soon (:func:`hours_run_out`)."""
    found = hours_run_out(unit, ck.today)
    if found is None:
        return
    left = (found.last - ck.today).days
    after = found.closed_from.isoformat()
    said = (
        f"was the last day with hours: since {after}"
        if left < 0
        else f"is the last day with hours, in {left} days: from {after}"
    )
    ck.warn(
        (*path, "exception", found.exception, "date" if found.single_day else "to"),
        found.last,
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
