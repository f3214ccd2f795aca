"""The AMI witness's record of a finished call: its facts, judged by the one classifier.

The tracker hands over the :class:`CallState` it followed; this looks up the unit, asks
the registry about phone hours at arrival, and leaves outcome, ``during_hours`` and
``short_abandon`` to :func:`phoneservice.domain.calls.classify.classify`, as the queue_log
rebuild does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from phoneservice.domain.calls.classify import (
    CallFacts,
    IsOpen,
    classify,
    open_at_arrival,
    pbx_says_open,
)
from phoneservice.domain.calls.numbers import DEFAULT_REGION, caller_number
from phoneservice.domain.calls.records import CallRecord, CallState, Segment, known_sum


@dataclass(frozen=True, slots=True)
class CallRecorder:
    """Turns a finished call the tracker followed into its record, with the registry's answers."""

    pbx: str
    unit_for_queue: Callable[[str], str | None]
    unit_for_did: Callable[[str], str | None]
    is_open: IsOpen
    short_abandon_seconds: int
    region: str = DEFAULT_REGION  # where national caller numbers are read

    def unit_of(self, call: CallState, queue: str) -> str | None:
        """The unit by queue name, else by the DID the call came in on."""
        by_queue = self.unit_for_queue(queue) if queue else None
        return by_queue or (self.unit_for_did(call.did) if call.did else None)

    def record(self, call: CallState, ended_at: datetime, *, end_seen: bool) -> CallRecord:
        """The finished call: unit of its first visit, outcome of its last, hours at arrival."""
        segments = tuple(s.freeze(self.unit_of(call, s.queue), end_seen) for s in call.segments)
        unit = segments[0].unit if segments else self.unit_of(call, "")
        says_open = pbx_says_open(call.pbx_hours)
        facts = CallFacts.of(
            segments,
            unit_open=open_at_arrival(unit, call.arrived_at, self.is_open),
            end_seen=end_seen,
            pbx_closed=says_open is False,
        )
        verdict = classify(facts, self.short_abandon_seconds)
        return CallRecord(
            pbx=self.pbx,
            uniqueid=call.uniqueid,
            linkedid=call.linkedid,
            unit=unit,
            queue=segments[0].queue if segments else None,
            caller_number=caller_number(call.caller_raw, self.region),
            caller_name=call.caller_name,
            arrived_at=call.arrived_at,
            during_hours=verdict.during_hours,
            pbx_hours=call.pbx_hours,
            hours_disagree=_disagree(unit, says_open, verdict.during_hours),
            outcome=verdict.outcome,
            short_abandon=verdict.short_abandon,
            wait_s=facts.wait_s,
            ring_attempts=sum(segment.ring_attempts for segment in segments),
            talk_s=known_sum(segment.talk_s for segment in segments),
            agent=_last_agent(segments),
            ended_at=ended_at,
            segments=segments,
            caller_raw=call.caller_raw,
        )


def _disagree(unit: str | None, pbx_says: bool | None, during_hours: bool) -> bool:
    """Whether the dialplan's hours decision differs from the registry's for a known unit."""
    return unit is not None and pbx_says is not None and pbx_says != during_hours


def _last_agent(segments: tuple[Segment, ...]) -> str | None:
    """The agent of the last visit that reached one."""
    return next((s.agent for s in reversed(segments) if s.agent), None)
