"""The daily roll-up of closed callbacks (SPEC §7): each closed task as the cell it counts in.

A closed task's report status and time to acknowledge never change with time, so they
are counted per *callback cell*: the local date of the task's first missed call, its
unit, its final status (on time, late, unreachable, cancelled) and the bucket of its time
to acknowledge (:mod:`phoneservice.domain.reports.buckets`). An open task is overdue or
pending depending on when the report is made, so open tasks are never rolled up: the
report counts them from ``callbacks`` directly.

Acknowledged means: the first real attempt to call the citizen (one with an outcome) or
the closing, whichever came first; the purge closing an expired task acknowledges
nothing, only its attempts do. The time counts whole seconds: the floor of each instant's
epoch second, as the report's SQL always has.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime
from typing import NamedTuple, Protocol
from zoneinfo import ZoneInfo

from phoneservice.domain.callbacks.rules import CANCELLED, DONE, EXPIRED, OPEN, UNREACHABLE
from phoneservice.domain.reports.buckets import bucket_of

ON_TIME, LATE = "on_time", "late"
FINAL_STATUSES = (ON_TIME, LATE, UNREACHABLE, CANCELLED)


class CallbackFacts(Protocol):
    """What the roll-up reads of a task: its row and its first real attempt."""

    @property
    def unit(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def first_call_at(self) -> datetime: ...
    @property
    def due_at(self) -> datetime: ...
    @property
    def closed_at(self) -> datetime | None: ...
    @property
    def resolution(self) -> str | None: ...
    @property
    def attempted_at(self) -> datetime | None: ...


class CallbackKey(NamedTuple):
    """The key of a callback cell, in the roll-up's column order."""

    day: date
    unit: str
    status: str
    ack_bucket: int


def final_status(task: CallbackFacts) -> str | None:
    """The report status of a closed task; None for an open one."""
    if task.state == OPEN:
        return None
    if task.state == DONE:
        closed = task.closed_at
        return ON_TIME if closed is not None and closed <= task.due_at else LATE
    return task.state


def acknowledged_at(task: CallbackFacts) -> datetime | None:
    """The first real attempt or the closing, whichever came first (expiry is no closing)."""
    closed = None if task.resolution == EXPIRED else task.closed_at
    found = [at for at in (task.attempted_at, closed) if at is not None]
    return min(found) if found else None


def seconds_to_acknowledge(task: CallbackFacts) -> int | None:
    """Whole seconds from the first missed call to the acknowledgement; None if none."""
    ack = acknowledged_at(task)
    if ack is None:
        return None
    return math.floor(ack.timestamp()) - math.floor(task.first_call_at.timestamp())


def callback_key(task: CallbackFacts, tz: ZoneInfo) -> CallbackKey | None:
    """The cell a closed task counts in; None for an open task (never rolled up)."""
    status = final_status(task)
    if status is None:
        return None
    day = task.first_call_at.astimezone(tz).date()
    return CallbackKey(day, task.unit, status, bucket_of(seconds_to_acknowledge(task)))


def callbacks_rolled_up(tasks: Iterable[CallbackFacts], tz: ZoneInfo) -> Counter[CallbackKey]:
    """How many of the closed ``tasks`` fall in each callback cell."""
    found = Counter[CallbackKey]()
    for task in tasks:
        if (key := callback_key(task, tz)) is not None:
            found[key] += 1
    return found
