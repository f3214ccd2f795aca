"""A supervised AMI client per PBX: connect, log in, read, keep alive, reconnect for ever.

:class:`AmiClient` owns one PBX's connection. Its reader never runs consumer code: every
message becomes a :class:`Received` in a bounded queue, between a :class:`Connected` and
a :class:`Disconnected` that carry the connection's ``epoch``. The consumer reads them
with ``async for item in client.items()`` and resyncs on every ``Connected``. A full queue
is never silent: the client drops the connection (``Disconnected(reason="overflow")``),
waits for the consumer to catch up and connects again. Actions are answered by ActionID,
fail with :class:`AmiDisconnected` when the connection drops first, and are never re-sent.
See ``docs/ami.md``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeAlias

from phoneservice.pbx.connection import (
    AmiActionFailed,
    AmiDisconnected,
    AmiError,
    AmiTarget,
    AmiTimeout,
    Dropped,
    Fields,
    HandshakeFailed,
    LoginRefused,
    Session,
    handshake,
    parse_targets,
)
from phoneservice.pbx.protocol import Message, Wanted

__all__ = [
    "AmiActionFailed",
    "AmiClient",
    "AmiDisconnected",
    "AmiError",
    "AmiTarget",
    "AmiTimeout",
    "Connected",
    "Disconnected",
    "Item",
    "Received",
    "backoff_delay",
    "parse_targets",
    "run_all",
]

logger = logging.getLogger(__name__)

_OWN_ACTIONS = frozenset({"login", "logoff", "challenge"})
_DB_NOT_FOUND = "Database entry not found"  # Asterisk's DBGet answer when no entry exists


@dataclass(frozen=True, slots=True)
class Connected:
    """Logged in on a new connection: a new epoch starts, and the consumer should resync."""

    pbx: str
    epoch: int
    banner: str


@dataclass(frozen=True, slots=True)
class Disconnected:
    """The epoch's connection ended; events until the next :class:`Connected` are unseen."""

    pbx: str
    epoch: int
    reason: str


@dataclass(frozen=True, slots=True)
class Received:
    """One message read on the epoch's connection (events, and answers nobody waited for)."""

    pbx: str
    epoch: int
    message: Message
    received_at: datetime


Item: TypeAlias = Connected | Disconnected | Received


