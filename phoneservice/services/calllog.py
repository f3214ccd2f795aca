"""The call-log pipeline: AMI messages in, stored calls out.

The live worker and ``phoneservice ingest`` use the same path, so a recording is logged
exactly as the live PBX would have been: a reconnect is followed by a resync
(``CoreShowChannels``), calls that vanished during the gap are finished, and queue_log, when
configured, fills in what the gap hid.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from phoneservice.domain.calls.amifields import event_instant
from phoneservice.domain.calls.queuelog import QueueLogCalls, QueueLogEntry
from phoneservice.domain.calls.reconcile import needs_witness, reconcile, witnessed
from phoneservice.domain.calls.records import CallRecord
from phoneservice.domain.calls.tracker import CallTracker

_log = logging.getLogger(__name__)

Headers = Mapping[str, str]
Store = Callable[[Sequence[CallRecord], datetime | None], int]
QueueLogReader = Callable[[], Iterable[QueueLogEntry]]
_MARGIN = timedelta(hours=1)  # queue_log lines read before a gap, for calls that spanned it
FLUSH_CALLS = 200  # store at least this often under load ...
FLUSH_SECONDS = 0.25  # ... or after this long, whichever comes first
MARK_STEP = timedelta(seconds=10)  # how far the stored watermark may lag on a quiet line
RECHECK_WINDOW = timedelta(minutes=15)  # the periodic queue_log check looks this far back
RECHECK_SETTLE = timedelta(minutes=2)  # at calls that ended at least this long ago
_LISTED = frozenset({"CoreShowChannel", "QueueEntry"})  # a resync's answers ...
_ANSWERS = frozenset({"CoreShowChannelsComplete", "QueueStatusComplete"})  # ... end so


class CallLog:
    """Feeds one PBX's messages through a tracker and hands finished calls to storage."""

    def __init__(
        self,
        tracker: CallTracker,
        rebuild: QueueLogCalls,
        store: Store,
        queue_log: QueueLogReader | None = None,
        since: datetime | None = None,
    ) -> None:
        self.tracker = tracker
        self.rebuild = rebuild
        self.store = store
        self.queue_log = queue_log
        self.gap_since = since
        self.stored = 0
        self.pending: list[CallRecord] = []
        self._last_stamp: str | None = None
        self._last_at: datetime | None = None
        self._listing: list[Headers] = []
        self._connected_at: datetime | None = None  # the latest instant since (re)connecting
        self._held: list[tuple[str, list[Headers]]] = []  # answers not timed yet
        self._flushed = time.monotonic()
        self._marked: datetime | None = since

    def message(self, headers: Headers, at: datetime | None = None) -> None:
        """One message from the PBX (recorded streams carry the resync answers as events)."""
        stamp = headers.get("Timestamp")
        if stamp is not None:
            self._last_stamp = stamp
        elif at is not None:
            self._last_at, self._last_stamp = at, None
        if stamp is not None or at is not None:
            self._connected_at = self.last_seen
            self._apply_held()
        name = headers.get("Event")
        if name in _LISTED:
            self._listing.append(headers)
        elif name in _ANSWERS:
            self._held.append((name, self._listing))
            self._listing = []
            self._apply_held()
        else:
            self.pending += self.tracker.feed(headers, at)

    def _apply_held(self, fallback: datetime | None = None) -> None:
        """Apply the resync answers once their session has an instant.

        An answer is timed when it was received, else (a recording) by the newest instant
        of its session, the login's ``SuccessfulAuth``, or else the first one after it;
        ``fallback`` only when the input ends first.
        """
        when = self._connected_at or fallback
        if when is None or not self._held:
            return
        held, self._held = self._held, []
        for name, rows in held:
            if name == "CoreShowChannelsComplete":
                self.resynced(rows, when)
            else:
                self.queue_status(rows, when)

    @property
    def last_seen(self) -> datetime | None:
        """The instant of the latest message (its Timestamp, else when it was received)."""
        if self._last_stamp is not None:
            return event_instant({"Timestamp": self._last_stamp}) or self._last_at
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
        self._connected_at = None
        _log.info("PBX connection gap from %s", at.isoformat())

    def resynced(self, channels: Iterable[Headers], at: datetime) -> None:
        """The live channels after a (re)connect: adopt them, finish calls that vanished.

        ``at`` is when the CoreShowChannels answer came: each ``Duration`` counts back
        from it. queue_log's ENTERQUEUE, when configured, times the visits joined unseen.
        """
        rows = list(channels)
        self.pending += self.tracker.take_over(rows, at)
        entries = self._queue_log_entries(at)
        for entry in entries or ():
            if entry.event == "ENTERQUEUE":
                self.tracker.queue_entered(entry.callid, entry.queue, entry.at)
        live = {row["Uniqueid"] for row in rows if row.get("Uniqueid")}
        self.pending += self._reconciled(self.tracker.vanished(live, at), at, entries)
        self.gap_since = None

    def queue_status(self, entries: Iterable[Headers], at: datetime) -> None:
        """The QueueStatus answer after a resync: each ``Wait`` counts back from ``at``."""
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
        """Store the finished calls and how far the stream was read; how many calls were new."""
        if not self.flush_needed(final):
            return 0
        batch, seen = self.pending, self.last_seen
        # on failure the batch stays pending: nothing is lost
        added = self.store(self._witnessed(batch), seen)
        self.pending = self.pending[len(batch) :]
        self._flushed, self._marked = time.monotonic(), seen
        self.stored += added
        return added

    def missed_by_stream(
        self, entries: Iterable[QueueLogEntry], at: datetime, since: datetime | None = None
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
        window = [e for e in entries if start <= e.at <= at]
        rebuilt, _ = self.rebuild.calls(window)
        streamed = {call.uniqueid for call in self.tracker.in_flight()}
        streamed |= {call.uniqueid for call in self.pending}
        return [r for r in rebuilt if r.uniqueid not in streamed and r.ended_at <= settled]

    def _witnessed(self, records: list[CallRecord]) -> list[CallRecord]:
        """The records, merged with queue_log's where it may decide (one read per batch)."""
        doubtful = [r.arrived_at for r in records if needs_witness(r)]
        if self.queue_log is None or not doubtful:
            return records
        try:
            entries = [e for e in self.queue_log() if e.at >= min(doubtful) - _MARGIN]
        except OSError as exc:
            _log.warning("queue_log unreadable (%s): calls stored as the stream saw them", exc)
            return records
        rebuilt, _ = self.rebuild.calls(entries)
        return witnessed(records, rebuilt)

    def _queue_log_entries(self, at: datetime) -> list[QueueLogEntry] | None:
        """queue_log's lines from a margin before the gap, or None when none is configured."""
        if self.queue_log is None:
            return None
        since = self.gap_since or at
        return [e for e in self.queue_log() if e.at >= since - _MARGIN]

    def _reconciled(
        self,
        vanished: list[CallRecord],
        at: datetime,
        entries: list[QueueLogEntry] | None = None,
    ) -> list[CallRecord]:
        """Improve vanished calls from queue_log and add the calls the gap hid."""
        entries = self._queue_log_entries(at) if entries is None else entries
        if entries is None:
            return vanished
        since = self.gap_since or at
        rebuilt, _ = self.rebuild.calls(entries)
        in_flight = {call.uniqueid for call in self.tracker.in_flight()}
        return reconcile(vanished, rebuilt, in_flight, since)
