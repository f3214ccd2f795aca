"""A call tracker: AMI events in, finished call records out.

Pure and synchronous: the adapter feeds it the headers of one AMI message at a time, in
stream order, and stores the :class:`CallRecord` values that come out. Time comes from
the events' ``Timestamp``; the registry's answers come in as plain callables.

A call is the citizen's inbound channel: the one that runs dialplan in an inbound
context, or the ``Uniqueid`` of ``QueueCallerJoin``. Event orders this relies on
(Asterisk 22, tests/data/ami-traces/README.md):

- ``QueueCallerLeave`` comes *before* ``AgentConnect`` for a connected caller and *after*
  ``QueueCallerAbandon`` for an abandon, so a visit is decided by the events around the
  leave and the call ends only with the ``Hangup`` of its inbound channel.
- ``AgentComplete`` (the talk time) may come around that ``Hangup``: an answered call
  waits for it, at most ``complete_grace_s`` of event time, before its record is emitted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import datetime, timedelta
from types import MappingProxyType

from phoneservice.domain.calls.amifields import (
    agent_of,
    clock_seconds,
    event_instant,
    is_outgoing_line,
    seconds,
)
from phoneservice.domain.calls.numbers import DEFAULT_REGION
from phoneservice.domain.calls.recorder import CallRecorder
from phoneservice.domain.calls.records import (
    ABANDONED,
    ANSWERED,
    LEFT,
    QUEUED,
    TIMEOUT,
    CallRecord,
    CallState,
    InFlightCall,
    SegmentState,
)
from phoneservice.domain.errors import DomainError, require_aware

_log = logging.getLogger(__name__)

Event = Mapping[str, str]
Handler = Callable[["CallTracker", Event, datetime], None]

_RECENT_MAX = 4096  # finished channel ids remembered, so a late event cannot revive a call
_MALFORMED = (AttributeError, KeyError, OverflowError, TypeError, ValueError)


class CallTracker:
    """Follows citizen calls through AMI events and emits each one once it has ended."""

    def __init__(
        self,
        *,
        pbx: str,
        unit_for_queue: Callable[[str], str | None],
        unit_for_did: Callable[[str], str | None],
        is_open: Callable[[str, datetime], bool],
        inbound_contexts: frozenset[str],
        hours_variable: str | None,
        short_abandon_seconds: int,
        complete_grace_s: float = 5.0,
        caller_region: str = DEFAULT_REGION,
    ) -> None:
        """Take the registry's answers as callables; reject bad settings at once."""
        _check_settings(pbx, inbound_contexts, short_abandon_seconds, complete_grace_s)
        self._recorder = CallRecorder(
            pbx, unit_for_queue, unit_for_did, is_open, short_abandon_seconds, caller_region
        )
        self._inbound = frozenset(inbound_contexts)
        self._hours_variable = hours_variable.lstrip("_") if hours_variable else None
        self._grace = timedelta(seconds=complete_grace_s)
        self._calls: dict[str, CallState] = {}  # inbound Uniqueid -> call
        self._channels: dict[str, CallState] = {}  # every channel of a call -> call
        self._by_linkedid: dict[str, set[str]] = {}  # Linkedid -> inbound Uniqueids
        self._closing: dict[str, CallState] = {}  # hung up, AgentComplete still due
        self._recent: dict[str, None] = {}  # insertion-ordered set, bounded
        self._finished: list[CallRecord] = []
        self._last: datetime | None = None
        self.rejected = 0

    # ----------------------------------------------------------------- public API

    def feed(self, event: Event, at: datetime | None = None) -> list[CallRecord]:
        """Apply one AMI event; return the calls that finished with it (usually none).

        ``at`` (when the adapter received the event) is used only when neither this
        event nor any earlier one carried a ``Timestamp``. A bad event is counted in
        :attr:`rejected`, logged and skipped: this never raises on event content.
        """
        now = self._clock(event, at)
        if now is not None:
            self._expire(now)
            self._apply(event, now)
        return self._drain()

    def in_flight(self) -> tuple[InFlightCall, ...]:
        """The calls not finished yet, in order of arrival."""
        calls = sorted(self._calls.values(), key=lambda call: call.arrived_at)
        return tuple(call.snapshot() for call in calls)

    def vanished(self, live: Collection[str], at: datetime) -> list[CallRecord]:
        """After a resync, finish every call whose inbound channel is not in ``live``.

        ``live`` holds the Uniqueids that CoreShowChannels listed. A vanished call keeps
        what was observed (a connected agent stays answered, an abandon stays abandoned);
        what is undecided becomes ``unknown``, ended at ``at``, so that a reconciliation
        source (queue_log) can still improve it, and no call is lost.
        """
        require_aware(at, "at")
        for call in list(self._calls.values()):
            if call.hungup_at is not None:
                self._finish(call, call.hungup_at, end_seen=True)
            elif call.uniqueid not in live:
                self._finish(call, at, end_seen=False)
        return self._drain()

    def take_over(self, answers: Iterable[Event], at: datetime) -> list[CallRecord]:
        """Apply a resync's answers (CoreShowChannel, QueueEntry) as of ``at``, when they came.

        Their ``Duration`` and ``Wait`` are the PBX's own clocks at that instant, so they
        count back from it, never from the last event seen before a gap.
        """
        require_aware(at, "at")
        for answer in answers:
            self._apply(answer, at)
        return self._drain()

    def queue_entered(self, uniqueid: str, queue: str, at: datetime) -> None:
        """queue_log's ENTERQUEUE for a call in flight: it times a visit whose join was missed."""
        call = self._calls.get(uniqueid)
        segment = call.visit(queue) if call is not None and queue else None
        if segment is not None and segment.guessed:
            segment.joined_at, segment.guessed = at, False

    def flush_unknown(self, at: datetime) -> list[CallRecord]:
        """End every call in flight (a gap nothing can reconcile); undecided ones are unknown."""
        return self.vanished(frozenset(), at)

    # ---------------------------------------------------------------- the handlers

    def on_newexten(self, event: Event, now: datetime) -> None:
        """A channel runs dialplan: in an inbound context, a citizen's call has arrived."""
        if self._is_inbound(event) and not is_outgoing_line(event):
            self._call(event, now, adopt=True)

    def on_var_set(self, event: Event, now: datetime) -> None:
        """Record the dialplan's hours decision (``hours_variable``) and a queue's timeout."""
        call = self._call(event, now)
        name = event.get("Variable", "").lstrip("_")
        if call is None:
            return
        if self._hours_variable and name == self._hours_variable:
            call.pbx_hours = event.get("Value") or None
        elif name == "QUEUESTATUS" and event.get("Value") == "TIMEOUT" and call.segments:
            _timed_out(call.segments[-1])

    def on_new_callerid(self, event: Event, now: datetime) -> None:
        """The caller ID of the inbound channel was set, changed or withheld."""
        call = self._call(event, now)
        if call is not None:
            call.remember_caller(event)

    def on_core_show_channel(self, event: Event, now: datetime) -> None:
        """A live channel listed at a resync: adopt an inbound call begun unseen.

        ``Duration`` counts from the channel's creation to ``now``; a channel in ``Queue()``
        is in a visit, and with a bridge it talks to an agent whose AgentConnect was missed.
        """
        if not self._is_inbound(event) or is_outgoing_line(event):
            return
        age = timedelta(seconds=clock_seconds(event.get("Duration")) or 0)
        call = self._call(event, now - age, adopt=True)
        if call is not None and event.get("Application") == "Queue":
            _take_over_visit(call, event, now)

    def on_queue_entry(self, event: Event, now: datetime) -> None:
        """A caller waiting at a resync (QueueStatus): it joined ``Wait`` seconds before ``now``."""
        call, wait = self._call(event, now), seconds(event.get("Wait"))
        if call is None or wait is None:
            return
        queue = event.get("Queue", "")
        segment = call.visit(queue)
        joined = now - timedelta(seconds=wait)
        if segment is None:
            call.segments.append(SegmentState(queue=queue, joined_at=joined))
        elif segment.guessed:
            segment.joined_at, segment.guessed = joined, False

    def on_queue_caller_join(self, event: Event, now: datetime) -> None:
        """The caller enters a queue: a new visit (after a transfer, the one before ends)."""
        call = self._queue_call(event, now)
        if call is None:
            return
        if call.segments:
            _close_visit(call.segments[-1], now)
        call.segments.append(SegmentState(queue=event.get("Queue", ""), joined_at=now))

    def on_agent_called(self, event: Event, now: datetime) -> None:
        """An agent is rung for the caller: one ring attempt."""
        segment = self._visit(event, now)
        if segment is not None:
            segment.ring_attempts += 1

    def on_agent_ring_no_answer(self, event: Event, now: datetime) -> None:
        """A rung agent did not pick up within the queue's ring timeout."""
        segment = self._visit(event, now)
        if segment is not None:
            segment.ring_no_answers += 1

    def on_queue_caller_abandon(self, event: Event, now: datetime) -> None:
        """The caller hung up while queued, after ``HoldTime`` seconds in the queue."""
        segment = self._visit(event, now)
        if segment is not None:
            segment.state, segment.left_at = ABANDONED, now
            segment.wait_s = seconds(event.get("HoldTime"))
            _time_join(segment, now, segment.wait_s)

    def on_queue_caller_leave(self, event: Event, now: datetime) -> None:
        """The caller left the queue; the AgentConnect after it, or the Hangup, tells why."""
        segment = self._visit(event, now)
        if segment is not None:
            segment.left_at = segment.left_at or now
            segment.state = LEFT if segment.state == QUEUED else segment.state

    def on_agent_connect(self, event: Event, now: datetime) -> None:
        """An agent answered after ``HoldTime`` seconds in the queue."""
        segment = self._visit(event, now)
        if segment is not None:
            segment.state, segment.left_at = ANSWERED, segment.left_at or now
            segment.wait_s = seconds(event.get("HoldTime"))
            segment.agent = agent_of(event)
            _time_join(segment, segment.left_at, segment.wait_s)

    def on_agent_complete(self, event: Event, now: datetime) -> None:
        """The talk ended: the talk time is final, and so is the call if it hung up."""
        segment = self._visit(event, now)
        if segment is None:
            return
        segment.state, segment.completed = ANSWERED, True
        segment.talk_s = seconds(event.get("TalkTime"))
        segment.wait_s = _first(segment.wait_s, seconds(event.get("HoldTime")))
        segment.agent = segment.agent or agent_of(event)
        if segment.left_at is None:  # the AgentConnect was missed: it came TalkTime ago
            segment.left_at = now - timedelta(seconds=segment.talk_s or 0)
        _time_join(segment, segment.left_at, segment.wait_s)
        self._finish_if_closing(event.get("Uniqueid", ""))

    def on_hangup(self, event: Event, now: datetime) -> None:
        """The inbound channel hung up: the call ends, unless its talk time is still due."""
        call = self._channels.get(event.get("Uniqueid", ""))
        if call is None or call.uniqueid != event.get("Uniqueid"):
            return  # another leg of the call (agent, handset, local queue channel)
        call.hungup_at = now
        if call.awaiting_complete():
            self._closing[call.uniqueid] = call
        else:
            self._finish(call, now, end_seen=True)

    # ------------------------------------------------------------------ internals

    def _clock(self, event: Event, at: datetime | None) -> datetime | None:
        """The event's instant: its Timestamp, else the last one seen, else ``at``."""
        stamp = event_instant(event)
        if stamp is not None:
            self._last = stamp
            return stamp
        if at is not None:
            require_aware(at, "at")
        return self._last or at

    def _apply(self, event: Event, now: datetime) -> None:
        """Run the event's handler; a malformed event is counted, logged and skipped."""
        try:
            handler = HANDLERS.get(event.get("Event", ""))
            if handler is not None:
                handler(self, event, now)
        except _MALFORMED:
            self.rejected += 1
            _log.warning("skipped a malformed AMI event %r", event.get("Event"), exc_info=True)

    def _drain(self) -> list[CallRecord]:
        """Hand out the records finished so far."""
        finished, self._finished = self._finished, []
        return finished

    def _is_inbound(self, event: Event) -> bool:
        """Whether the event's channel is in one of the inbound contexts."""
        return event.get("Context", "") in self._inbound

    def _call(self, event: Event, now: datetime, *, adopt: bool = False) -> CallState | None:
        """The call of the event's channel; with ``adopt``, start one for an unseen channel."""
        uid = event.get("Uniqueid", "")
        call = self._channels.get(uid)
        if call is not None or not adopt or not uid or uid in self._recent:
            return call
        return self._start(uid, event, now)

    def _start(self, uid: str, event: Event, now: datetime) -> CallState:
        """Begin following a citizen's inbound channel."""
        did = (event.get("Exten") or None) if self._is_inbound(event) else None
        call = CallState(uniqueid=uid, linkedid=event.get("Linkedid") or uid, arrived_at=now)
        call.did, call.channels = did, {uid}
        call.remember_caller(event)
        self._calls[uid] = self._channels[uid] = call
        self._by_linkedid.setdefault(call.linkedid, set()).add(uid)
        return call

    def _queue_call(self, event: Event, now: datetime) -> CallState | None:
        """The call a Queue*/Agent* event is about (its Uniqueid is the queue caller)."""
        known = self._call(event, now) or self._linked_call(event)
        return known or self._call(event, now, adopt=True)

    def _linked_call(self, event: Event) -> CallState | None:
        """The call of another channel in the queue: a Local queue leg, an attended transfer."""
        uid = event.get("Uniqueid", "")
        linked = self._by_linkedid.get(event.get("Linkedid", ""), set())
        if len(linked) != 1 or not uid or uid in self._recent:
            return None
        call = self._calls[next(iter(linked))]
        call.channels.add(uid)
        self._channels[uid] = call
        return call

    def _visit(self, event: Event, now: datetime) -> SegmentState | None:
        """The caller's visit to the event's queue, opened here if it began unseen."""
        call = self._queue_call(event, now)
        if call is None:
            return None
        segment = call.visit(event.get("Queue", ""))
        if segment is None:  # the join was missed: ``now`` stands in until HoldTime tells
            segment = SegmentState(queue=event.get("Queue", ""), joined_at=now, guessed=True)
            call.segments.append(segment)
        return segment

    def _finish_if_closing(self, uid: str) -> None:
        """Finish a hung-up answered call once its AgentComplete has come."""
        call = self._channels.get(uid)
        if call is not None and call.hungup_at is not None and not call.awaiting_complete():
            self._finish(call, call.hungup_at, end_seen=True)

    def _expire(self, now: datetime) -> None:
        """Finish hung-up calls whose AgentComplete did not come within the grace."""
        for call in list(self._closing.values()):
            if call.hungup_at is not None and now - call.hungup_at > self._grace:
                self._finish(call, call.hungup_at, end_seen=True)

    def _finish(self, call: CallState, ended_at: datetime, *, end_seen: bool) -> None:
        """Freeze the call into its record and forget its state."""
        self._finished.append(self._recorder.record(call, ended_at, end_seen=end_seen))
        self._forget(call)

    def _forget(self, call: CallState) -> None:
        """Drop every trace of a finished call but its channel ids (against late events)."""
        del self._calls[call.uniqueid]
        self._closing.pop(call.uniqueid, None)
        linked = self._by_linkedid.get(call.linkedid, set())
        linked.discard(call.uniqueid)
        if not linked:
            self._by_linkedid.pop(call.linkedid, None)
        for uid in call.channels:
            self._channels.pop(uid, None)
            self._recent[uid] = None
        while len(self._recent) > _RECENT_MAX:
            del self._recent[next(iter(self._recent))]


