"""Asterisk's queue_log as a second witness: calls rebuilt from its events.

:mod:`phoneservice.pbx.queue_log` reads the lines into the domain's call events (the
vocabulary the AMI stream is translated into too); this folds them into calls. When the
AMI stream had a gap, the calls that ended inside it (or lived wholly inside it) are
recovered from here, so that no missed call is lost;
:mod:`phoneservice.domain.calls.reconcile` says which witness decides what when both saw
a call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from phoneservice.domain.calls.classify import CallFacts, IsOpen, classify, open_at_arrival
from phoneservice.domain.calls.events import (
    Abandoned,
    Completed,
    Connected,
    Joined,
    LeftUnanswered,
    QueueEvent,
    RingUnanswered,
    Rung,
    TimedOut,
)
from phoneservice.domain.calls.numbers import DEFAULT_REGION, as_received, caller_number
from phoneservice.domain.calls.records import (
    ABANDONED,
    ANSWERED,
    TIMEOUT,
    UNANSWERED,
    UNKNOWN,
    CallRecord,
    Segment,
    known_sum,
)

SOURCE_QUEUE_LOG = "queue_log"
_CHANNEL_AGE_MAX = timedelta(hours=1)  # a uniqueid's epoch older than this is not believed


@dataclass
class _Visit:
    """A queue visit being folded from queue_log lines."""

    queue: str
    joined: datetime
    outcome: str = UNKNOWN
    left: datetime | None = None
    wait_s: int | None = None
    talk_s: int | None = None
    agent: str | None = None
    rung: int = 0
    no_answers: int = 0
    finished: bool = False


@dataclass
class _Fold:
    """A call being folded: its caller and its visits."""

    callid: str
    caller: str | None
    visits: list[_Visit] = field(default_factory=list)
    last: datetime | None = None


class QueueLogCalls:
    """Rebuild call records from queue_log entries (source ``queue_log``)."""

    def __init__(
        self,
        *,
        pbx: str,
        unit_for_queue: Callable[[str], str | None],
        is_open: IsOpen,
        short_abandon_seconds: int,
        caller_region: str = DEFAULT_REGION,
    ) -> None:
        """Take the registry's answers as callables."""
        self.pbx = pbx
        self.unit_for_queue = unit_for_queue
        self.is_open = is_open
        self.short_abandon_seconds = short_abandon_seconds
        self.caller_region = caller_region

    def calls(self, events: Iterable[QueueEvent]) -> tuple[list[CallRecord], list[str]]:
        """Finished calls in order of arrival, and the callids still in progress."""
        folds: dict[str, _Fold] = {}
        for event in events:
            _apply(folds, event)
        done = [f for f in folds.values() if f.visits and all(v.finished for v in f.visits)]
        pending = [f.callid for f in folds.values() if f not in done]
        records = sorted((self._record(f) for f in done), key=lambda r: r.arrived_at)
        return records, pending

    def _record(self, fold: _Fold) -> CallRecord:
        """A finished fold as a call record, judged by the one classifier."""
        first, last = fold.visits[0], fold.visits[-1]
        unit = self.unit_for_queue(first.queue)
        segments = tuple(self._segment(v) for v in fold.visits)
        arrived = arrival(fold.callid, first.joined)
        # queue_log starts at the queue: the arrival is its channel's creation second, and a
        # finished fold's end was seen; it never holds the dialplan's hours decision.
        facts = CallFacts.of(segments, unit_open=open_at_arrival(unit, arrived, self.is_open))
        verdict = classify(facts, self.short_abandon_seconds)
        return CallRecord(
            pbx=self.pbx,
            uniqueid=fold.callid,
            linkedid=fold.callid,
            unit=unit,
            queue=first.queue,
            caller_number=caller_number(fold.caller, self.caller_region),
            caller_name=None,
            arrived_at=arrived,
            during_hours=verdict.during_hours,
            pbx_hours=None,
            hours_disagree=False,
            outcome=verdict.outcome,
            short_abandon=verdict.short_abandon,
            wait_s=facts.wait_s,
            ring_attempts=sum(v.rung for v in fold.visits),
            talk_s=known_sum(v.talk_s for v in fold.visits),
            agent=next((v.agent for v in reversed(fold.visits) if v.agent), None),
            ended_at=fold.last or last.joined,
            segments=segments,
            source=SOURCE_QUEUE_LOG,
            caller_raw=as_received(fold.caller),
        )

    def _segment(self, visit: _Visit) -> Segment:
        """A folded visit as a segment."""
        return Segment(
            visit.queue,
            self.unit_for_queue(visit.queue),
            visit.joined,
            visit.left,
            visit.outcome,
            visit.wait_s,
            visit.rung,
            visit.no_answers,
            visit.agent,
            visit.talk_s,
        )


