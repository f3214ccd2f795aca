"""One PBX's AMI connection state, written to ``pbx_state`` by the active worker.

The web's ``/readyz`` and ``/metrics`` read it from there (they run in other processes).
A write happens when the worker starts following the PBX (not connected yet), on every
connect and disconnect, at most every ``WRITE_EVERY`` seconds while events flow (never
per event), every ``HEARTBEAT`` seconds on a quiet line, so that a row that stops
changing shows a worker that is gone, and on a clean stop (not connected).

Writes run in a thread, one at a time per PBX: the event loop, which carries the socket,
never waits for the database. A write asked for while one runs is folded into the next,
which takes the newest state; a failed write is logged (once until a write succeeds)
and the next one tries again.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Callable
from datetime import datetime

from phoneservice.domain.pbx_state import PbxState
from phoneservice.services.clock import system_clock

_log = logging.getLogger(__name__)

WRITE_EVERY = 5.0  # seconds: at most one write this often while events flow
HEARTBEAT = 30.0  # seconds: a write at least this often, events or not
CLOSE_TIMEOUT = 5.0  # seconds a clean stop waits for its last write

Save = Callable[[PbxState], None]


def worker_name() -> str:
    """This process as ``host:pid``, as the leader lock names it."""
    return f"{socket.gethostname()}:{os.getpid()}"


class AmiStateReporter:
    """Keeps one PBX's row in ``pbx_state`` up to date, throttled and off the event loop."""

    def __init__(
        self,
        pbx: str,
        save: Save,
        worker: str | None = None,
        *,
        clock: Callable[[], datetime] = system_clock,
        every: float = WRITE_EVERY,
        heartbeat: float = HEARTBEAT,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.pbx, self.worker = pbx, worker or worker_name()
        self._save, self._clock, self._monotonic = save, clock, monotonic
        self.every, self.heartbeat = every, heartbeat
        self._connected, self._reconnects = False, 0
        self._queue_depth = self._dropped = 0
        self._last_event: datetime | None = None
        self._fresh = False  # events came since the last write
        self._written = -float("inf")  # monotonic time of the last write asked for
        self._task: asyncio.Task[None] | None = None
        self._again = False
        self.writes = self.failures = 0
        self._failing = False  # the last write failed (its warning was logged)

    def started(self) -> None:
        """The worker follows this PBX now, not connected yet (replaces a gone worker's row)."""
        self._write_soon()

    def connected(self, reconnects: int) -> None:
        """Logged in; ``reconnects`` counts the logins after the first, in this worker."""
        self._connected, self._reconnects = True, reconnects
        self._write_soon()

    def disconnected(self) -> None:
        """The connection ended."""
        self._connected = False
        self._write_soon()

    def event(self, at: datetime) -> None:
        """A message was read at ``at``; written with the next throttled write."""
        self._last_event, self._fresh = at, True

    def counts(self, queue_depth: int, dropped: int) -> None:
        """The client's queue depth and dropped messages now; written with the next write."""
        self._queue_depth, self._dropped = queue_depth, dropped

    def tick(self) -> None:
        """Write if events came and ``every`` passed, or if ``heartbeat`` passed."""
        since = self._monotonic() - self._written
        if (self._fresh and since >= self.every) or since >= self.heartbeat:
            self._write_soon()

    async def close(self) -> None:
        """A clean stop: write "not connected" and wait for it (up to ``CLOSE_TIMEOUT``)."""
        self._connected = False
        self._write_soon()
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await self.written()
        except TimeoutError:
            _log.warning(
                "AMI %s: the last connection state was not stored in time",
                self.pbx,
                extra={"pbx": self.pbx},
            )

    async def written(self) -> None:
        """Wait until the writes asked for so far are done (they go on if this is cancelled)."""
        task = self._task
        if task is not None:
            await asyncio.shield(task)

    def snapshot(self) -> PbxState:
        """The state to write now."""
        return PbxState(
            self.pbx,
            self._connected,
            self._reconnects,
            self._last_event,
            self._clock(),
            self.worker,
            self._queue_depth,
            self._dropped,
        )

    def _write_soon(self) -> None:
        """Start a write, or fold this one into the write that runs."""
        self._written, self._fresh = self._monotonic(), False
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = asyncio.get_running_loop().create_task(self._write())

    async def _write(self) -> None:
        again = True
        while again:
            self._again = False
            state = self.snapshot()
            try:
                await asyncio.to_thread(self._save, state)
                self.writes += 1
                self._failing = False
            except Exception as exc:  # the next write tries again; the socket goes on
                self.failures += 1
                if not self._failing:  # one line per outage, not one per write
                    _log.warning(
                        "AMI %s: could not store the connection state: %s",
                        self.pbx,
                        type(exc).__name__,
                        extra={"pbx": self.pbx},
                    )
                self._failing = True
            again = self._again