HANDLERS: Mapping[str, Handler] = MappingProxyType(
    {
        # Everything else is ignored: Cdr and CEL are not outcomes, OriginateResponse and
        # SuccessfulAuth come from other clients, Dial*/Bridge*/QueueMember* add nothing.
        "Newexten": CallTracker.on_newexten,
        "VarSet": CallTracker.on_var_set,
        "NewCallerid": CallTracker.on_new_callerid,
        "CoreShowChannel": CallTracker.on_core_show_channel,
        "QueueEntry": CallTracker.on_queue_entry,
        "QueueCallerJoin": CallTracker.on_queue_caller_join,
        "AgentCalled": CallTracker.on_agent_called,
        "AgentRingNoAnswer": CallTracker.on_agent_ring_no_answer,
        "QueueCallerAbandon": CallTracker.on_queue_caller_abandon,
        "QueueCallerLeave": CallTracker.on_queue_caller_leave,
        "AgentConnect": CallTracker.on_agent_connect,
        "AgentComplete": CallTracker.on_agent_complete,
        "Hangup": CallTracker.on_hangup,
    }
)


def _check_settings(
    pbx: str, inbound_contexts: frozenset[str], short_abandon_seconds: int, grace: float
) -> None:
    """Reject settings that would make the tracker silently wrong, naming every culprit."""
    problems = []
    if not isinstance(pbx, str) or not pbx.strip():
        problems.append(f"pbx must name the PBX, got {pbx!r}")
    if isinstance(inbound_contexts, str) or not inbound_contexts:
        problems.append(f"inbound_contexts must be a non-empty set, got {inbound_contexts!r}")
    if short_abandon_seconds < 0:
        problems.append(f"short_abandon_seconds must be >= 0, got {short_abandon_seconds!r}")
    if grace < 0:
        problems.append(f"complete_grace_s must be >= 0, got {grace!r}")
    if problems:
        raise DomainError("; ".join(problems))


