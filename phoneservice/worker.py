"""``phoneservice worker``: one supervised AMI connection per PBX, each feeding its call log.

The AMI reader never runs this code: it queues items, and a follower per PBX consumes
them. Storage runs in a thread so that the event loop (and with it the socket) is never
blocked by a slow database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from datetime import UTC, datetime

from phoneservice.calllog import FLUSH_SECONDS, CallLog
from phoneservice.pbx.client import (
    AmiClient,
    AmiError,
    Connected,
    Disconnected,
    Item,
    Received,
)

_log = logging.getLogger(__name__)
RESYNC_TIMEOUT = 30.0


def utc_now() -> datetime:
    """The current instant."""
    return datetime.now(UTC)


class PbxFollower:
    """Consumes one PBX's AMI items into its call log, and stores finished calls."""

    def __init__(
        self, client: AmiClient, call_log: CallLog, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self.client = client
        self.call_log = call_log
        self.clock = clock
        self.failures = 0

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Handle items until ``stop`` is set; a bad item or a failed store never stops it."""
        stop = stop or asyncio.Event()
        try:
            while not stop.is_set():
                item = await self._next()
                if item is not None:
                    await self._safely(item)
                if self.call_log.due():
                    await self._flush()
        finally:
            await self._flush(final=True)

    async def _next(self) -> Item | None:
        """The next item, or None after a quiet moment (finished calls are stored then).

        ``asyncio.timeout`` rather than ``wait_for``: on Python 3.11 ``wait_for`` can
        swallow a cancellation that arrives as the item does.
        """
        try:
            async with asyncio.timeout(FLUSH_SECONDS):
                return await self.client.get()
        except TimeoutError:
            await self._flush()
            return None

    async def _safely(self, item: Item) -> None:
        """Handle one item, logging (not raising) what goes wrong."""
        try:
            await self.handle(item)
        except Exception:
            self.failures += 1
            _log.exception(
                "AMI %s: could not handle %s", self.client.target.name, type(item).__name__
            )

    async def handle(self, item: Item) -> None:
        """A message feeds the tracker; a drop starts a gap; a (re)connect resyncs."""
        if isinstance(item, Received):
            self.call_log.message(item.message.as_dict(), item.received_at)
        elif isinstance(item, Disconnected):
            self.call_log.disconnected(self.call_log.last_seen or self.clock())
        elif isinstance(item, Connected):
            await self.resync()

    async def resync(self) -> None:
        """Ask which channels live, then finish (and reconcile) the calls that vanished."""
        try:
            rows = await self.client.list_action("CoreShowChannels", timeout=RESYNC_TIMEOUT)
        except AmiError as exc:  # the next connection resyncs again; calls stay in flight
            _log.warning("AMI %s: resync failed: %s", self.client.target.name, exc)
            return
        at = self.call_log.last_seen or self.clock()
        self.call_log.resynced([row.as_dict() for row in rows], at)
        await self._flush()

    async def _flush(self, final: bool = False) -> None:
        """Store finished calls off the event loop; keep them pending if storage fails."""
        if not self.call_log.flush_needed(final):
            return
        try:
            await asyncio.to_thread(self.call_log.flush, final)
        except Exception:
            self.failures += 1
            _log.exception(
                "AMI %s: storing %d call(s) failed; will retry",
                self.client.target.name,
                len(self.call_log.pending),
            )


async def follow_all(followers: list[PbxFollower], stop: asyncio.Event) -> None:
    """Run every client and follower until ``stop`` is set, then close them cleanly.

    Followers stop on the event, not by cancellation, so that each stores what it
    holds; closing a client fails its waiting actions, which frees a resync in progress.
    """
    clients = [asyncio.create_task(f.client.run()) for f in followers]
    consumers = [asyncio.create_task(f.run(stop)) for f in followers]
    await stop.wait()
    for follower in followers:
        await follower.client.close()
    await asyncio.gather(*consumers, return_exceptions=True)
    await asyncio.gather(*clients, return_exceptions=True)


def stop_on_signals(stop: asyncio.Event) -> None:
    """SIGTERM and SIGINT end the worker cleanly (pending calls are stored first)."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
