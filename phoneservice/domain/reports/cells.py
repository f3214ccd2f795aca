"""What storage hands over for a report: *cells*, how many calls (or callbacks) share one
combination of the inputs of every figure (unit, outcome, wait in whole seconds, hour of
week, ...). One SQL pass per table serves every figure, and percentiles are exact
without sending single calls over the wire.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# Callback states as the report counts them; their sum is the number created.
CALLBACK_STATUSES = ("on_time", "late", "overdue", "pending", "unreachable", "cancelled")
ALL_UNITS = "*"  # the key of a figure over every unit: no unit id can be "*"


@dataclass(frozen=True, slots=True)
class CallCell:
    """How many calls of one period and unit share these inputs of the figures."""

    period: int
    unit: str | None
    outcome: str
    short_abandon: bool
    during_hours: bool
    wait_s: int | None  # answered calls only
    count: int


@dataclass(frozen=True, slots=True)
class HourCell:
    """How many calls of one period and unit arrived outside phone hours in one hour of week."""

    period: int
    unit: str | None
    hour_of_week: int  # local time: 0 is Monday 00:00-01:00
    count: int


@dataclass(frozen=True, slots=True)
class WithheldCell:
    """How many missed calls of one period, unit and outcome came from a withheld number."""

    period: int
    unit: str | None
    outcome: str
    count: int


@dataclass(frozen=True, slots=True)
class CallbackCell:
    """The callbacks of one period and unit, counted per report status."""

    period: int
    unit: str
    statuses: Mapping[str, int]  # keys: CALLBACK_STATUSES
    acknowledged: int  # how many have a time to acknowledge


@dataclass(frozen=True, slots=True)
class ReportData:
    """What storage found for a report: the cells, and the median time to acknowledge
    per ``(period, unit)``: a period of None is the whole range, the unit ALL_UNITS all.
    """

    calls: Sequence[CallCell]
    closed_hours: Sequence[HourCell]
    withheld: Sequence[WithheldCell]
    callbacks: Sequence[CallbackCell]
    ack_medians: Mapping[tuple[int | None, str], float]
