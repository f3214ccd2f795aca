"""One AMI connection over asyncio streams: target, greeting, login, reader, keep-alive.

A :class:`Session` lives exactly as long as its TCP connection. Its reader frames bytes
with a :class:`~phoneservice.pbx.protocol.Framer`, hands each answer to the action waiting
for its ActionID and everything else to a ``deliver`` function that must not block (it
puts the message in a queue). The keep-alive sends ``Ping`` when no complete message has
come for a while and ends the session when no answer comes in time: bytes that never
make up a message do not keep a connection alive. The session never reconnects and never
re-sends anything: that policy belongs to :class:`~phoneservice.pbx.client.AmiClient`.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

from phoneservice.pbx.protocol import (
    BANNER_PREFIX,
    Framer,
    Message,
    MessageTooLarge,
    encode_action,
    parse_banner,
)

logger = logging.getLogger(__name__)

Fields = Mapping[str, str] | Iterable[tuple[str, str]]
"""An action's headers; pairs allow a repeated key such as ``Variable``."""

_READ_SIZE = 1 << 16
_MAX_BANNER = 1024
T = TypeVar("T")


class AmiError(Exception):
    """Something went wrong talking to a PBX over AMI."""


class AmiDisconnected(AmiError):
    """The connection was down, or dropped before the answer came; the action is not re-sent."""


class AmiTimeout(AmiError):
    """No answer came within the action's timeout; the connection may still be up."""


class AmiActionFailed(AmiError):
    """The PBX answered the action with ``Response: Error``."""

    def __init__(self, action: str, response: Message) -> None:
        super().__init__(f"{action} failed: {response.get('Message') or response.response}")
        self.response = response


class Dropped(Exception):
    """The connection must end; ``reason`` says why (``overflow``, ``eof``, ``no-pong``...)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class HandshakeFailed(Exception):
    """The peer is not an AMI server, or closed or stalled before the login was answered."""


class LoginRefused(HandshakeFailed):
    """The PBX refused the username or secret."""


DEFAULT_PORT = 5038


@dataclass(frozen=True, slots=True)
class AmiTarget:
    """Where one PBX's AMI listens and whom to log in as; the secret stays out of the repr."""

    name: str
    host: str
    port: int
    username: str
    secret: str = field(repr=False)

    def __post_init__(self) -> None:
        problems = [
            "no name" if not self.name else "",
            "no host" if not self.host else "",
            f"port {self.port} is not 1-65535" if not 0 < self.port < 65536 else "",
            "no username" if not self.username else "",
            "no secret (PHONESERVICE_AMI_SECRET or _SECRET_FILE)" if not self.secret else "",
            "the secret contains a line break" if _breaks_lines(self.secret) else "",
            "the username contains a line break" if _breaks_lines(self.username) else "",
        ]
        if any(problems):
            raise ValueError(f"AMI target {self.name!r}: " + "; ".join(p for p in problems if p))


def parse_targets(urls: str, secret: str) -> list[AmiTarget]:
    """The PBXs in ``PHONESERVICE_AMI_URL``: ``ami://user@host[:port][?name=x]``, comma between."""
    targets, problems = [], []
    for number, entry in enumerate((e.strip() for e in urls.split(",")), 1):
        try:
            targets.append(_target(entry, secret))
        except ValueError as exc:
            problems.append(f"entry {number} ({_redacted(entry)!r}): {exc}")
    twice = [name for name, count in Counter(t.name for t in targets).items() if count > 1]
    problems += [f"two PBXs named {name!r}: tell them apart with ?name=" for name in twice]
    if problems:
        raise ValueError("PHONESERVICE_AMI_URL: " + "; ".join(problems))
    return targets


def _target(entry: str, secret: str) -> AmiTarget:
    """One ``ami://`` URL as a target; ValueError saying what is wrong with it."""
    parts = urlsplit(entry)
    if parts.scheme != "ami" or not parts.netloc:
        raise ValueError("expected ami://user@host[:port]")
    if parts.password is not None:
        raise ValueError("a password in the URL: give it in PHONESERVICE_AMI_SECRET instead")
    if (parts.path and parts.path != "/") or parts.fragment:
        raise ValueError("unexpected path or fragment")
    query = parse_qs(parts.query, keep_blank_values=True)
    if set(query) - {"name"}:
        raise ValueError(f"unknown options {sorted(set(query) - {'name'})}; only ?name= is known")
    host, port = parts.hostname or "", parts.port  # .port raises ValueError if not a number
    default_name = host if port is None else f"{host}:{port}"
    name = query.get("name", [default_name])[-1]
    return AmiTarget(name, host, port or DEFAULT_PORT, unquote(parts.username or ""), secret)


