"""The daily roll-up of calls (SPEC §7, §12): each call as the cells the reports count.

A call adds one to a *day cell* (its local arrival date, unit, outcome, short abandon,
during hours and, when answered, its wait) and, when it arrived outside phone hours, one
to an *hour cell* (its local date, unit and local hour of the week). Storage keeps the
counts per cell, so a report reads a few rows per unit and day instead of every call.
Key columns hold sentinels instead of NULL (:data:`NO_UNIT`, :data:`NO_WAIT`), so one
plain unique key serves ``INSERT ... ON CONFLICT`` on every backend.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime
from typing import NamedTuple, Protocol
from zoneinfo import ZoneInfo

from phoneservice.domain.calls.records import ANSWERED
from phoneservice.domain.reports.weeks import hour_of_week

NO_UNIT = ""  # a call that matched no unit: no unit id is empty
NO_WAIT = -1  # not answered, or answered without a known wait


class CallFacts(Protocol):
    """What the roll-up reads of a call: a ``CallRecord`` or a row of ``calls``."""

    @property
    def arrived_at(self) -> datetime: ...
    @property
    def unit(self) -> str | None: ...
    @property
    def outcome(self) -> str: ...
    @property
    def short_abandon(self) -> bool: ...
    @property
    def during_hours(self) -> bool: ...
    @property
    def wait_s(self) -> int | None: ...


class DayKey(NamedTuple):
    """The key of a day cell, in the roll-up's column order."""

    day: date
    unit: str
    outcome: str
    short_abandon: bool
    during_hours: bool
    wait_s: int


class HourKey(NamedTuple):
    """The key of an hour cell of calls outside phone hours."""

    day: date
    unit: str
    hour_of_week: int


def day_key(call: CallFacts, tz: ZoneInfo) -> DayKey:
    """The day cell a call counts in."""
    answered = call.outcome == ANSWERED and call.wait_s is not None
    return DayKey(
        call.arrived_at.astimezone(tz).date(),
        call.unit or NO_UNIT,
        call.outcome,
        bool(call.short_abandon),
        bool(call.during_hours),
        int(call.wait_s) if answered and call.wait_s is not None else NO_WAIT,
    )


def hour_key(call: CallFacts, tz: ZoneInfo) -> HourKey | None:
    """The hour cell of a call outside phone hours; None for a call during them."""
    if call.during_hours:
        return None
    day = call.arrived_at.astimezone(tz).date()
    return HourKey(day, call.unit or NO_UNIT, hour_of_week(call.arrived_at, tz))


def rolled_up(calls: Iterable[CallFacts], tz: ZoneInfo) -> tuple[Counter[DayKey], Counter[HourKey]]:
    """How many of ``calls`` fall in each day cell and each hour cell."""
    days, hours = Counter[DayKey](), Counter[HourKey]()
    for call in calls:
        days[day_key(call, tz)] += 1
        if (hour := hour_key(call, tz)) is not None:
            hours[hour] += 1
    return days, hours


def unit_of(stored: str) -> str | None:
    """The unit of a stored key: None for :data:`NO_UNIT`."""
    return None if stored == NO_UNIT else stored


def wait_of(stored: int) -> int | None:
    """The wait of a stored key: None for :data:`NO_WAIT`."""
    return None if stored == NO_WAIT else stored