def arrival(callid: str, joined: datetime) -> datetime:
    """When the caller's channel was made: the epoch Asterisk put in its uniqueid.

    A uniqueid reads ``[systemname-]epoch.sequence``, with the PBX's clock at the channel's
    creation, so it counts the time in the menu before the queue. One that does not read so,
    or lies after the join or more than an hour before it, gives the ENTERQUEUE second.
    """
    stamp = callid.rpartition("-")[2].partition(".")[0]
    if not stamp.isdigit():
        return joined
    created = datetime.fromtimestamp(int(stamp), UTC)
    return created if joined - _CHANNEL_AGE_MAX <= created <= joined else joined


def _apply(folds: dict[str, _Fold], event: QueueEvent) -> None:
    """Fold one event into its call."""
    at, callid = _at(event), event.channel.uniqueid
    if isinstance(event, Joined):
        fold = folds.setdefault(callid, _Fold(callid, event.channel.caller_number))
        fold.visits.append(_Visit(event.queue, at))
        fold.last = at
        return
    current = folds.get(callid)
    handler = _HANDLERS.get(type(event))
    if current is None or not current.visits or handler is None:
        return
    current.last = at
    handler(current.visits[-1], event, at)


def _at(event: QueueEvent) -> datetime:
    """The event's instant (queue_log states one on every line)."""
    if event.at is None:
        raise ValueError("a queue_log event without its instant")
    return event.at


def _rung(visit: _Visit, _event: QueueEvent, _at: datetime) -> None:
    """RINGCANCELED: an agent was rung and another one connected."""
    visit.rung += 1


def _ring_unanswered(visit: _Visit, _event: QueueEvent, _at: datetime) -> None:
    """RINGNOANSWER: an agent was rung and did not pick up."""
    visit.rung += 1
    visit.no_answers += 1


def _connect(visit: _Visit, event: QueueEvent, at: datetime) -> None:
    """CONNECT: answered by the agent after the hold time."""
    assert isinstance(event, Connected)
    visit.outcome, visit.agent, visit.wait_s = ANSWERED, event.agent, event.wait_s
    visit.rung += 1
    visit.left = at


def _complete(visit: _Visit, event: QueueEvent, _at: datetime) -> None:
    """COMPLETEAGENT / COMPLETECALLER / a transfer: the talk ended; the visit is finished."""
    assert isinstance(event, Completed)
    visit.talk_s, visit.finished = event.talk_s, True


def _end(visit: _Visit, event: QueueEvent, at: datetime) -> None:
    """ABANDON, EXITWITHTIMEOUT, EXITEMPTY, EXITWITHKEY: left without an agent."""
    assert isinstance(event, Abandoned | TimedOut | LeftUnanswered)
    visit.outcome, visit.wait_s = _ENDINGS[type(event)], event.wait_s
    visit.left, visit.finished = at, True


_ENDINGS: Mapping[type[QueueEvent], str] = {
    Abandoned: ABANDONED,
    TimedOut: TIMEOUT,
    LeftUnanswered: UNANSWERED,
}
_HANDLERS: Mapping[type[QueueEvent], Callable[[_Visit, QueueEvent, datetime], None]] = {
    Rung: _rung,
    RingUnanswered: _ring_unanswered,
    Connected: _connect,
    Completed: _complete,
    **{kind: _end for kind in _ENDINGS},
}
