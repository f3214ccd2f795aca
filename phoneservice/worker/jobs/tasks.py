"""The job functions: plain module-level callables that a persistent job store can name.

APScheduler stores a job's function as a reference (``phoneservice.worker.jobs.tasks:purge``),
never as a closure. Each function looks up, at run time, the action registered under its
name in the installed :class:`Tasks` and calls it with the current instant. A name with
nothing registered is logged once and skipped: the job stays scheduled and harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from phoneservice.services.clock import system_clock

_log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Action = Callable[[datetime], object]

MARK_OVERDUE = "callbacks.mark_overdue"
PURGE = "callbacks.purge"
UNIT_STATE = "units.changed"
RECONCILE = "queue_log.reconcile"
NAMES = (MARK_OVERDUE, PURGE, UNIT_STATE, RECONCILE)


class CallbackJobs(Protocol):
    """What the callback service offers the scheduler."""

    def mark_overdue(self, now: datetime) -> object:
        """Mark the callbacks whose deadline has passed."""

    def purge(self, now: datetime) -> object:
        """Erase personal data past its retention."""


class Tasks:
    """The collaborators the job functions call, by name, and the clock they read."""

    def __init__(self, clock: Clock = system_clock) -> None:
        self.clock = clock
        self._actions: dict[str, Action] = {}
        self._missing_logged: set[str] = set()
        self.may_run: Callable[[], bool] = lambda: True  # False: skip (leadership in doubt)

    def register(self, name: str, action: Action) -> None:
        """Make ``action(now)`` what the job called ``name`` does."""
        if name not in NAMES:
            raise ValueError(f"unknown task {name!r}; known: {', '.join(NAMES)}")
        self._actions[name] = action

    def register_callbacks(self, service: CallbackJobs) -> None:
        """Wire the overdue and purge jobs to a callback service."""
        self.register(MARK_OVERDUE, service.mark_overdue)
        self.register(PURGE, service.purge)

    def run(self, name: str) -> bool:
        """Call the action under ``name`` with the clock's instant; log, never raise."""
        action = self._actions.get(name)
        if not self.may_run():
            _log.info("job %s skipped: the leader lock is not confirmed", name)
            return False
        if action is None:
            self._log_missing(name)
            return False
        try:
            action(self.clock())
        except Exception:
            _log.exception("job %s failed; it runs again at its next time", name)
            return False
        return True

    def _log_missing(self, name: str) -> None:
        """Say once per name that the job has nothing to do yet."""
        if name not in self._missing_logged:
            self._missing_logged.add(name)
            _log.info("job %s: nothing is registered for it yet; skipped", name)


_installed: list[Tasks] = []  # the worker's one Tasks, set by install(); empty at import


def install(tasks: Tasks) -> None:
    """Make ``tasks`` the collaborators of every job function in this process."""
    _installed[:] = [tasks]


def _run(name: str) -> None:
    """Run a named action through the installed tasks, or log that there are none."""
    if not _installed:
        _log.warning("job %s ran before the worker installed its tasks; skipped", name)
        return
    _installed[0].run(name)


def mark_overdue() -> None:
    """Mark overdue callbacks (every minute)."""
    _run(MARK_OVERDUE)


def purge() -> None:
    """Erase numbers past their retention (nightly)."""
    _run(PURGE)


def unit_state() -> None:
    """Re-evaluate the units' state at a change (for the board's push and the PBX)."""
    _run(UNIT_STATE)


def reconcile() -> None:
    """Reconcile calls with the PBX's queue_log (every five minutes)."""
    _run(RECONCILE)
