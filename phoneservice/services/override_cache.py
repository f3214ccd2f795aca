"""The overrides the hours service applies, kept in the process for a short while.

The hours engine asks for the overrides on every question (the board, ``open.txt``), so
:class:`OverrideCache` holds what its source last returned: for ``ttl`` seconds in the
web and the command line, until the next ``refresh`` in the worker (docs/web.md,
docs/worker.md). It imports no database code: its source does the reading.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from phoneservice.domain.hours.override import Override

_log = logging.getLogger(__name__)

Source = Callable[[], Sequence[Override]]
CACHE_SECONDS = 2.0  # how stale the web's view of other processes' writes may be


class OverrideCache:
    """The overrides of a source, kept for ``ttl`` seconds; ``ttl=None``: only on refresh.

    Reading is a comparison and a tuple: the hours engine asks on every request. A source
    that fails keeps the last answer (an override can only be missed, never invented) and
    is asked again after ``ttl``. With ``background`` (the PBX listener), a stale answer is
    loaded again in a thread while the caller gets the one held, so ``open.txt`` never
    waits for a busy database; only the first load (and one after ``invalidate``) waits.
    """

    def __init__(
        self,
        load: Source,
        ttl: float | None = CACHE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
        *,
        background: bool = False,
    ) -> None:
        self.load, self.ttl, self.monotonic = load, ttl, monotonic
        self.background = background
        self._held: tuple[Override, ...] = ()
        self._loaded_at: float | None = None
        self._failing = False
        self._lock = threading.Lock()

    def __call__(self) -> tuple[Override, ...]:
        """The overrides, loaded again when older than ``ttl``."""
        if self.ttl is not None and self._stale(self.ttl):
            if self.background and self._loaded_at is not None:
                self._refresh_behind()
                return self._held
            with self._lock:
                if self._stale(self.ttl):  # another thread may have loaded them meanwhile
                    self.refresh()
        return self._held

    def _refresh_behind(self) -> None:
        """Load again in a thread, unless a load is under way already."""
        if not self._lock.acquire(blocking=False):
            return

        def load() -> None:
            try:
                self.refresh()
            finally:
                self._lock.release()

        threading.Thread(target=load, name="override-refresh", daemon=True).start()

    def refresh(self) -> bool:
        """Load now; whether the overrides differ from those held before."""
        self._loaded_at = self.monotonic()
        try:
            found = tuple(self.load())
        except Exception as exc:  # e.g. the schema is not migrated yet (``run`` at start)
            if not self._failing:  # once per outage, not every few seconds
                _log.warning("overrides could not be read; keeping the last ones: %r", exc)
            self._failing = True
            return False
        self._failing = False
        changed, self._held = set(found) != set(self._held), found
        return changed

    def invalidate(self) -> None:
        """Forget the age of what is held: the next read loads (after a write here)."""
        self._loaded_at = None

    def _stale(self, ttl: float) -> bool:
        """Whether what is held is older than ``ttl`` (or was never loaded)."""
        return self._loaded_at is None or self.monotonic() - self._loaded_at >= ttl
