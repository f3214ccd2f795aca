"""The call-log pipeline: AMI messages in, stored calls out.

The live worker and ``phoneservice ingest`` use the same path, so a recording is logged
exactly as the live PBX would have been: a reconnect is followed by a resync
(``CoreShowChannels``), calls that vanished during the gap are finished, and queue_log, when
configured, fills in what the gap hid.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from phoneservice.domain.calls.events import (
    CallEvent,
    ChannelListed,
    Joined,
    ListingEnded,
    QueueEntryListed,
    QueueEvent,
)
from phoneservice.domain.calls.queuelog import QueueLogCalls
from phoneservice.domain.calls.reconcile import needs_witness, reconcile, witnessed
from phoneservice.domain.calls.records import CallRecord
from phoneservice.domain.calls.tracker import CallTracker

_log = logging.getLogger(__name__)

Headers = Mapping[str, str]
Store = Callable[[Sequence[CallRecord], datetime | None], int]
QueueLogReader = Callable[[], Iterable[QueueEvent]]
Listed = ChannelListed | QueueEntryListed


class Translate(Protocol):
    """The PBX's one translation table (``phoneservice.pbx.translate``): messages to events."""

    stamped: bool  # whether the latest message stated its instant

    def __call__(self, headers: Headers, /) -> CallEvent | None:
        """The call event of one message; None for one that tells a call nothing."""

    def last_instant(self) -> datetime | None:
        """The instant of the latest message that stated one."""


_MARGIN = timedelta(hours=1)  # queue_log lines read before a gap, for calls that spanned it
FLUSH_CALLS = 200  # store at least this often under load ...
FLUSH_SECONDS = 0.25  # ... or after this long, whichever comes first
MARK_STEP = timedelta(seconds=10)  # how far the stored watermark may lag on a quiet line
RECHECK_WINDOW = timedelta(minutes=15)  # the periodic queue_log check looks this far back
RECHECK_SETTLE = timedelta(minutes=2)  # at calls that ended at least this long ago
QUEUE_LOG_WAIT = timedelta(seconds=60)  # a doubtful call waits this long for queue_log


