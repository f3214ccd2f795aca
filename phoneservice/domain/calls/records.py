"""Finished call records, the state of a call in flight, and the pure helpers that fill them.

The tracker in :mod:`phoneservice.domain.calls.tracker` keeps one :class:`CallState` per call in
flight; when the call ends, it turns it into a :class:`CallRecord` (SPEC §5.1), whose
outcome and hours come from :mod:`phoneservice.domain.calls.classify`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from phoneservice.domain.calls.events import Channel
from phoneservice.domain.calls.numbers import as_received

ANSWERED = "answered"
ABANDONED = "abandoned"
TIMEOUT = "timeout"
CLOSED = "closed"
UNANSWERED = "unanswered"
UNKNOWN = "unknown"
OUTCOMES = (ANSWERED, ABANDONED, TIMEOUT, CLOSED, UNANSWERED, UNKNOWN)

# States of a queue visit that are not outcomes yet.
QUEUED = "queued"  # in the queue
LEFT = "left"  # QueueCallerLeave seen; an AgentConnect may still follow it

SOURCE_AMI = "ami"


@dataclass(frozen=True, slots=True)
class Segment:
    """One visit of a call to one queue (a transferred call has several)."""

    queue: str
    unit: str | None
    joined_at: datetime
    left_at: datetime | None
    outcome: str
    wait_s: int | None
    ring_attempts: int
    ring_no_answers: int
    agent: str | None
    talk_s: int | None = None


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One finished citizen call, as SPEC §5.1 logs it."""

    pbx: str
    uniqueid: str
    linkedid: str
    unit: str | None
    queue: str | None
    caller_number: str | None
    caller_name: str | None
    arrived_at: datetime
    during_hours: bool
    pbx_hours: str | None
    hours_disagree: bool
    outcome: str
    short_abandon: bool
    wait_s: int | None
    ring_attempts: int
    talk_s: int | None
    agent: str | None
    ended_at: datetime
    segments: tuple[Segment, ...]
    source: str = SOURCE_AMI
    caller_raw: str | None = None  # the CallerIDNum as received (SPEC §13)


@dataclass(frozen=True, slots=True)
class InFlightCall:
    """A call that has not finished yet, as the tracker sees it now."""

    uniqueid: str
    linkedid: str
    arrived_at: datetime
    queue: str | None


@dataclass(slots=True)
class SegmentState:
    """A queue visit being observed; mutable until the call ends."""

    queue: str
    joined_at: datetime
    state: str = QUEUED
    left_at: datetime | None = None
    wait_s: int | None = None
    ring_attempts: int = 0
    ring_no_answers: int = 0
    agent: str | None = None
    talk_s: int | None = None
    completed: bool = False
    guessed: bool = False  # joined_at is a stand-in until a PBX clock (Wait, HoldTime) tells

    def outcome(self, end_seen: bool) -> str:
        """The visit's outcome: leaving without agent or abandon is the queue giving up."""
        if self.state == LEFT:
            return TIMEOUT if end_seen else UNKNOWN
        return UNKNOWN if self.state == QUEUED else self.state

    def freeze(self, unit: str | None, end_seen: bool) -> Segment:
        """The finished visit."""
        outcome = self.outcome(end_seen)
        wait = self.wait_s
        if wait is None and outcome == TIMEOUT and self.left_at is not None:
            wait = whole_seconds(self.left_at, self.joined_at)
        return Segment(
            queue=self.queue,
            unit=unit,
            joined_at=self.joined_at,
            left_at=self.left_at,
            outcome=outcome,
            wait_s=wait,
            ring_attempts=self.ring_attempts,
            ring_no_answers=self.ring_no_answers,
            agent=self.agent,
            talk_s=self.talk_s,
        )


@dataclass(slots=True)
class CallState:
    """A citizen call in flight: its inbound channel and what has been seen of it."""

    uniqueid: str
    linkedid: str
    arrived_at: datetime
    did: str | None = None
    caller_raw: str | None = None  # the CallerIDNum; the record reads its E.164 form
    caller_name: str | None = None
    pbx_hours: str | None = None
    segments: list[SegmentState] = field(default_factory=list)
    channels: set[str] = field(default_factory=set)
    hungup_at: datetime | None = None

    def visit(self, queue: str) -> SegmentState | None:
        """The latest visit to ``queue`` (any queue when the event names none)."""
        for segment in reversed(self.segments):
            if not queue or segment.queue == queue:
                return segment
        return None

    def awaiting_complete(self) -> bool:
        """Whether an agent is connected and AgentComplete (the talk time) is still due."""
        return bool(self.segments) and (
            self.segments[-1].state == ANSWERED and not self.segments[-1].completed
        )

    def snapshot(self) -> InFlightCall:
        """What the outside may see of the call while it is in flight."""
        queue = self.segments[-1].queue if self.segments else None
        return InFlightCall(self.uniqueid, self.linkedid, self.arrived_at, queue)

    def remember_caller(self, channel: Channel) -> None:
        """Take the caller's number and name as an event of the inbound channel shows them."""
        if channel.withheld:
            self.caller_raw = self.caller_name = None
            return
        self.caller_raw = as_received(channel.caller_number) or self.caller_raw
        self.caller_name = channel.caller_name or self.caller_name


def whole_seconds(later: datetime, earlier: datetime) -> int:
    """Whole seconds between two instants, never negative."""
    return max(0, round((later - earlier).total_seconds()))


def known_sum(values: Iterable[int | None]) -> int | None:
    """The sum of the known values, or None when none is known."""
    known = [value for value in values if value is not None]
    return sum(known) if known else None
