"""The daily roll-up of calls (SPEC §7, §12): each call as the cells the reports count.

A call adds one to a *day cell* (its local arrival date, unit, outcome, short abandon,
during hours and, when answered, its wait) and, when it arrived outside phone hours, one
to an *hour cell* (its local date, unit and local hour of the week). A call in phone
hours that reached a unit's queue adds to a *load cell* (local date, unit, local hour of
the week: calls, answered, talk and wait sums, abandons) and, when an agent answered it,
marks an *agent hour* (the same key and the agent), the staffing table's input. Storage
keeps the counts per cell, so a report reads a few rows per unit and day instead of
every call.
Key columns hold sentinels instead of NULL (:data:`NO_UNIT`, :data:`NO_WAIT`), so one
plain unique key serves ``INSERT ... ON CONFLICT`` on every backend.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime
from typing import NamedTuple, Protocol
from zoneinfo import ZoneInfo

from phoneservice.domain.calls.records import ABANDONED, ANSWERED, TIMEOUT
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
    @property
    def queue(self) -> str | None: ...
    @property
    def talk_s(self) -> int | None: ...
    @property
    def agent(self) -> str | None: ...


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


class LoadKey(NamedTuple):
    """The key of a load cell, and (with the agent) of an agent hour."""

    day: date
    unit: str
    hour_of_week: int


class AgentKey(NamedTuple):
    """An agent who answered a queued call in phone hours in a local hour of a day."""

    day: date
    unit: str
    hour_of_week: int
    agent: str


class LoadSums(NamedTuple):
    """What a load cell sums over its calls (the value columns, in order)."""

    calls: int = 0
    answered: int = 0
    talked: int = 0  # answered calls with a known talk time
    talk_s: int = 0
    waited_s: int = 0  # every call's wait in the queue, answered or not (unknown: 0)
    abandoned: int = 0  # abandoned and timeout

    def plus(self, other: LoadSums) -> LoadSums:
        """Both sums added column by column."""
        return LoadSums(*(a + b for a, b in zip(self, other, strict=True)))


LOAD_OUTCOMES_ABANDONED = (ABANDONED, TIMEOUT)


def load_key(call: CallFacts, tz: ZoneInfo) -> LoadKey | None:
    """The load cell of a call in phone hours that reached a unit's queue; else None."""
    if not call.during_hours or not call.unit or call.queue is None:
        return None
    day = call.arrived_at.astimezone(tz).date()
    return LoadKey(day, call.unit, hour_of_week(call.arrived_at, tz))


def load_sums(call: CallFacts) -> LoadSums:
    """What one call adds to its load cell."""
    answered = call.outcome == ANSWERED
    talked = answered and call.talk_s is not None
    return LoadSums(
        calls=1,
        answered=int(answered),
        talked=int(talked),
        talk_s=int(call.talk_s or 0) if talked else 0,
        waited_s=int(call.wait_s or 0),
        abandoned=int(call.outcome in LOAD_OUTCOMES_ABANDONED),
    )


def loads_of(
    calls: Iterable[CallFacts], tz: ZoneInfo
) -> tuple[dict[LoadKey, LoadSums], set[AgentKey]]:
    """The load cells of ``calls`` with their sums, and the agent hours they mark."""
    loads: dict[LoadKey, LoadSums] = {}
    agents: set[AgentKey] = set()
    for call in calls:
        key = load_key(call, tz)
        if key is None:
            continue
        loads[key] = loads.get(key, LoadSums()).plus(load_sums(call))
        if call.outcome == ANSWERED and call.agent:
            agents.add(AgentKey(*key, call.agent))
    return loads, agents


def unit_of(stored: str) -> str | None:
    """The unit of a stored key: None for :data:`NO_UNIT`."""
    return None if stored == NO_UNIT else stored


def wait_of(stored: int) -> int | None:
    """The wait of a stored key: None for :data:`NO_WAIT`."""
    return None if stored == NO_WAIT else stored