def backoff_delay(
    outage: float, late: int, policy: tuple[float, float, float], rng: random.Random
) -> float:
    """Seconds before the next attempt, ``outage`` seconds into an outage.

    ``policy`` is ``(initial, window, maximum)``. Within the first ``window`` seconds the
    pause is ``initial`` ± 25 %, so a PBX that restarts is found again at once; after it,
    attempt ``late`` (0 first) waits ``min(maximum, initial · 2^(late+1))`` times
    U(0.5, 1): doubling, capped, jittered.
    """
    initial, window, maximum = policy
    if outage < window:
        return min(maximum, initial * rng.uniform(0.75, 1.25))
    ceiling = min(maximum, initial * 2.0 ** min(late + 1, 64))
    return ceiling * rng.uniform(0.5, 1.0)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class AmiClient:
    """One PBX's AMI connection, kept up until :meth:`close`; items come from :meth:`items`."""

    def __init__(
        self,
        target: AmiTarget,
        *,
        queue_size: int = 10000,
        ping_interval: float = 8.0,
        pong_timeout: float = 5.0,
        connect_timeout: float = 5.0,
        backoff_initial: float = 2.0,
        backoff_window: float = 60.0,
        backoff_max: float = 30.0,
        rng: random.Random | None = None,
        clock: Callable[[], datetime] = _utc_now,
        events: Wanted | None = None,
    ) -> None:
        _check_settings(locals())
        self.target, self.queue_size = target, queue_size
        self.events = events
        """The events delivered (None: every one); others are dropped as they are framed."""
        self.ping_interval, self.pong_timeout = ping_interval, pong_timeout
        self.connect_timeout = connect_timeout
        self.backoff_initial, self.backoff_max = backoff_initial, backoff_max
        self.backoff_window = backoff_window
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not secrecy
        self._clock = clock
        # JSON log lines carry the PBX as a field of their own (phoneservice/logs.py)
        self._log = logging.LoggerAdapter(logger, {"pbx": target.name})
        self._queue: asyncio.Queue[Item] = asyncio.Queue()
        self._drained, self._up = asyncio.Event(), asyncio.Event()
        self._closing, self._stopped = asyncio.Event(), asyncio.Event()
        self._running = False
        self._session: Session | None = None
        self._ids = itertools.count(1)
        self._epoch = self._logins = self._dropped = self._streak = self._late = 0
        self._oversized = 0
        self._began = 0.0
        self._outage: float | None = None  # loop time the current outage began
        self._refused = False  # the last attempt was a refused login: no quick retry
        self._last_event_at: datetime | None = None
        self.last_error: str | None = None
        """Why the last attempt failed or the last connection ended; None while connected."""

    @property
    def connected(self) -> bool:
        """Whether a logged-in connection is up now."""
        return self._session is not None

    @property
    def epoch(self) -> int:
        """The number of the current (or last) connection attempt, 1 first."""
        return self._epoch

    @property
    def reconnects(self) -> int:
        """How often the client logged in again after its first login."""
        return max(0, self._logins - 1)

    @property
    def dropped(self) -> int:
        """How often the queue overflowed; each time the connection was dropped to resync."""
        return self._dropped

    @property
    def oversized(self) -> int:
        """Messages refused for their size; each time the connection was dropped to resync."""
        return self._oversized

    @property
    def last_event_at(self) -> datetime | None:
        """When the last message was read (aware UTC), if any."""
        return self._last_event_at

    @property
    def queue_depth(self) -> int:
        """Items waiting for the consumer."""
        return self._queue.qsize()

    async def run(self) -> None:
        """Connect, log in and read; reconnect with capped, jittered backoff until closed."""
        if self._running:
            raise RuntimeError(f"AMI {self.target.name}: run() is already going")
        self._running = True
        self._stopped.clear()
        try:
            while not self._closing.is_set():
                await self._until_closed(self._attempt())
                if not self._closing.is_set():
                    await self._until_closed(self._pause())
        finally:
            self._running = False
            self._stopped.set()

    async def close(self) -> None:
        """Stop for good: drop the connection (waiting actions fail) and let run() return."""
        self._closing.set()
        if self._running:
            await self._stopped.wait()

    async def get(self) -> Item:
        """The next item, waiting for one."""
        item = await self._queue.get()
        if self._queue.qsize() <= self.queue_size // 2:
            self._drained.set()
        return item

    async def items(self) -> AsyncIterator[Item]:
        """Every item in order, for ever: ``async for item in client.items()``."""
        while True:
            yield await self.get()

    async def wait_connected(self, timeout: float | None = None) -> int:
        """Wait until logged in; returns the epoch. AmiTimeout if that takes too long."""
        try:
            async with asyncio.timeout(timeout):
                await self._up.wait()
        except TimeoutError:
            raise AmiTimeout(f"AMI {self.target.name}: not connected in {timeout} s") from None
        return self._epoch

    async def action(self, name: str, fields: Fields = (), *, timeout: float = 10.0) -> Message:
        """Send an action and return its response; it is never re-sent after a reconnect."""
        return await self._live(name).request(name, fields, timeout)

    async def list_action(
        self, name: str, fields: Fields = (), *, timeout: float = 30.0
    ) -> list[Message]:
        """Send an EventList action (QueueStatus...); its items are returned, not delivered."""
        return await self._live(name).request_list(name, fields, timeout)

    async def db_get(self, family: str, key: str, *, timeout: float = 10.0) -> str | None:
        """A value the dialplan keeps in the PBX's database (AstDB); None when it has none."""
        try:
            items = await self.list_action(
                "DBGet", [("Family", family), ("Key", key)], timeout=timeout
            )
        except AmiActionFailed as exc:
            if exc.response.get("Message") != _DB_NOT_FOUND:
                raise
            return None
        values = [item.get("Val") for item in items if item.event == "DBGetResponse"]
        return next((value or "" for value in values), None)

    def _live(self, name: str) -> Session:
        if name.casefold() in _OWN_ACTIONS:
            raise ValueError(f"the client sends {name} itself")
        if self._session is None:
            raise AmiDisconnected(f"{name}: {self.target.name} is down ({self.last_error})")
        return self._session

    def _next_id(self) -> str:
        return f"{self.target.name}-{self._epoch}-{next(self._ids)}"

    async def _until_closed(self, job: Coroutine[Any, Any, None]) -> None:
        """Run ``job`` until it ends or close() is called, whichever comes first."""
        task = asyncio.create_task(job)
        closing = asyncio.create_task(self._closing.wait())
        try:
            await asyncio.wait((task, closing), return_when=asyncio.FIRST_COMPLETED)
        finally:
            task.cancel()
            closing.cancel()
            await asyncio.gather(task, closing, return_exceptions=True)
        if not task.cancelled():
            task.result()

    async def _attempt(self) -> None:
        """One connection from opening to its end; a failure is logged and counted."""
        self._epoch += 1
        target = self.target
        try:
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow the cancellation
            # that close() sends, and the connection would then live on.
            async with asyncio.timeout(self.connect_timeout):
                reader, writer = await asyncio.open_connection(target.host, target.port)
        except (OSError, TimeoutError) as exc:
            self._failed(exc)
            return
        try:
            await self._converse(reader, writer)
        except Exception as exc:  # a bug must not end run(): log it, back off, try again
            self._log.exception("AMI %s: unexpected error", target.name)
            self._failed(exc)
        finally:
            writer.transport.abort()  # an RST: nothing is left to say, and nobody to wait for
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _converse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        credentials = (self.target.username, self.target.secret)
        try:
            async with asyncio.timeout(self.connect_timeout):
                greeting = await handshake(reader, writer, credentials, self._next_id())
        except (HandshakeFailed, OSError, TimeoutError) as exc:
            self._failed(exc)
            return
        greeting.framer.keep = self.events
        session = Session(reader, writer, next_id=self._next_id, deliver=self._deliver)
        self._begin(session, greeting.banner)
        reason = "closed"
        try:
            reason = await session.serve(greeting, self.ping_interval, self.pong_timeout)
        finally:
            self._oversized += session.oversized
            self._end(session, reason)

    def _deliver(self, message: Message) -> None:
        """The reader's only hand-off: never waits, never runs consumer code."""
        if self._queue.qsize() >= self.queue_size:
            self._dropped += 1
            self._log.error(
                "AMI %s: %d items wait for the consumer; dropping connection %d to resync",
                *(self.target.name, self._queue.qsize(), self._epoch),
            )
            raise Dropped("overflow")
        self._last_event_at = now = self._clock()
        self._queue.put_nowait(Received(self.target.name, self._epoch, message, now))

    def _begin(self, session: Session, banner: str) -> None:
        self._session, self.last_error, self._refused = session, None, False
        self._logins += 1
        self._began = asyncio.get_running_loop().time()
        self._up.set()
        self._log.info("AMI %s: connected, epoch %d (%s)", self.target.name, self._epoch, banner)
        self._queue.put_nowait(Connected(self.target.name, self._epoch, banner))

    def _end(self, session: Session, reason: str) -> None:
        session.end(reason)
        self._session, self.last_error = None, reason
        self._up.clear()
        now = asyncio.get_running_loop().time()
        if now - self._began >= self.backoff_max or self._outage is None:
            self._outage, self._streak, self._late = now, 1, 0  # a new outage
        else:
            self._streak += 1  # a connection that did not last: the same outage goes on
        self._log.warning("AMI %s: connection %d ended: %s", self.target.name, self._epoch, reason)
        self._queue.put_nowait(Disconnected(self.target.name, self._epoch, reason))

    def _failed(self, error: BaseException) -> None:
        self._streak += 1
        if self._outage is None:
            self._outage = asyncio.get_running_loop().time()
        self._refused = isinstance(error, LoginRefused)
        if isinstance(error, TimeoutError):
            self.last_error = f"no answer in {self.connect_timeout:g} s"
        else:
            self.last_error = str(error) or type(error).__name__
        level = logging.ERROR if isinstance(error, LoginRefused) else logging.WARNING
        target = self.target
        self._log.log(
            level,
            "AMI %s: %s (user %s, %s:%d), attempt %d",
            *(target.name, self.last_error, target.username, target.host, target.port),
            self._streak,
        )

    async def _pause(self) -> None:
        """Wait for a consumer that is behind to catch up, then out the backoff."""
        while self._queue.qsize() > self.queue_size // 2:
            self._drained.clear()
            await self._drained.wait()
        delay = self._next_delay()
        self._log.info("AMI %s: next attempt in %.2f s", self.target.name, delay)
        await asyncio.sleep(delay)

    def _next_delay(self) -> float:
        """The pause before the next attempt: quick early in an outage, then backing off."""
        began = self._outage if self._outage is not None else asyncio.get_running_loop().time()
        outage = asyncio.get_running_loop().time() - began
        if self._refused:  # a wrong secret is no outage: retrying quickly would not help
            outage = max(outage, self.backoff_window)
        policy = (self.backoff_initial, self.backoff_window, self.backoff_max)
        delay = backoff_delay(outage, self._late, policy, self._rng)
        if outage >= self.backoff_window:
            self._late += 1
        return delay


def _check_settings(values: dict[str, Any]) -> None:
    """Reject non-positive sizes, intervals and timeouts at once, naming every one."""
    names = ("queue_size", "ping_interval", "pong_timeout", "connect_timeout", "backoff_window")
    problems = [f"{n} must be > 0, got {values[n]!r}" for n in names if not values[n] > 0]
    if not 0 < values["backoff_initial"] <= values["backoff_max"]:
        problems.append("backoff needs 0 < backoff_initial <= backoff_max")
    if problems:
        raise ValueError("; ".join(problems))


async def run_all(clients: Iterable[AmiClient]) -> None:
    """Run several PBXs' clients side by side until every one is closed."""
    async with asyncio.TaskGroup() as group:
        for client in clients:
            group.create_task(client.run(), name=f"ami-{client.target.name}")
