"""The registry in use, swapped whole when its file changes: a bad file keeps the old one.

Every reader asks :attr:`RegistryHolder.registry` when it needs the registry, so a reload
applies to the next question without a restart. The swap is one attribute assignment: a
reader sees the old registry or the new one, never a mix. :meth:`RegistryHolder.check`
looks at the file (its size, mtime and inode) at most every ``poll`` seconds and reloads
when they changed, or at once after :meth:`request_reload` (SIGHUP). A file that does not
load leaves the registry in use untouched; its problems are logged, each as
``file:line: path: value message``, and kept in :meth:`state` for ``/readyz``.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from phoneservice.registry.model import Registry
from phoneservice.registry.problems import ConfigError

_log = logging.getLogger(__name__)

POLL_SECONDS = 2.0  # how often the file is looked at, at most
Today = Callable[[], date]
Listener = Callable[[Registry], None]
Signature = tuple[int, int, int] | None  # (size, mtime in ns, inode); None: cannot stat


@dataclass(frozen=True, slots=True)
class ReloadState:
    """What ``/readyz`` and ``/metrics`` say about the registry in use."""

    path: str | None
    ok: bool
    loaded_at: datetime
    units: int
    errors: tuple[str, ...] = ()
    failed_at: datetime | None = None


def _today() -> date:
    return datetime.now(UTC).date()


class RegistryHolder:
    """The current registry of one process, reloaded from ``path`` when the file changes."""

    def __init__(
        self,
        registry: Registry,
        path: str | None = None,
        *,
        today: Today = _today,
        poll: float = POLL_SECONDS,
    ) -> None:
        self._registry = registry
        self.path, self.poll, self._today = path, poll, today
        self._signature = _signature(path)
        self._loaded_at = datetime.now(UTC)
        self._errors: tuple[str, ...] = ()
        self._failed_at: datetime | None = None
        self._checked = time.monotonic()
        self._forced = False
        self._reloading = threading.Lock()
        self._listeners: list[Listener] = []

    @classmethod
    def load(cls, path: str, today: Today = _today, poll: float = POLL_SECONDS) -> RegistryHolder:
        """Load ``path`` now (a bad file raises :class:`ConfigError`) and watch it."""
        from phoneservice.registry import load_registry  # the package imports this module

        signature = _signature(path)  # before reading: a save during the load is seen later
        holder = cls(load_registry(path, today()), path, today=today, poll=poll)
        holder._signature = signature
        return holder

    @classmethod
    def fixed(cls, registry: Registry) -> RegistryHolder:
        """A holder that never reloads (a registry built in memory, a test's)."""
        return cls(registry)

    @property
    def registry(self) -> Registry:
        """The registry in use now."""
        return self._registry

    def state(self) -> ReloadState:
        """Whether the file loaded, when the registry in use was loaded, and the errors."""
        return ReloadState(
            self.path,
            not self._errors,
            self._loaded_at,
            len(self._registry.units),
            self._errors,
            self._failed_at,
        )

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(new)`` after each successful reload; returns the unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def request_reload(self) -> None:
        """Reload at the next :meth:`check`, changed or not (safe in a signal handler)."""
        self._forced = True

    def check(self) -> bool:
        """Reload if asked to or if the file changed (looked at every ``poll`` s); True if done."""
        if self.path is None:
            return False
        now = time.monotonic()
        if not self._forced and now - self._checked < self.poll:
            return False
        self._checked = now
        if not self._forced and _signature(self.path) == self._signature:
            return False
        return self.reload()

    def reload(self) -> bool:
        """Load the file now; keep the registry in use if it does not load. True if swapped.

        Only one thread loads at a time; another caller meanwhile returns False at once.
        """
        if self.path is None or not self._reloading.acquire(blocking=False):
            return False
        try:
            return self._load(self.path)
        finally:
            self._reloading.release()

    def _load(self, path: str) -> bool:
        from phoneservice.registry import load_registry  # the package imports this module

        self._forced = False
        signature = _signature(path)
        try:
            fresh = load_registry(path, self._today())
        except ConfigError as exc:
            self._failed(signature, exc)
            return False
        self._registry, self._signature = fresh, signature
        self._loaded_at, self._errors, self._failed_at = datetime.now(UTC), (), None
        _log.info("registry reloaded from %s: %d units", path, len(fresh.units))
        for listener in list(self._listeners):
            self._notify(listener, fresh)
        return True

    def _failed(self, signature: Signature, error: ConfigError) -> None:
        """Keep the registry in use; log and remember every problem of the file."""
        self._signature = signature  # the same bad file is not loaded again every poll
        self._errors = tuple(str(p) for p in error.problems if p.severity == "error")
        self._failed_at = datetime.now(UTC)
        for problem in self._errors:
            _log.error("registry reload: %s", problem)
        _log.error(
            "registry reload failed with %d error(s); still using the registry loaded at %s",
            len(self._errors),
            self._loaded_at.isoformat(timespec="seconds"),
        )

    @staticmethod
    def _notify(listener: Listener, registry: Registry) -> None:
        """Tell one listener; a failing listener is logged and does not stop the others."""
        try:
            listener(registry)
        except Exception:
            _log.exception("registry reload: a listener failed")


def current(source: Registry | RegistryHolder) -> Registry:
    """The registry in use: the holder's current one, or the registry itself."""
    return source.registry if isinstance(source, RegistryHolder) else source


def as_holder(source: Registry | RegistryHolder) -> RegistryHolder:
    """A holder for ``source`` (a fixed one around a plain registry)."""
    return source if isinstance(source, RegistryHolder) else RegistryHolder.fixed(source)


def _signature(path: str | None) -> Signature:
    """What tells a changed file: size, modification time and inode (None when missing)."""
    if path is None:
        return None
    try:
        found = os.stat(path)
    except OSError:
        return None
    return (found.st_size, found.st_mtime_ns, found.st_ino)