def _redacted(entry: str) -> str:
    return re.sub(r"(//[^/@:]*):[^/@]*@", r"\1:***@", entry)


def _breaks_lines(text: str) -> bool:
    return "\r" in text or "\n" in text


@dataclass(frozen=True, slots=True)
class Greeting:
    """What the handshake leaves: the banner and whatever arrived after the login answer."""

    banner: str
    early: tuple[Message, ...]
    framer: Framer


async def handshake(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    credentials: tuple[str, str],
    action_id: str,
) -> Greeting:
    """Check the banner and log in; raises :class:`HandshakeFailed` or :class:`LoginRefused`."""
    banner, buffer = await _read_banner(reader)
    username, secret = credentials
    login = [("Username", username), ("Secret", secret), ("Events", "on")]
    writer.write(encode_action("Login", action_id, login))
    await writer.drain()
    framer = Framer(buffer)
    data = b""
    while True:
        try:
            messages = framer.feed(data)
        except MessageTooLarge as exc:
            raise HandshakeFailed(f"not an AMI server: {exc}") from None
        for index, message in enumerate(messages):
            if message.action_id == action_id and message.response is not None:
                _check_login(message)
                return Greeting(banner, tuple(messages[index + 1 :]), framer)
        data = await _read_some(reader, "before answering the login")


async def _read_banner(reader: asyncio.StreamReader) -> tuple[str, bytes]:
    """The greeting line, which must be Asterisk's, and the bytes after it."""
    buffer = b""
    line, rest = parse_banner(buffer)
    while line is None:
        if len(buffer) > _MAX_BANNER:
            raise HandshakeFailed(f"not an AMI server: no greeting line in {len(buffer)} bytes")
        buffer += await _read_some(reader, "before the banner")
        line, rest = parse_banner(buffer)
    if not line.startswith(BANNER_PREFIX):
        raise HandshakeFailed(f"not an AMI server: the greeting is {line!r:.80}")
    return line, rest


async def _read_some(reader: asyncio.StreamReader, when: str) -> bytes:
    data = await reader.read(_READ_SIZE)
    if not data:
        raise HandshakeFailed(f"the PBX closed the connection {when}")
    return data


def _check_login(answer: Message) -> None:
    if answer.response != "Success":
        raise LoginRefused(f"login refused: {answer.get('Message') or answer.response}")


class _Waiter(Generic[T]):
    """An action waiting for its answer; ``take`` says whether a message belongs to it."""

    def __init__(self, action: str) -> None:
        self.action = action
        self.future: asyncio.Future[T] = asyncio.get_running_loop().create_future()

    def take(self, message: Message) -> bool:
        """Whether ``message`` belongs to this action; each kind of waiter defines it."""
        raise NotImplementedError

    def fail(self, answer: Message) -> bool:
        """Fail with the PBX's error if ``answer`` is one; whether it was."""
        if (answer.response or "").casefold() != "error":
            return False
        self.future.set_exception(AmiActionFailed(self.action, answer))
        return True


class _Answer(_Waiter[Message]):
    """A plain action: its one response. Later events with its ActionID are ordinary events."""

    def take(self, message: Message) -> bool:
        if self.future.done() or message.response is None:
            return False
        if not self.fail(message):
            self.future.set_result(message)
        return True


class _Listing(_Waiter[list[Message]]):
    """An EventList action: the response, then its items, up to the ``...Complete`` event."""

    def __init__(self, action: str) -> None:
        super().__init__(action)
        self.items: list[Message] = []

    def take(self, message: Message) -> bool:
        if self.future.done():
            return False
        if message.response is not None:
            if not self.fail(message) and (message.get("EventList") or "").casefold() != "start":
                self.future.set_result([])  # answered, but not with a list
        elif _completes(message):
            _check_count(message, self.items)
            self.future.set_result(self.items)
        else:
            self.items.append(message)
        return True


def _completes(event: Message) -> bool:
    return (event.get("EventList") or "").casefold() == "complete" or (event.event or "").endswith(
        "Complete"
    )


def _check_count(complete: Message, items: list[Message]) -> None:
    listed = complete.get("ListItems")
    if listed is not None and listed != str(len(items)):
        logger.warning("%s says %s items, %d arrived", complete.event, listed, len(items))


