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

from phoneservice.domain.callbacks.originate import (
    FAILED,
    OUTCOME_FAMILY,
    OriginateWatch,
    stored_outcome,
)
from phoneservice.domain.callbacks.rules import LOST
from phoneservice.pbx.client import (
    AmiActionFailed,
    AmiClient,
    AmiError,
    Connected,
    Disconnected,
    Item,
    Received,
)
from phoneservice.pbx.translate import originate_fields
from phoneservice.services.callbacks import OriginateJob
from phoneservice.services.calllog import FLUSH_SECONDS, CallLog
from phoneservice.services.clock import system_clock
from phoneservice.storage.leader import Leadership
from phoneservice.worker.amistate import AmiStateReporter
from phoneservice.worker.dialer import OriginateOutbox
from phoneservice.worker.outage import MAX_PENDING, StoreOutage

_log = logging.getLogger(__name__)
RESYNC_TIMEOUT = 30.0
ORIGINATE_EVERY = 1.0  # seconds between looks at the outbox of placed calls
ORIGINATE_TIMEOUT = 10.0  # for the Originate's own response (Async: the call goes on)
OUTCOME_TIMEOUT = 10.0  # for a DBGet of a callback call's stored outcome after a reconnect
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
        leadership: Leadership | None = None,
    ) -> None:
        self.client = client
        self.call_log = call_log
        self.clock = clock
        self.state = state  # writes the connection state for /readyz and /metrics
        self.failures = 0
        self._recheck = asyncio.Event()
        self.originates = originates
        self.watch = OriginateWatch()
        self._watched: set[str] = set()  # ChannelIds sent, still undecided (across drops)
        self._next_originate = 0.0
        self.leadership = leadership  # callbacks are placed only while it is confirmed
        self.outage = StoreOutage(client.target.name)
        self._recheck_since: datetime | None = None  # after calls were dropped at the bound

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
                    self._bound()
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
        client = self.client
        state.counts(client.queue_depth, client.dropped + client.oversized)
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
        if reader is None or at is None or self.outage.active:
            return
        since, self._recheck_since = self._recheck_since, None
        try:
            entries = await asyncio.to_thread(lambda: list(reader()))
            missed = self.call_log.missed_by_stream(entries, at, since)
            added = await asyncio.to_thread(self.call_log.store, missed, at) if missed else 0
        except Exception:
            self.failures += 1
            self._recheck_since = self._recheck_since or since  # try the same span again
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
            event = self.call_log.message(item.message.as_dict(), item.received_at)
            if self.originates is not None:
                result = self.watch.feed(event)
                if result is not None and result.channel_id is not None and not result.final:
                    await self._agent_answered(result.channel_id)
                elif result is not None and result.channel_id is not None:
                    self._watched.discard(result.channel_id)
                    await self._resolve(result.channel_id, result.outcome, item.received_at)
        elif isinstance(item, Disconnected):
            self.call_log.disconnected(self.call_log.last_seen or self.clock())
            self.watch = OriginateWatch()  # undecided calls are asked for after the reconnect
        elif isinstance(item, Connected):
            await self.resync()
            await self._recover_outcomes()
            self._next_originate = 0.0  # place what waits right after the resync

    async def resync(self) -> None:
        """Ask which channels live and who waits in which queue; take the calls over.

        Each answer is timed when it came: ``Duration`` and ``Wait`` count back from
        there, never from the last event before the gap. Then the calls that vanished
        are finished (and reconciled).
        """
        try:
            rows = await self.client.list_action("CoreShowChannels", timeout=RESYNC_TIMEOUT)
        except AmiError as exc:  # the next connection resyncs again; calls stay in flight
            _log.warning("AMI %s: resync failed: %s", self.client.target.name, exc)
            return
        self.call_log.resynced(self.call_log.listed(row.as_dict() for row in rows), self.clock())
        await self._queue_status()
        await self._flush()

    async def _queue_status(self) -> None:
        """The callers waiting now (QueueStatus): their ``Wait`` times the joins not seen."""
        try:
            items = await self.client.list_action("QueueStatus", timeout=RESYNC_TIMEOUT)
        except AmiError as exc:  # joins stay timed by what follows (HoldTime, queue_log)
            _log.warning("AMI %s: QueueStatus failed: %s", self.client.target.name, exc)
            return
        entries = self.call_log.listed(item.as_dict() for item in items)
        self.call_log.queue_status(entries, self.clock())

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
        if outbox is None or not self.client.connected or not self._may_place():
            return
        try:
            jobs = await asyncio.to_thread(outbox.due)
            for job in jobs:
                if not self.client.connected:
                    break
                if await asyncio.to_thread(outbox.mark_sent, job.channel_id):
                    await self._originate(outbox, job)
        except Exception as exc:  # the database is away: one line per outage
            self.failures += 1
            self.outage.failed(exc, len(self.call_log.pending))
        else:
            if self.outage.active and not self.call_log.pending:
                self.outage.succeeded(0)  # else the next store ends the outage

    def _may_place(self) -> bool:
        """Not while the leader lock is in doubt; during an outage, at the retry times."""
        if self.leadership is not None and not self.leadership.confirmed:
            return False
        return self.outage.may_try()

    async def _originate(self, outbox: OriginateOutbox, job: OriginateJob) -> None:
        """Send one Originate; watch for its outcome, or record that it failed."""
        request = outbox.request(job)
        try:
            response = await self.client.action(
                "Originate", originate_fields(request), timeout=ORIGINATE_TIMEOUT
            )
        except AmiError as exc:
            name, callback = self.client.target.name, job.callback_id
            _log.warning("AMI %s: Originate of callback %s failed: %s", name, callback, exc)
            await self._resolve(job.channel_id, FAILED, self.clock())
            return
        self.watch.expect(response.action_id or "", job.channel_id)
        self._watched.add(job.channel_id)

    async def _recover_outcomes(self) -> None:
        """After a reconnect, decide each call sent before the drop from what the PBX kept:
        the DIALSTATUS the dialplan stored (DBGet), else the call is still up and followed
        on; ``lost`` only when neither tells (docs/callbacks.md)."""
        if self.originates is None:
            return
        try:  # calls a worker before this one sent, too (a restart, a takeover)
            self._watched |= set(await asyncio.to_thread(self.originates.sent))
        except Exception as exc:
            _log.error("AMI %s: sent callback calls not read: %s", self.client.target.name, exc)
        unknown = []
        for channel_id in sorted(self._watched):
            try:
                status = await self._stored_status(channel_id)
            except AmiError as exc:  # no answer: the next connection asks again
                _log.warning("AMI %s: callback outcomes not read: %s", self.client.target.name, exc)
                return
            if status is None:
                unknown.append(channel_id)
            else:
                self._watched.discard(channel_id)
                await self._resolve(channel_id, stored_outcome(status), self.clock())
        live = await self._live_channels() if unknown else set()
        for channel_id in unknown:
            if channel_id in live:
                self.watch.follow(channel_id)
            else:
                self._watched.discard(channel_id)
                await self._resolve(channel_id, LOST, self.clock())

    async def _stored_status(self, channel_id: str) -> str | None:
        """The DIALSTATUS the dialplan stored for a call; None when the PBX has none."""
        try:
            return await self.client.db_get(OUTCOME_FAMILY, channel_id, timeout=OUTCOME_TIMEOUT)
        except AmiActionFailed as exc:
            _log.warning("AMI %s: DBGet of call %s: %s", self.client.target.name, channel_id, exc)
            return None

    async def _live_channels(self) -> set[str]:
        """The Uniqueids and Linkedids of the channels up now; empty if the PBX cannot say."""
        try:
            rows = await self.client.list_action("CoreShowChannels", timeout=RESYNC_TIMEOUT)
        except AmiError as exc:
            _log.warning("AMI %s: no channel list for callbacks: %s", self.client.target.name, exc)
            return set()
        listed = self.call_log.listed(row.as_dict() for row in rows)
        return {i for e in listed for i in (e.channel.uniqueid, e.channel.linkedid)} - {""}

    async def _agent_answered(self, channel_id: str) -> None:
        """Store that the agent answered a placed call (the page shows the citizen's phone
        ringing); a failure only costs that step, the outcome is still recorded."""
        outbox = self.originates
        if outbox is None:
            return
        try:
            await asyncio.to_thread(outbox.agent_answered, channel_id)
        except Exception:
            self.failures += 1
            _log.exception(
                "AMI %s: call %s answered by the agent, not recorded",
                self.client.target.name,
                channel_id,
            )

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
        if not (final or self.outage.may_try()):
            self.outage.pending(len(self.call_log.pending))
            return
        before = self.call_log.stored
        try:
            await asyncio.to_thread(self.call_log.flush, final)
        except Exception as exc:  # kept pending; one line per outage, not per attempt
            self.failures += 1
            self.outage.failed(exc, len(self.call_log.pending))
            if final:
                _log.error(
                    "AMI %s: stopping with %d call(s) not stored",
                    self.client.target.name,
                    len(self.call_log.pending),
                )
        else:
            if self.outage.active:
                self.outage.succeeded(self.call_log.stored - before)
                if self._recheck_since is not None:
                    self._recheck.set()  # calls dropped at the bound: queue_log has them
        self.outage.pending(len(self.call_log.pending))

    def _bound(self) -> None:
        """Drop the oldest finished calls beyond ``MAX_PENDING`` (said once per outage)."""
        pending = self.call_log.pending
        excess = len(pending) - MAX_PENDING
        if excess <= 0:
            return
        earliest = min(call.arrived_at for call in pending[:excess])
        if self._recheck_since is None or earliest < self._recheck_since:
            self._recheck_since = earliest
        del pending[:excess]
        self.outage.overflow(excess)
        self.outage.pending(len(pending))


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
