"""A call tracker: the live stream's call events in, finished call records out.

Pure and synchronous: the call log feeds it one domain event at a time (translated from
the AMI stream by :mod:`phoneservice.pbx.translate`), in stream order, and stores the
:class:`CallRecord` values that come out. Time comes from the events' own instants; the
registry's answers come in as plain callables.

A call is the citizen's inbound channel: the one that runs dialplan in an inbound
context, or the channel that joins a queue. Event orders this relies on (Asterisk 22,
tests/data/ami-traces/README.md):

- :class:`Left` comes *before* :class:`Connected` for a connected caller and *after*
  :class:`Abandoned` for an abandon, so a visit is decided by the events around the
  leave and the call ends only with the hang-up of its inbound channel.
- :class:`Completed` (the talk time) may come around that hang-up: an answered call
  waits for it, at most ``complete_grace_s`` of event time, before its record is emitted.
- A queue's timeout is reported as :class:`Abandoned` first, then :class:`TimedOut`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from phoneservice.domain.calls.events import (
    Abandoned,
    CallerIdentified,
    CallEvent,
    Channel,
    ChannelListed,
    Completed,
    Connected,
    DialplanEntered,
    HoursDecided,
    HungUp,
    Joined,
    Left,
    QueueEntryListed,
    QueueEvent,
    RingUnanswered,
    Rung,
    TimedOut,
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

Handler = Callable[["CallTracker", Any, datetime], None]

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

    def feed(self, event: CallEvent, at: datetime | None = None) -> list[CallRecord]:
        """Apply one event; return the calls that finished with it (usually none).

        ``at`` (when the adapter received the event) is used only when neither this
        event nor any earlier one stated its instant. A bad event is counted in
        :attr:`rejected`, logged and skipped: this never raises on event content.
        """
        now = self._clock(event, at)
        if now is not None:
            self._expire(now)
            self._apply(event, now)
        return self._drain()

    def waiting(self) -> bool:
        """Whether a hung-up call waits for its talk time (time alone may finish it)."""
        return bool(self._closing)

    def advance(self, now: datetime) -> list[CallRecord]:
        """Time passed on the PBX (a message that told no call anything): expire the waits."""
        require_aware(now, "now")
        self._last = now
        self._expire(now)
        return self._drain()

    def in_flight(self) -> tuple[InFlightCall, ...]:
        """The calls not finished yet, in order of arrival."""
        calls = sorted(self._calls.values(), key=lambda call: call.arrived_at)
        return tuple(call.snapshot() for call in calls)

    def vanished(self, live: Collection[str], at: datetime) -> list[CallRecord]:
        """After a resync, finish every call whose inbound channel is not in ``live``.

        ``live`` holds the uniqueids the resync listed (:class:`ChannelListed`). A vanished
        call keeps what was observed (a connected agent stays answered, an abandon stays abandoned);
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

    def take_over(
        self, answers: Iterable[ChannelListed | QueueEntryListed], at: datetime
    ) -> list[CallRecord]:
        """Apply a resync's snapshots as of ``at``, when they came.

        Their ages and waits are the PBX's own clocks at that instant, so they count back
        from it, never from the last event seen before a gap.
        """
        require_aware(at, "at")
        for answer in answers:
            self._apply(answer, at)
        return self._drain()

    def queue_entered(self, joined: Joined) -> None:
        """queue_log's join of a call in flight: it times a visit whose join was missed."""
        call = self._calls.get(joined.channel.uniqueid)
        queue = joined.queue
        segment = call.visit(queue) if call is not None and queue else None
        if segment is not None and segment.guessed and joined.at is not None:
            segment.joined_at, segment.guessed = joined.at, False

    def flush_unknown(self, at: datetime) -> list[CallRecord]:
        """End every call in flight (a gap nothing can reconcile); undecided ones are unknown."""
        return self.vanished(frozenset(), at)

    # ---------------------------------------------------------------- the handlers

    def on_dialplan(self, event: DialplanEntered, now: datetime) -> None:
        """A channel runs dialplan: in an inbound context, a citizen's call has arrived."""
        if self._is_inbound(event.channel) and not event.dialing:
            self._call(event.channel, now, adopt=True)

    def on_hours(self, event: HoursDecided, now: datetime) -> None:
        """Record the dialplan's phone-hours decision."""
        call = self._call(event.channel, now)
        if call is not None:
            call.pbx_hours = event.value

    def on_timed_out(self, event: TimedOut, now: datetime) -> None:
        """The queue gave up on the caller: the abandon reported before it was a timeout."""
        call = self._call(event.channel, now)
        if call is not None and call.segments:
            _timed_out(call.segments[-1])

    def on_caller(self, event: CallerIdentified, now: datetime) -> None:
        """The caller ID of the inbound channel was set, changed or withheld."""
        call = self._call(event.channel, now)
        if call is not None:
            call.remember_caller(event.channel)

    def on_channel_listed(self, event: ChannelListed, now: datetime) -> None:
        """A live channel listed at a resync: adopt an inbound call begun unseen.

        Its age counts from the channel's creation to ``now``; a channel in a queue is in
        a visit, and a bridged one talks to an agent whose connect was missed.
        """
        if not self._is_inbound(event.channel) or event.dialing:
            return
        call = self._call(event.channel, now - timedelta(seconds=event.age_s), adopt=True)
        if call is not None and event.queue:
            _take_over_visit(call, event, now)

    def on_queue_entry(self, event: QueueEntryListed, now: datetime) -> None:
        """A caller waiting at a resync: it joined ``wait_s`` seconds before ``now``."""
        call = self._call(event.channel, now)
        if call is None or event.wait_s is None:
            return
        segment = call.visit(event.queue)
        joined = now - timedelta(seconds=event.wait_s)
        if segment is None:
            call.segments.append(SegmentState(queue=event.queue, joined_at=joined))
        elif segment.guessed:
            segment.joined_at, segment.guessed = joined, False

    def on_joined(self, event: Joined, now: datetime) -> None:
        """The caller enters a queue: a new visit (after a transfer, the one before ends)."""
        call = self._queue_call(event.channel, now)
        if call is None:
            return
        if call.segments:
            _close_visit(call.segments[-1], now)
        call.segments.append(SegmentState(queue=event.queue, joined_at=now))

    def on_rung(self, event: Rung, now: datetime) -> None:
        """An agent is rung for the caller: one ring attempt."""
        segment = self._visit(event, now)
        if segment is not None:
            segment.ring_attempts += 1

    def on_ring_unanswered(self, event: RingUnanswered, now: datetime) -> None:
        """A rung agent did not pick up within the queue's ring timeout."""
        segment = self._visit(event, now)
        if segment is not None:
            segment.ring_no_answers += 1

    def on_abandoned(self, event: Abandoned, now: datetime) -> None:
        """The caller hung up while queued, after ``wait_s`` seconds in the queue."""
        segment = self._visit(event, now)
        if segment is not None:
            segment.state, segment.left_at = ABANDONED, now
            segment.wait_s = event.wait_s
            _time_join(segment, now, segment.wait_s)

    def on_left(self, event: Left, now: datetime) -> None:
        """The caller left the queue; the connect after it, or the hang-up, tells why."""
        segment = self._visit(event, now)
        if segment is not None:
            segment.left_at = segment.left_at or now
            segment.state = LEFT if segment.state == QUEUED else segment.state

    def on_connected(self, event: Connected, now: datetime) -> None:
        """An agent answered after ``wait_s`` seconds in the queue."""
        segment = self._visit(event, now)
        if segment is not None:
            segment.state, segment.left_at = ANSWERED, segment.left_at or now
            segment.wait_s = event.wait_s
            segment.agent = event.agent
            _time_join(segment, segment.left_at, segment.wait_s)

    def on_completed(self, event: Completed, now: datetime) -> None:
        """The talk ended: the talk time is final, and so is the call if it hung up."""
        segment = self._visit(event, now)
        if segment is None:
            return
        segment.state, segment.completed = ANSWERED, True
        segment.talk_s = event.talk_s
        segment.wait_s = _first(segment.wait_s, event.wait_s)
        segment.agent = segment.agent or event.agent
        if segment.left_at is None:  # the connect was missed: it came talk_s ago
            segment.left_at = now - timedelta(seconds=segment.talk_s or 0)
        _time_join(segment, segment.left_at, segment.wait_s)
        self._finish_if_closing(event.channel.uniqueid)

    def on_hung_up(self, event: HungUp, now: datetime) -> None:
        """The inbound channel hung up: the call ends, unless its talk time is still due."""
        uid = event.channel.uniqueid
        call = self._channels.get(uid)
        if call is None or call.uniqueid != uid:
            return  # another leg of the call (agent, handset, local queue channel)
        call.hungup_at = now
        if call.awaiting_complete():
            self._closing[call.uniqueid] = call
        else:
            self._finish(call, now, end_seen=True)

    # ------------------------------------------------------------------ internals

    def _clock(self, event: CallEvent, at: datetime | None) -> datetime | None:
        """The event's instant: its own, else the last one seen, else ``at``."""
        stamp = event.at
        if stamp is not None:
            self._last = stamp
            return stamp
        if at is not None:
            require_aware(at, "at")
        return self._last or at

    def _apply(self, event: CallEvent, now: datetime) -> None:
        """Run the event's handler; a malformed event is counted, logged and skipped."""
        try:
            handler = HANDLERS.get(type(event))
            if handler is not None:
                handler(self, event, now)
        except _MALFORMED:
            self.rejected += 1
            _log.warning("skipped a malformed %s", type(event).__name__, exc_info=True)

    def _drain(self) -> list[CallRecord]:
        """Hand out the records finished so far."""
        finished, self._finished = self._finished, []
        return finished

    def _is_inbound(self, channel: Channel) -> bool:
        """Whether the channel is in one of the inbound contexts."""
        return channel.context in self._inbound

    def _call(self, channel: Channel, now: datetime, *, adopt: bool = False) -> CallState | None:
        """The call of the channel; with ``adopt``, start one for an unseen channel."""
        uid = channel.uniqueid
        call = self._channels.get(uid)
        if call is not None or not adopt or not uid or uid in self._recent:
            return call
        return self._start(channel, now)

    def _start(self, channel: Channel, now: datetime) -> CallState:
        """Begin following a citizen's inbound channel."""
        uid = channel.uniqueid
        did = (channel.exten or None) if self._is_inbound(channel) else None
        call = CallState(uniqueid=uid, linkedid=channel.linkedid or uid, arrived_at=now)
        call.did, call.channels = did, {uid}
        call.remember_caller(channel)
        self._calls[uid] = self._channels[uid] = call
        self._by_linkedid.setdefault(call.linkedid, set()).add(uid)
        return call

    def _queue_call(self, channel: Channel, now: datetime) -> CallState | None:
        """The call a queue event is about (its channel is the queue caller)."""
        known = self._call(channel, now) or self._linked_call(channel)
        return known or self._call(channel, now, adopt=True)

    def _linked_call(self, channel: Channel) -> CallState | None:
        """The call of another channel in the queue: a Local queue leg, an attended transfer."""
        uid = channel.uniqueid
        linked = self._by_linkedid.get(channel.linkedid, set())
        if len(linked) != 1 or not uid or uid in self._recent:
            return None
        call = self._calls[next(iter(linked))]
        call.channels.add(uid)
        self._channels[uid] = call
        return call

    def _visit(self, event: QueueEvent, now: datetime) -> SegmentState | None:
        """The caller's visit to the event's queue, opened here if it began unseen."""
        call = self._queue_call(event.channel, now)
        if call is None:
            return None
        segment = call.visit(event.queue)
        if segment is None:  # the join was missed: ``now`` stands in until a wait tells
            segment = SegmentState(queue=event.queue, joined_at=now, guessed=True)
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