def _timed_out(segment: SegmentState) -> None:
    """Queue() gave up on the caller: the abandon AMI reported first was a timeout.

    Asterisk 22 sends ``QueueCallerAbandon`` for a queue's max wait as for a real abandon;
    only the ``QUEUESTATUS=TIMEOUT`` after it, on a channel still up, tells them apart
    (queue_log writes ``EXITWITHTIMEOUT``; the lab's k-queue-timeout recording shows it).
    """
    if segment.state in (ABANDONED, LEFT):
        segment.state = TIMEOUT


def _take_over_visit(call: CallState, channel: Event, now: datetime) -> None:
    """A visit in progress at a resync; a bridged one was answered while unseen.

    Its join stands in as ``now`` until QueueEntry ``Wait`` or a ``HoldTime`` tells; the
    connect time of a bridged visit comes from its AgentComplete (``TalkTime`` before it).
    """
    queue = channel.get("ApplicationData", "").split(",")[0].strip()
    segment = call.visit(queue) if queue else None
    if segment is None and queue:
        segment = SegmentState(queue=queue, joined_at=now, guessed=True)
        call.segments.append(segment)
    if segment is not None and channel.get("BridgeId") and segment.state in (QUEUED, LEFT):
        segment.state = ANSWERED


def _time_join(segment: SegmentState, left_at: datetime | None, wait: int | None) -> None:
    """A guessed join, timed by the PBX: the visit ended ``wait`` seconds after it began."""
    if segment.guessed and left_at is not None and wait is not None:
        segment.joined_at, segment.guessed = left_at - timedelta(seconds=wait), False


def _close_visit(segment: SegmentState, now: datetime) -> None:
    """End a visit because the call moved on to another queue: unanswered, the queue gave up."""
    segment.left_at = segment.left_at or now
    if segment.state in (QUEUED, LEFT):
        segment.state = TIMEOUT


def _first(*values: int | None) -> int | None:
    """The first value that is not None."""
    return next((value for value in values if value is not None), None)
