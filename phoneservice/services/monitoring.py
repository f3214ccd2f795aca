"""What operations watch, kept in the database: call and callback counts, the AMI state.

The web runs as several stateless processes and the AMI connection lives in the worker,
so the database is the one place every web process can read them. Counting every call
is one pass over ``calls``; :class:`MonitoringService` keeps that result for
``CACHE_SECONDS`` per process, so a scrape every few seconds by several Prometheus
servers costs one count per process per 15 s. Everything else is read at each ask.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from phoneservice.domain.pbx_state import PbxState
from phoneservice.services.clock import system_clock
from phoneservice.storage.counts import CallbackCount, CallCount, CountRepository
from phoneservice.storage.pbx_state import PbxStateRepository

# The counts are the storage's read models; the web takes them from here, not from storage.
__all__ = [
    "CACHE_SECONDS",
    "Cached",
    "CallCount",
    "CallbackCount",
    "MonitoringService",
    "PbxStateService",
    "is_stale",
]
CACHE_SECONDS = 15.0  # how long a process reuses its count of all calls
# A worker refreshes its rows at least every 30 s (worker.md): a row older than this was
# written by a worker that is gone, and its "connected" is no longer true.
STALE_AFTER = timedelta(seconds=90)
T = TypeVar("T")
Clock = Callable[[], datetime]


class Cached(Generic[T]):
    """A value computed at most once every ``seconds``; concurrent askers share one run."""

    def __init__(
        self,
        compute: Callable[[], T],
        seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._compute, self._seconds, self._monotonic = compute, seconds, monotonic
        self._kept: tuple[float, T] | None = None
        self._lock = threading.Lock()

    def get(self) -> T:
        """The kept value while it is fresh, else a new one (a failure is raised, not kept)."""
        kept = self._kept
        if kept is not None and self._monotonic() - kept[0] < self._seconds:
            return kept[1]
        with self._lock:
            kept = self._kept  # another thread may have computed it while this one waited
            if kept is not None and self._monotonic() - kept[0] < self._seconds:
                return kept[1]
            value = self._compute()
            self._kept = (self._monotonic(), value)
            return value


class MonitoringService:
    """The counts and states ``/metrics`` and ``/readyz`` show; reads only."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock = system_clock,
        cache_seconds: float = CACHE_SECONDS,
    ) -> None:
        self.sessions, self.clock = sessions, clock
        self._calls = Cached(self._count_calls, cache_seconds)

    def call_counts(self) -> list[CallCount]:
        """All calls by unit and outcome, at most ``cache_seconds`` old."""
        return self._calls.get()

    def callback_counts(self, now: datetime | None = None) -> list[CallbackCount]:
        """Open and overdue callback tasks by unit, now."""
        with self.sessions() as session:
            return CountRepository(session).open_callbacks(now or self.clock())

    def pbx_states(self) -> list[PbxState]:
        """The AMI connection of every PBX the active worker (or an earlier one) followed."""
        with self.sessions() as session:
            return PbxStateRepository(session).all()

    def _count_calls(self) -> list[CallCount]:
        with self.sessions() as session:
            return CountRepository(session).calls()


class PbxStateService:
    """The worker's writes of its AMI connection state; each one is a transaction."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def save(self, state: PbxState) -> None:
        """Store one PBX's state (replacing the row a previous worker wrote)."""
        with self.sessions() as session:
            PbxStateRepository(session).save(state)
            session.commit()


def is_stale(state: PbxState, now: datetime) -> bool:
    """Whether the row is too old to trust: its worker stopped refreshing it."""
    return now - state.updated_at > STALE_AFTER
