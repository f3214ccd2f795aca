"""A database that cannot store calls: when to try again, and what to say about it.

The worker holds finished calls in memory while the database is away (a restart, a full
disk) and retries with a capped backoff. It says one line when an outage starts and one
when it ends; the failures are counted, never logged one by one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from prometheus_client import Counter, Gauge

_log = logging.getLogger("phoneservice.worker.follower")

RETRY_FIRST = 1.0  # seconds before the first retry ...
RETRY_CAP = 30.0  # ... doubling up to this
MAX_PENDING = 50_000  # finished calls held in memory per PBX; older ones are dropped

PENDING = Gauge(
    "phoneservice_store_pending_calls",
    "finished calls held in the worker's memory, not stored yet",
    ["pbx"],
)
FAILURES = Counter(
    "phoneservice_store_failures",
    "attempts to store finished calls that failed",
    ["pbx"],
)


class StoreOutage:
    """One PBX's storage state: ``active`` during an outage, with the next retry's time."""

    def __init__(
        self,
        pbx: str,
        first: float = RETRY_FIRST,
        cap: float = RETRY_CAP,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.pbx, self.first, self.cap = pbx, first, cap
        self._monotonic = monotonic
        self.since: float | None = None
        self.failures = 0  # in this process (the metric counts them too)
        self.tries = 0  # failed attempts in this outage
        self.dropped = 0  # calls dropped at the bound during this outage
        self._wait = first
        self._next = 0.0

    @property
    def active(self) -> bool:
        """Whether the last attempt to store failed."""
        return self.since is not None

    def may_try(self) -> bool:
        """Whether a store may be tried now (always, unless waiting out the backoff)."""
        return self.since is None or self._monotonic() >= self._next

    def failed(self, exc: BaseException, pending: int) -> None:
        """A store failed: count it; say so if the outage starts; wait before the next."""
        self.failures += 1
        self.tries += 1
        FAILURES.labels(self.pbx).inc()
        now = self._monotonic()
        if self.since is None:
            self.since, self._wait = now, self.first
            _log.error(
                "AMI %s: the database is not available (%s); holding %d finished call(s) "
                "in memory, retrying every %.0f-%.0f s",
                self.pbx,
                brief(exc),
                pending,
                self.first,
                self.cap,
            )
        else:
            self._wait = min(self._wait * 2, self.cap)
        self._next = now + self._wait

    def succeeded(self, stored: int) -> None:
        """A store succeeded: if it ends an outage, say how long and how many were stored."""
        if self.since is None:
            return
        took = self._monotonic() - self.since
        _log.warning(
            "AMI %s: the database is available again after %.0f s (%d failed attempt(s)); "
            "%d call(s) held meanwhile were stored",
            self.pbx,
            took,
            self.tries,
            stored,
        )
        self.since, self.tries, self.dropped = None, 0, 0

    def overflow(self, excess: int) -> None:
        """``excess`` calls were dropped at the bound: say so once per outage."""
        if not self.dropped:
            _log.error(
                "AMI %s: %d finished calls held in memory, the most kept: the oldest are "
                "dropped; the queue_log check stores them when the database is back",
                self.pbx,
                MAX_PENDING,
            )
        self.dropped += excess

    def pending(self, count: int) -> None:
        """Publish how many finished calls wait to be stored."""
        PENDING.labels(self.pbx).set(count)


def brief(exc: BaseException) -> str:
    """The error's type and first line (driver messages are long; no values are in them)."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0][:200] if lines else ''}"