class Session:
    """One logged-in connection: frames what it reads, matches answers, keeps the line alive."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        next_id: Callable[[], str],
        deliver: Callable[[Message], None],
    ) -> None:
        self._reader, self._writer = reader, writer
        self._next_id, self._deliver = next_id, deliver
        self._waiting: dict[str, _Waiter[Any]] = {}
        self._loop = asyncio.get_running_loop()
        self._last_message = self._loop.time()
        self._ended: str | None = None
        self.oversized = 0
        """Messages refused for their size (the connection ends with the first)."""

    async def serve(self, greeting: Greeting, ping_interval: float, pong_timeout: float) -> str:
        """Read and keep alive until the first fault; returns why the connection ended."""
        jobs = [
            asyncio.create_task(self._read(greeting.early, greeting.framer), name="ami-reader"),
            asyncio.create_task(self._keep_alive(ping_interval, pong_timeout), name="ami-ping"),
        ]
        try:
            done, _ = await asyncio.wait(jobs, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for job in jobs:
                job.cancel()
            await asyncio.gather(*jobs, return_exceptions=True)
        return _reason(done.pop())

    def end(self, reason: str) -> None:
        """Fail every action still waiting: it may or may not have run, and is never re-sent."""
        self._ended = reason
        waiting, self._waiting = self._waiting, {}
        for action_id, waiter in waiting.items():
            if not waiter.future.done():
                error = AmiDisconnected(f"{waiter.action} ({action_id}): connection lost, {reason}")
                waiter.future.set_exception(error)

    async def request(self, name: str, fields: Fields, timeout: float) -> Message:
        """Send an action and wait for its response."""
        return await self._exchange(_Answer(name), fields, timeout)

    async def request_list(self, name: str, fields: Fields, timeout: float) -> list[Message]:
        """Send an EventList action and wait for all its items."""
        return await self._exchange(_Listing(name), fields, timeout)

    async def _exchange(self, waiter: _Waiter[T], fields: Fields, timeout: float) -> T:
        if self._ended is not None:
            raise AmiDisconnected(f"{waiter.action}: not connected ({self._ended})")
        action_id = self._next_id()
        data = encode_action(waiter.action, action_id, fields)
        self._waiting[action_id] = waiter
        try:
            async with asyncio.timeout(timeout):
                self._writer.write(data)
                await self._writer.drain()
                return await waiter.future
        except TimeoutError:
            raise AmiTimeout(f"{waiter.action} ({action_id}): no answer in {timeout:g} s") from None
        except ConnectionError as exc:
            raise AmiDisconnected(f"{waiter.action} ({action_id}): {exc}") from exc
        finally:
            self._waiting.pop(action_id, None)
            if waiter.future.done() and not waiter.future.cancelled():
                waiter.future.exception()  # retrieved: no "never retrieved" noise

    async def _read(self, early: Iterable[Message], framer: Framer) -> str:
        for message in early:
            self._route(message)
        data, framed = b"", framer.framed
        while True:
            try:
                messages = framer.feed(data)
            except MessageTooLarge as exc:
                self.oversized += 1
                # the size only: the content may hold a citizen's number
                raise Dropped(f"oversized: {exc}") from None
            if framer.framed != framed:  # a dropped event is a sign of life too
                framed, self._last_message = framer.framed, self._loop.time()
            for message in messages:
                self._route(message)
            data = await self._reader.read(_READ_SIZE)
            if not data:
                return "eof"

    def _route(self, message: Message) -> None:
        action_id = message.action_id
        waiter = self._waiting.get(action_id) if action_id is not None else None
        if waiter is None or not waiter.take(message):
            self._deliver(message)

    async def _keep_alive(self, interval: float, timeout: float) -> str:
        """Ping after ``interval`` without a complete message; no answer in ``timeout``: end."""
        while True:
            quiet = self._loop.time() - self._last_message
            if quiet < interval:
                await asyncio.sleep(interval - quiet)
                continue
            try:
                await self.request("Ping", (), timeout)
            except AmiTimeout:
                return f"no-pong: no answer to Ping in {timeout:g} s"
            except AmiActionFailed:
                self._last_message = self._loop.time()  # an answer all the same


def _reason(job: asyncio.Task[str]) -> str:
    """Why a reader or keep-alive job ended, as a short code with detail."""
    error = job.exception()
    if error is None:
        return job.result()
    if isinstance(error, Dropped):
        return error.reason
    if isinstance(error, ConnectionResetError):
        return "reset"
    if isinstance(error, (OSError, AmiDisconnected)):
        return f"socket-error: {error}"
    logger.error("AMI %s died", job.get_name(), exc_info=error)
    return f"reader-died: {error!r}"
