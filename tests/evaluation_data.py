"""Calls over two years for the evaluation's doors (page, PDF, JSON, command line).

The evaluation's own figures are counted by hand in the domain's tests; here the data
only has to make every part of the page show something: calls each month in both centres,
some missed (with callback tasks), some outside phone hours on Monday 15-16, and goals.
:func:`with_goals` gives every unit the same goals; the staffing cells are the
roll-up's own, from the answered calls' talk times and agents.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta

from phoneservice.domain.evaluation.model import Goals, LoadCell
from phoneservice.registry import Registry
from phoneservice.storage.loads import LoadRepository
from tests.conftest import at
from tests.services.test_reports import Office

UNITS = ("jobcenter", "borgerservice")
FIRST_MONTH, MONTHS = date(2025, 1, 1), 23  # January 2025 to November 2026
GOALS = Goals(answer_rate=0.8, service_level=0.8, acknowledged_on_time=0.9, max_wait_p90_seconds=60)


def with_goals(registry: Registry, goals: Goals = GOALS) -> Registry:
    """``registry`` with ``goals`` for every unit and the total."""
    units = {key: replace(unit, goals=goals) for key, unit in registry.units.items()}
    return replace(registry, goals=goals, units=units)


def months() -> list[date]:
    """The first day of each month of the data."""
    found, day = [], FIRST_MONTH
    for _ in range(MONTHS):
        found.append(day)
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return found


def first_weekday(month: date, weekday: int) -> date:
    """The first date of ``month`` on ``weekday`` (0 is Monday)."""
    return month + timedelta(days=(weekday - month.weekday()) % 7)


def fill_months(office: Office) -> int:
    """Calls in both centres every month; the number of calls stored."""
    stored = 0
    for index, month in enumerate(months()):
        for offset, unit in enumerate(UNITS):
            specs = list(_month_calls(index, month, unit, offset))
            records = [_record(office, spec) for spec in specs]
            office.clock.now = at(f"{month + timedelta(days=28)}T20:00")
            office.calls.store(records)
            stored += len(records)
    return stored


def _month_calls(index: int, month: date, unit: str, offset: int):  # type: ignore[no-untyped-def]
    """``(arrival, unit, outcome, wait, number, during)`` of one unit's month."""
    count = 8 + (index * 3 + offset * 5) % 9
    for k in range(count):
        day = first_weekday(month, k % 5) + timedelta(days=7 * (k % 3))
        arrival = f"{day}T{9 + k % 6:02d}:{(7 * k) % 60:02d}"
        if k % 5 == 4:
            number = f"+4531{index:02d}{offset}{k:03d}"
            yield arrival, unit, "abandoned", 30 + k, number, True
            if k % 10 == 4:  # every other one calls again the next day and gets through
                yield f"{day + timedelta(days=1)}T10:00", unit, "answered", 12, number, True
        else:
            yield arrival, unit, "answered", (k * 13 + index * 7) % 95, None, True
    monday = first_weekday(month, 0)
    for k in range(2 + index % 3):
        yield f"{monday + timedelta(days=7 * k)}T15:{10 + k:02d}", unit, "closed", None, None, False
    yield f"{first_weekday(month, 1)}T17:20", unit, "closed", None, None, False


def _record(office: Office, spec: tuple[str, str, str, int | None, str | None, bool]):  # type: ignore[no-untyped-def]
    """A call record with its own caller number (the report tests' N1..N12 stay free)."""
    arrival, unit, outcome, wait, number, during = spec
    found = office.record(arrival, unit, outcome, wait, None, during)
    if outcome == "answered":  # a talk time and an agent, for the staffing table
        talk, agent = 120 + (wait or 0) * 3, ("anne", "bo")[(wait or 0) % 2]
        return replace(found, caller_number=number, talk_s=talk, agent=agent)
    return replace(found, caller_number=number)


def stored_loads(office: Office) -> Callable[[date, date, str | None], list[LoadCell]]:
    """The staffing roll-up's cells as the office's database holds them."""

    def loads(first: date, last: date, unit: str | None) -> list[LoadCell]:
        with office.reports.sessions() as session:
            return LoadRepository(session).cells(first, last, unit)

    return loads


def staffing_clock() -> datetime:
    """The instant the doors' tests evaluate at (the report tests' Monday)."""
    return at("2026-11-23T12:00")
