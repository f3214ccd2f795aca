"""What an evaluation holds: per unit and in total, each goal against two periods.

Built by :func:`phoneservice.domain.evaluation.evaluate.evaluate` from two reports (the
period split by month, and the previous period of the same length) and the staffing
cells; every door (page, PDF, JSON, command line) shows these values and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

# The goals in the order they are shown; shares are 0-1, the wait is in seconds.
GOAL_KEYS = ("answer_rate", "service_level", "acknowledged_on_time", "max_wait_p90_seconds")
SHARE_GOALS = frozenset({"answer_rate", "service_level", "acknowledged_on_time"})


@dataclass(frozen=True, slots=True)
class Goals:
    """The targets of one unit (None: no goal set for that figure)."""

    answer_rate: float | None = None
    service_level: float | None = None
    acknowledged_on_time: float | None = None
    max_wait_p90_seconds: int | None = None

    def target(self, key: str) -> float | None:
        """The target of the goal ``key`` (one of :data:`GOAL_KEYS`)."""
        value: float | None = getattr(self, key)
        return value


NO_GOALS = Goals()  # a unit (or registry) without any goal


@dataclass(frozen=True, slots=True)
class Figure:
    """One figure of one period: its value, how many calls or tasks it rests on, and for a
    share over few of them the 95 % interval (Wilson) it is known within.
    """

    value: float | None  # None: nothing to compute it from
    basis: int  # calls (or callback tasks) in the denominator
    low: float | None = None  # only for shares over fewer than CONFIDENT_FROM
    high: float | None = None


@dataclass(frozen=True, slots=True)
class GoalResult:
    """One goal of one unit: target, this period, the previous one, and whether it was met."""

    key: str  # one of GOAL_KEYS
    target: float | None
    this: Figure
    previous: Figure
    met: bool | None  # None: no target, or no figure this period
    uncertain: bool  # the interval straddles the target: too few calls to say


@dataclass(frozen=True, slots=True)
class Month:
    """One month of the trend (the part of it inside the period)."""

    first: date
    last: date
    calls: int
    answer_rate: float | None
    service_level: float | None
    acknowledged_on_time: float | None
    wait_p90_s: float | None


@dataclass(frozen=True, slots=True)
class DemandHour:
    """Calls outside phone hours in one local hour of the week, and per year."""

    hour_of_week: int  # 0 is Monday 00:00-01:00
    calls: int
    per_year: float


@dataclass(frozen=True, slots=True)
class CallbackSummary:
    """The callback tasks of the period."""

    created: int
    on_time: int
    late: int
    unreachable: int
    open: int  # overdue and pending at the time of the evaluation
    ack_median_s: float | None


@dataclass(frozen=True, slots=True)
class StaffingHour:
    """One hour of the week of one unit: the load measured, and the agents it takes."""

    hour_of_week: int
    hours: int  # concrete hours of the period with calls in phone hours at this hour
    arrivals_per_hour: float
    handling_s: float | None  # mean talk time of the answered calls
    patience_s: float | None  # mean patience estimated from the abandons (Erlang A)
    needed_erlang_c: int | None  # agents for the service-level goal, Erlang C
    needed_erlang_a: int | None  # the same with abandons (None without a patience)
    seen: float  # agents seen answering, mean over the concrete hours


@dataclass(frozen=True, slots=True)
class UnitEvaluation:
    """One unit (or the total, unit None) of an evaluation."""

    unit: str | None
    name: str
    threshold_s: int | None
    calls: int
    previous_calls: int
    goals: tuple[GoalResult, ...]  # in GOAL_KEYS order, those with a target or a figure
    trend: tuple[Month, ...]
    outside_hours: tuple[int, ...]  # calls outside phone hours by hour of week (168)
    top_hours: tuple[DemandHour, ...]  # the three hours that would catch most calls
    callbacks: CallbackSummary
    staffing: tuple[StaffingHour, ...]  # empty on the total


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The whole evaluation of ``first``-``last`` against ``previous_first``-``previous_last``."""

    municipality: str
    first: date
    last: date
    previous_first: date
    previous_last: date
    generated_at: datetime
    units: tuple[UnitEvaluation, ...]
    total: UnitEvaluation


@dataclass(frozen=True, slots=True)
class LoadCell:
    """The queued calls in phone hours of one unit at one local hour of the week, summed
    over a range of days (from the staffing roll-up); the input of the staffing table.
    """

    unit: str
    hour_of_week: int
    hours: int  # concrete local hours (date and hour) with a call in phone hours
    calls: int  # calls in phone hours that reached the unit
    answered: int
    talked: int  # answered calls with a known talk time
    talk_s: int  # their talk time, summed
    waited_s: int  # the wait in the queue of every call counted, answered or not, summed
    abandoned: int  # calls that left the queue before an answer (abandoned, timeout)
    agent_hours: int  # (concrete hour, agent) pairs in which the agent answered a call
