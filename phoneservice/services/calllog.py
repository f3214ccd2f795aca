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
from phoneservice.domain.calls.queuelog import QueueLogCalls, QueueLogEntry, reconcile
from phoneservice.domain.calls.records import CallRecord
from phoneservice.domain.calls.tracker import CallTracker
from phoneservice.services.clock import system_clock

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
        self._flushed = time.monotonic()
        self._marked: datetime | None = since

    def message(self, headers: Headers, at: datetime | None = None) -> None:
        """One message from the PBX (recorded streams carry the resync answers as events)."""
        stamp = headers.get("Timestamp")
        if stamp is not None:
            self._last_stamp = stamp
        elif at is not None:
            self._last_at, self._last_stamp = at, None
        name = headers.get("Event")
        if name == "CoreShowChannel":
            self._listing.append(headers)
        elif name == "CoreShowChannelsComplete":
            self.resynced(self._listing, self.last_seen or system_clock())
            self._listing = []
        else:
            self.pending += self.tracker.feed(headers, at)

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
        self.gap_since = self.gap_since or at
        _log.info("PBX connection gap from %s", at.isoformat())

    def resynced(self, channels: Iterable[Headers], at: datetime) -> None:
        """The live channels after a (re)connect: adopt them, finish calls that vanished."""
        rows = list(channels)
        for row in rows:
            self.pending += self.tracker.feed(row, at)
        live = {row["Uniqueid"] for row in rows if row.get("Uniqueid")}
        self.pending += self._reconciled(self.tracker.vanished(live, at), at)
        self.gap_since = None

    def finish(self, at: datetime) -> None:
        """The input ended (a recording's last file): nothing in flight can end any more."""
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
        added = self.store(batch, seen)  # on failure the batch stays pending: nothing is lost
        self.pending = self.pending[len(batch) :]
        self._flushed, self._marked = time.monotonic(), seen
        self.stored += added
        return added

    def missed_by_stream(self, entries: Iterable[QueueLogEntry], at: datetime) -> list[CallRecord]:
        """Calls queue_log finished between RECHECK_WINDOW and RECHECK_SETTLE before ``at``.

        The periodic safety net: storage ignores the ones the live stream logged, so what
        it adds are calls the stream missed without a visible gap. Calls still followed
        live are left to the stream; the settle time lets the stream store its own first.
        """
        window = [e for e in entries if at - RECHECK_WINDOW <= e.at <= at]
        rebuilt, _ = self.rebuild.calls(window)
        in_flight = {call.uniqueid for call in self.tracker.in_flight()}
        return [
            r for r in rebuilt if r.uniqueid not in in_flight and r.ended_at <= at - RECHECK_SETTLE
        ]

    def _reconciled(self, vanished: list[CallRecord], at: datetime) -> list[CallRecord]:
        """Improve vanished calls from queue_log and add the calls the gap hid."""
        if self.queue_log is None:
            return vanished
        since = self.gap_since or at
        entries = [e for e in self.queue_log() if e.at >= since - _MARGIN]
        rebuilt, _ = self.rebuild.calls(entries)
        in_flight = {call.uniqueid for call in self.tracker.in_flight()}
        return reconcile(vanished, rebuilt, in_flight, since)