HANDLERS: Mapping[type[CallEvent], Handler] = MappingProxyType(
    {
        # Other events (originate answers, dial ends, listing ends) tell a citizen's call
        # nothing; the translation table drops most of the stream before it gets here.
        DialplanEntered: CallTracker.on_dialplan,
        HoursDecided: CallTracker.on_hours,
        TimedOut: CallTracker.on_timed_out,
        CallerIdentified: CallTracker.on_caller,
        ChannelListed: CallTracker.on_channel_listed,
        QueueEntryListed: CallTracker.on_queue_entry,
        Joined: CallTracker.on_joined,
        Rung: CallTracker.on_rung,
        RingUnanswered: CallTracker.on_ring_unanswered,
        Abandoned: CallTracker.on_abandoned,
        Left: CallTracker.on_left,
        Connected: CallTracker.on_connected,
        Completed: CallTracker.on_completed,
        HungUp: CallTracker.on_hung_up,
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

    Asterisk 22 reports a queue's max wait as an abandon first; only the timeout after
    it, on a channel still up, tells them apart (queue_log writes ``EXITWITHTIMEOUT``;
    the lab's k-queue-timeout recording shows it).
    """
    if segment.state in (ABANDONED, LEFT):
        segment.state = TIMEOUT


def _take_over_visit(call: CallState, listed: ChannelListed, now: datetime) -> None:
    """A visit in progress at a resync; a bridged one was answered while unseen.

    Its join stands in as ``now`` until a listed wait or a connect's wait tells; the
    connect time of a bridged visit comes from its completion (the talk time before it).
    """
    segment = call.visit(listed.queue)
    if segment is None:
        segment = SegmentState(queue=listed.queue, joined_at=now, guessed=True)
        call.segments.append(segment)
    if listed.bridged and segment.state in (QUEUED, LEFT):
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