class CallLog:
    """Feeds one PBX's messages through a tracker and hands finished calls to storage."""

    def __init__(
        self,
        tracker: CallTracker,
        rebuild: QueueLogCalls,
        store: Store,
        queue_log: QueueLogReader | None = None,
        since: datetime | None = None,
        *,
        translate: Translate,
    ) -> None:
        self.translate = translate
        self.tracker = tracker
        self.rebuild = rebuild
        self.store = store
        self.queue_log = queue_log
        self.gap_since = since
        self.stored = 0
        self.pending: list[CallRecord] = []
        self._stamped = False  # the latest instant is the translator's, not a receive time
        self._last_at: datetime | None = None
        self._listing: list[Listed] = []
        self._timed = False  # a message since (re)connecting had an instant: last_seen is it
        self._held: list[tuple[bool, list[Listed]]] = []  # listings not timed yet
        self._flushed = time.monotonic()
        self._marked: datetime | None = since
        self._waiting_since: dict[str, float] = {}  # uniqueid -> when it began to wait

    def message(self, headers: Headers, at: datetime | None = None) -> CallEvent | None:
        """One message from the PBX, and the call event it translates to (if any).

        Recorded streams carry a resync's listings as events; they are held until their
        session has an instant.
        """
        event = self.translate(headers)
        if self.translate.stamped:
            self._stamped = True
        elif at is not None:
            self._last_at, self._stamped = at, False
        if self.translate.stamped or at is not None:
            self._timed = True
            if self._held:
                self._apply_held()
        if isinstance(event, ChannelListed | QueueEntryListed):
            self._listing.append(event)
        elif isinstance(event, ListingEnded):
            self._held.append((event.of_queues, self._listing))
            self._listing = []
            self._apply_held()
        elif event is not None:
            self.pending += self.tracker.feed(event, at)
        elif self.tracker.waiting():  # only time passed: a talk time may be overdue
            now = self.translate.last_instant() if self.translate.stamped else at
            self.pending += self.tracker.advance(now) if now is not None else []
        return event

    def listed(self, rows: Iterable[Headers]) -> list[Listed]:
        """The snapshots of a resync listing's rows (CoreShowChannels, QueueStatus)."""
        events = (self.translate(row) for row in rows)
        return [e for e in events if isinstance(e, ChannelListed | QueueEntryListed)]

    def _apply_held(self, fallback: datetime | None = None) -> None:
        """Apply the resync answers once their session has an instant.

        An answer is timed when it was received, else (a recording) by the newest instant
        of its session, the login's ``SuccessfulAuth``, or else the first one after it;
        ``fallback`` only when the input ends first.
        """
        when = (self.last_seen if self._timed else None) or fallback
        if when is None or not self._held:
            return
        held, self._held = self._held, []
        for of_queues, rows in held:
            if of_queues:
                self.queue_status(rows, when)
            else:
                self.resynced(rows, when)

    @property
    def last_seen(self) -> datetime | None:
        """The instant of the latest message (its Timestamp, else when it was received)."""
        if self._stamped:
            return self.translate.last_instant() or self._last_at
        return self._last_at

    def due(self) -> bool:
        """Whether enough finished calls, or enough time, have piled up to store them."""
        if not self.pending:
            return False
        return len(self.pending) >= FLUSH_CALLS or time.monotonic() - self._flushed >= FLUSH_SECONDS

    def disconnected(self, at: datetime) -> None:
        """The connection dropped at ``at``: what happens until the resync is a gap."""
        self._apply_held(self.last_seen or at)
        self.gap_since = self.gap_since or at
        self._timed = False
        _log.info("PBX connection gap from %s", at.isoformat())

    def resynced(self, channels: Iterable[Listed], at: datetime) -> None:
        """The live channels after a (re)connect: adopt them, finish calls that vanished.

        ``at`` is when the listing came: each channel's age counts back from it.
        queue_log's joins, when configured, time the visits joined unseen.
        """
        rows = [row for row in channels if isinstance(row, ChannelListed)]
        self.pending += self.tracker.take_over(rows, at)
        entries = self._queue_log_entries(at)
        for entry in entries or ():
            if isinstance(entry, Joined):
                self.tracker.queue_entered(entry)
        live = {row.channel.uniqueid for row in rows if row.channel.uniqueid}
        self.pending += self._reconciled(self.tracker.vanished(live, at), at, entries)
        self.gap_since = None

    def queue_status(self, entries: Iterable[Listed], at: datetime) -> None:
        """The callers waiting after a resync: each wait counts back from ``at``."""
        self.pending += self.tracker.take_over(entries, at)

    def finish(self, at: datetime) -> None:
        """The input ended (a recording's last file): nothing in flight can end any more."""
        self._apply_held(at)
        self.pending += self._reconciled(self.tracker.flush_unknown(at), at)

    def flush_needed(self, final: bool = False) -> bool:
        """Whether there are calls to store, or the watermark lags too far behind."""
        seen = self.last_seen
        lagging = seen is not None and (
            self._marked is None
            or seen - self._marked >= MARK_STEP
            or (final and seen > self._marked)
        )
        return bool(self.pending) or lagging

    def flush(self, final: bool = False) -> int:
        """Store the finished calls and how far the stream was read; how many calls were new.

        A call queue_log may still decide, but whose lines queue_log does not hold yet, waits
        (at most :data:`QUEUE_LOG_WAIT`), so that a queue_log written a little behind the
        stream still decides it before it is stored; the watermark stays before it.
        """
        if not self.flush_needed(final):
            return 0
        batch, seen = self.pending, self.last_seen
        ready, waiting = self._witnessed(batch, final)
        if waiting and seen is not None:
            seen = min(seen, *(r.ended_at for r in waiting))
        # on failure the batch stays pending: nothing is lost
        added = self.store(ready, seen) if ready or seen != self._marked else 0
        self.pending = waiting + self.pending[len(batch) :]
        self._flushed, self._marked = time.monotonic(), seen
        self.stored += added
        return added

    def missed_by_stream(
        self, entries: Iterable[QueueEvent], at: datetime, since: datetime | None = None
    ) -> list[CallRecord]:
        """Calls queue_log finished between RECHECK_WINDOW and RECHECK_SETTLE before ``at``;
        with ``since``, every call it finished from ``since`` (calls dropped unstored).

        The periodic safety net: storage ignores the ones the live stream logged, so what
        it adds are calls the stream missed without a visible gap. Calls still followed
        live, or waiting to be stored, are left to the stream; the settle time lets the
        stream store its own first (calls dropped after an outage need none).
        """
        start = at - RECHECK_WINDOW if since is None else min(since, at - RECHECK_WINDOW)
        settled = at - RECHECK_SETTLE if since is None else at
        window = [e for e in entries if e.at is not None and start <= e.at <= at]
        rebuilt, _ = self.rebuild.calls(window)
        streamed = {call.uniqueid for call in self.tracker.in_flight()}
        streamed |= {call.uniqueid for call in self.pending}
        return [r for r in rebuilt if r.uniqueid not in streamed and r.ended_at <= settled]

    def _witnessed(
        self, records: list[CallRecord], final: bool
    ) -> tuple[list[CallRecord], list[CallRecord]]:
        """The records merged with queue_log's where it may decide (one read per batch), and
        apart from them the ones to wait for queue_log with (never when ``final``)."""
        doubtful = [r.arrived_at for r in records if needs_witness(r)]
        if self.queue_log is None or not doubtful:
            return records, []
        try:
            entries = _from(self.queue_log(), min(doubtful) - _MARGIN)
        except OSError as exc:
            _log.warning("queue_log unreadable (%s): calls stored as the stream saw them", exc)
            return records, []
        rebuilt, _ = self.rebuild.calls(entries)
        merged = witnessed(records, rebuilt)
        known = {r.uniqueid for r in rebuilt}
        waiting = {r.uniqueid for r in merged if not final and self._awaits(r, known)}
        for uniqueid in set(self._waiting_since) - waiting:
            del self._waiting_since[uniqueid]
        ready = [r for r in merged if r.uniqueid not in waiting]
        return ready, [r for r in merged if r.uniqueid in waiting]

    def _awaits(self, record: CallRecord, known: Collection[str]) -> bool:
        """Whether a record waits for queue_log: doubtful, unknown to it, not waited out."""
        if not needs_witness(record) or record.uniqueid in known:
            return False
        began = self._waiting_since.setdefault(record.uniqueid, time.monotonic())
        seen = self.last_seen
        streamed_past = seen is not None and seen - record.ended_at >= QUEUE_LOG_WAIT
        return not streamed_past and time.monotonic() - began < QUEUE_LOG_WAIT.total_seconds()

    def _queue_log_entries(self, at: datetime) -> list[QueueEvent] | None:
        """queue_log's events from a margin before the gap, or None when none is configured."""
        if self.queue_log is None:
            return None
        return _from(self.queue_log(), (self.gap_since or at) - _MARGIN)

    def _reconciled(
        self,
        vanished: list[CallRecord],
        at: datetime,
        entries: list[QueueEvent] | None = None,
    ) -> list[CallRecord]:
        """Improve vanished calls from queue_log and add the calls the gap hid."""
        entries = self._queue_log_entries(at) if entries is None else entries
        if entries is None:
            return vanished
        since = self.gap_since or at
        rebuilt, _ = self.rebuild.calls(entries)
        in_flight = {call.uniqueid for call in self.tracker.in_flight()}
        return reconcile(vanished, rebuilt, in_flight, since)


def _from(events: Iterable[QueueEvent], since: datetime) -> list[QueueEvent]:
    """The events at or after ``since``."""
    return [e for e in events if e.at is not None and e.at >= since]
