"""Heavy reports kept in the process for a minute, so asking again does not compute again.

A report of :data:`CACHE_FROM_ROWS` rows or more is kept for :data:`CACHE_SECONDS`
seconds, at most :data:`CACHE_ENTRIES` of them (the oldest goes first). The key is the
normalised request (dates, unit, split), the units the viewer may see and the registry
in use, so nobody is shown a report made for another scope or an older registry. A kept
report says when it was made (``generated_at``); new calls show after at most a minute
(docs/reports.md).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from phoneservice.domain.reports.report import Report, ReportRequest

CACHE_SECONDS = 60.0
CACHE_ENTRIES = 8  # at most 8 reports of at most 2,000 rows each
CACHE_FROM_ROWS = 200  # smaller reports are cheap: always computed fresh


@dataclass(frozen=True, slots=True)
class ReportKey:
    """What makes two reports the same: the request, the viewer's units, the registry."""

    request: ReportRequest
    scope: frozenset[str] | None  # None: every unit
    registry: int  # id() of the registry; the entry keeps the object, compared by identity


@dataclass(frozen=True, slots=True)
class _Entry:
    report: Report
    registry: object
    made_at: float


class ReportCache:
    """A small, bounded, thread-safe store of recent heavy reports."""

    def __init__(
        self,
        ttl: float = CACHE_SECONDS,
        entries: int = CACHE_ENTRIES,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl, self.entries, self.monotonic = ttl, entries, monotonic
        self.hits = self.misses = 0
        self._held: OrderedDict[ReportKey, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: ReportKey, registry: object) -> Report | None:
        """The report kept under ``key`` for this very registry, unless too old."""
        with self._lock:
            entry = self._held.get(key)
            if entry is None or entry.registry is not registry or self._old(entry):
                self._held.pop(key, None)
                self.misses += 1
                return None
            self.hits += 1
            return entry.report

    def put(self, key: ReportKey, registry: object, report: Report) -> None:
        """Keep ``report``; the oldest entry goes when the cache is full."""
        with self._lock:
            self._held[key] = _Entry(report, registry, self.monotonic())
            self._held.move_to_end(key)
            while len(self._held) > self.entries:
                self._held.popitem(last=False)

    def clear(self) -> None:
        """Forget every report."""
        with self._lock:
            self._held.clear()

    def _old(self, entry: _Entry) -> bool:
        """Whether ``entry`` is older than the ttl."""
        return self.monotonic() - entry.made_at >= self.ttl
