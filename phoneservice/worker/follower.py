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
from datetime import datetime

from phoneservice.domain.callbacks.originate import FAILED, OriginateWatch
from phoneservice.domain.callbacks.rules import LOST
from phoneservice.pbx.client import (
    AmiClient,
    AmiError,
    Connected,
    Disconnected,
    Item,
    Received,
)
from phoneservice.services.callbacks import OriginateJob
from phoneservice.services.calllog import FLUSH_SECONDS, CallLog
from phoneservice.services.clock import system_clock
from phoneservice.worker.amistate import AmiStateReporter
from phoneservice.worker.dialer import OriginateOutbox

_log = logging.getLogger(__name__)
RESYNC_TIMEOUT = 30.0
ORIGINATE_EVERY = 1.0  # seconds between looks at the outbox of placed calls
ORIGINATE_TIMEOUT = 10.0  # for the Originate's own response (Async: the call goes on)
__all__ = ["PbxFollower", "follow_all", "stop_on_signals", "watch_overrides"]
OVERRIDE_POLL = 15.0  # seconds between looks at the stored overrides (docs/worker.md)


class PbxFollower:
    """Consumes one PBX's AMI items into its call log, stores finished calls, places calls."""

    def __init__(
        self,
        client: AmiClient,
        call_log: CallLog,
        clock: Callable[[], datetime] = system_clock,
        originates: OriginateOutbox | None = None,
        state: AmiStateReporter | None = None,
    ) -> None:
        self.client = client
        self.call_log = call_log
        self.clock = clock
        self.state = state  # writes the connection state for /readyz and /metrics
        self.failures = 0
        self._recheck = asyncio.Event()
        self.originates = originates
        self.watch = OriginateWatch()
        self._watched: set[str] = set()  # ChannelIds sent on this connection, still undecided
        self._next_originate = 0.0

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Handle items until ``stop`` is set; a bad item or a failed store never stops it."""
        stop = stop or asyncio.Event()
        if self.state is not None:
            self.state.started()
        try:
            while not stop.is_set():
                item = await self._next()
                self._report(item)
                if item is not None:
                    await self._safely(item)
                if self.call_log.due():
                    await self._flush()
                if self._originates_due():
                    await self._place_calls()
                if self._recheck.is_set():
                    await self._recheck_queue_log()
        finally:
            await self._flush(final=True)
            if self.state is not None:
                await self.state.close()

    def _report(self, item: Item | None) -> None:
        """Tell the state reporter what happened; it decides when to write (throttled)."""
        state = self.state
        if state is None:
            return
        if isinstance(item, Received):
            state.event(item.received_at)
        elif isinstance(item, Connected):
            state.connected(self.client.reconnects)
        elif isinstance(item, Disconnected):
            state.disconnected()
        state.tick()

    def request_recheck(self) -> None:
        """Ask for the periodic queue_log check (from any thread, via the loop)."""
        self._recheck.set()

    async def _recheck_queue_log(self) -> None:
        """Store calls queue_log finished that the live stream did not log; warn if any."""
        self._recheck.clear()
        reader, at = self.call_log.queue_log, self.call_log.last_seen
        if reader is None or at is None:
            return
        try:
            entries = await asyncio.to_thread(lambda: list(reader()))
            missed = self.call_log.missed_by_stream(entries, at)
            added = await asyncio.to_thread(self.call_log.store, missed, at) if missed else 0
        except Exception:
            self.failures += 1
            _log.exception("AMI %s: queue_log check failed", self.client.target.name)
            return
        if added:
            _log.warning(
                "AMI %s: %d call(s) found only in queue_log were logged",
                self.client.target.name,
                added,
            )

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
            event = item.message.as_dict()
            self.call_log.message(event, item.received_at)
            if self.originates is not None:
                result = self.watch.feed(event)
                if result is not None and result.channel_id is not None:
                    self._watched.discard(result.channel_id)
                    await self._resolve(result.channel_id, result.outcome, item.received_at)
        elif isinstance(item, Disconnected):
            self.call_log.disconnected(self.call_log.last_seen or self.clock())
            await self._lose_watched()
        elif isinstance(item, Connected):
            await self.resync()
            self._next_originate = 0.0  # place what waits right after the resync

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

    def _originates_due(self) -> bool:
        """Whether it is time to look at the outbox (never without one)."""
        if self.originates is None:
            return False
        return asyncio.get_running_loop().time() >= self._next_originate

    async def _place_calls(self) -> None:
        """Send the Originates that wait: each taken (committed) first, sent once, never again.

        Sent from this loop, so that the watch expects an ActionID before the loop can see
        its OriginateResponse. A failed action makes the attempt ``failed``, not a retry.
        """
        outbox = self.originates
        self._next_originate = asyncio.get_running_loop().time() + ORIGINATE_EVERY
        if outbox is None or not self.client.connected:
            return
        try:
            jobs = await asyncio.to_thread(outbox.due)
            for job in jobs:
                if not self.client.connected:
                    break
                if await asyncio.to_thread(outbox.mark_sent, job.channel_id):
                    await self._originate(outbox, job)
        except Exception:
            self.failures += 1
            _log.exception("AMI %s: placing callback calls failed", self.client.target.name)

    async def _originate(self, outbox: OriginateOutbox, job: OriginateJob) -> None:
        """Send one Originate; watch for its outcome, or record that it failed."""
        request = outbox.request(job)
        try:
            response = await self.client.action(
                "Originate", request.fields(), timeout=ORIGINATE_TIMEOUT
            )
        except AmiError as exc:
            name, callback = self.client.target.name, job.callback_id
            _log.warning("AMI %s: Originate of callback %s failed: %s", name, callback, exc)
            await self._resolve(job.channel_id, FAILED, self.clock())
            return
        self.watch.expect(response.action_id or "", job.channel_id)
        self._watched.add(job.channel_id)

    async def _lose_watched(self) -> None:
        """The connection dropped: the outcome of calls sent on it will never be told."""
        if self.originates is None:
            return
        lost, self._watched, self.watch = sorted(self._watched), set(), OriginateWatch()
        for channel_id in lost:
            await self._resolve(channel_id, LOST, self.clock())

    async def _resolve(self, channel_id: str, outcome: str, at: datetime) -> None:
        """Store what became of a placed call, off the event loop; log (not raise) a failure."""
        if self.originates is None:
            return
        try:
            await asyncio.to_thread(self.originates.resolve, channel_id, outcome, at)
        except Exception:
            self.failures += 1
            _log.exception(
                "AMI %s: recording call %s as %s failed",
                self.client.target.name,
                channel_id,
                outcome,
            )

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


async def watch_overrides(
    refresh: Callable[[], bool],
    changed: Callable[[], None],
    stop: asyncio.Event,
    every: float = OVERRIDE_POLL,
) -> None:
    """Every ``every`` seconds re-read the stored overrides off the loop; ``changed()`` if new.

    ``refresh`` says whether the set differs from the one held (and logs a failed read);
    ``changed`` re-plans what depends on them (the scheduler's unit-state job).
    """
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(every):
                await stop.wait()
        if stop.is_set():
            return
        try:
            if await asyncio.to_thread(refresh):
                await asyncio.to_thread(changed)
        except Exception:
            _log.exception("overrides changed, but re-planning after them failed")


def stop_on_signals(stop: asyncio.Event) -> None:
    """SIGTERM and SIGINT end the worker cleanly (pending calls are stored first)."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
