"""Asterisk's queue_log as a second witness: calls rebuilt from it.

Lines are ``epoch|callid|queue|agent|event|data...``. When the AMI stream had a gap, the
calls that ended inside it (or lived wholly inside it) are recovered from here, so that
no missed call is lost; :mod:`phoneservice.domain.calls.reconcile` says which witness
decides what when both saw a call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from phoneservice.domain.calls.classify import CallFacts, IsOpen, classify, open_at_arrival
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

# event → (outcome, index of the wait in the data fields)
_ENDINGS: Mapping[str, tuple[str, int]] = {
    "ABANDON": (ABANDONED, 2),
    "EXITWITHTIMEOUT": (TIMEOUT, 2),
    "EXITEMPTY": (UNANSWERED, 2),
    "EXITWITHKEY": (UNANSWERED, 3),
}
_COMPLETE = frozenset({"COMPLETEAGENT", "COMPLETECALLER"})
_TRANSFERS = frozenset({"TRANSFER", "BLINDTRANSFER", "ATTENDEDTRANSFER"})


@dataclass(frozen=True, slots=True)
class QueueLogEntry:
    """One queue_log line."""

    epoch: int
    callid: str
    queue: str
    agent: str
    event: str
    data: tuple[str, ...]

    @property
    def at(self) -> datetime:
        """The line's instant."""
        return datetime.fromtimestamp(self.epoch, UTC)

    def field(self, index: int) -> int | None:
        """A data field as a whole number, or None."""
        try:
            return int(self.data[index])
        except (IndexError, ValueError):
            return None


def parse_queue_log(lines: Iterable[str]) -> tuple[list[QueueLogEntry], int]:
    """The readable entries of queue_log text, and how many lines could not be read."""
    entries, bad = [], 0
    for line in lines:
        entry = parse_line(line)
        if entry is not None:
            entries.append(entry)
        elif line.strip():
            bad += 1
    return entries, bad


def parse_line(line: str) -> QueueLogEntry | None:
    """One line, or None when it is not a queue_log line."""
    parts = line.rstrip("\r\n").split("|")
    if len(parts) < 5 or not parts[0].isdigit():
        return None
    epoch, callid, queue, agent, event, *data = parts
    return QueueLogEntry(int(epoch), callid, queue, agent, event, tuple(data))


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

    def calls(self, entries: Iterable[QueueLogEntry]) -> tuple[list[CallRecord], list[str]]:
        """Finished calls in order of arrival, and the callids still in progress."""
        folds: dict[str, _Fold] = {}
        for entry in entries:
            if entry.callid != "NONE":
                _apply(folds, entry)
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


def _apply(folds: dict[str, _Fold], entry: QueueLogEntry) -> None:
    """Fold one line into its call."""
    if entry.event == "ENTERQUEUE":
        fold = folds.setdefault(entry.callid, _Fold(entry.callid, _data(entry, 1)))
        fold.visits.append(_Visit(entry.queue, entry.at))
        fold.last = entry.at
        return
    current = folds.get(entry.callid)
    if current is None or not current.visits:
        return
    current.last = entry.at
    _HANDLERS.get(entry.event, _ignore)(current.visits[-1], entry)


def _ring(visit: _Visit, entry: QueueLogEntry) -> None:
    """RINGNOANSWER / RINGCANCELED: an agent was rung and did not connect."""
    visit.rung += 1
    visit.no_answers += entry.event == "RINGNOANSWER"


def _connect(visit: _Visit, entry: QueueLogEntry) -> None:
    """CONNECT: answered by ``agent`` after ``holdtime``."""
    visit.outcome, visit.agent, visit.wait_s = ANSWERED, entry.agent, entry.field(0)
    visit.rung += 1
    visit.left = entry.at


def _complete(visit: _Visit, entry: QueueLogEntry) -> None:
    """COMPLETEAGENT / COMPLETECALLER: the talk ended; the visit is finished."""
    visit.talk_s, visit.finished = entry.field(1), True


def _transfer(visit: _Visit, entry: QueueLogEntry) -> None:
    """A transfer ends the answered visit; the talk time is the fourth field."""
    visit.talk_s, visit.finished = entry.field(3), True


def _end(visit: _Visit, entry: QueueLogEntry) -> None:
    """ABANDON, EXITWITHTIMEOUT, EXITEMPTY, EXITWITHKEY: left without an agent."""
    outcome, wait_index = _ENDINGS[entry.event]
    visit.outcome, visit.wait_s = outcome, entry.field(wait_index)
    visit.left, visit.finished = entry.at, True


def _ignore(_visit: _Visit, _entry: QueueLogEntry) -> None:
    """Lines that do not change a call's record."""


_HANDLERS: Mapping[str, Callable[[_Visit, QueueLogEntry], None]] = {
    "RINGNOANSWER": _ring,
    "RINGCANCELED": _ring,
    "CONNECT": _connect,
    **{name: _complete for name in _COMPLETE},
    **{name: _transfer for name in _TRANSFERS},
    **{name: _end for name in _ENDINGS},
}


def _data(entry: QueueLogEntry, index: int) -> str | None:
    """A data field as text, or None."""
    return entry.data[index] if len(entry.data) > index and entry.data[index] else None
