"""A replay AMI server on loopback: serves recorded ``.ami`` sessions to a real client.

Used by the adapter's tests and by the demo. Each connection is served one
:class:`Script`: the first connection the first script, and so on (part1 then part2 of
g-reconnect); connections beyond the list are closed at once. A session goes:

1. The recorded banner; then actions are read until ``Login``. Before it, any other
   action gets ``Response: Error`` / ``Permission denied``, as from Asterisk. A wrong
   username or secret (when configured) gets ``Authentication failed`` and a close
   (Asterisk also waits 1 s first; this does not); otherwise ``Authentication accepted``
   with the client's ActionID. ``Events:`` and MD5 challenges are not supported.
2. The recorded messages after the recorded login answer stream out, as fast as possible
   or paced by ``<name>.timing.jsonl`` (``speed`` 1.0 is real time, 10.0 ten times
   faster), in seeded random chunk sizes when ``chunks`` is given. The recorded closing
   ``Goodbye`` is not streamed: it belongs to the recorded client's Logoff.
3. Any time after login, ``Ping`` gets ``Ping: Pong`` with a Timestamp, ``Logoff`` gets
   ``Goodbye`` and a close, a second ``Login`` gets ``Already authenticated``.
4. Answers the recorded client got (its ``conn: rec`` actions in the scenario's
   ``.sent.jsonl``: ``CoreShowChannels``/``QueueStatus`` in g-reconnect.part2,
   ``Originate`` in f-callback) stay where the recording has them. The stream waits there
   up to ``answer_wait`` seconds for the client to send an action of that name (actions
   are matched by name, in order), then sends the answer, its list items and its
   ``OriginateResponse`` with the client's ActionID. If the client has not asked by
   then, they go out as recorded. An action with no recorded answer left, or one the
   recording never answered, gets ``Response: Error``.
5. When the recording is done, or at a cut, the script's :data:`Ending` applies.
"""

from __future__ import annotations

import asyncio
import bisect
import concurrent.futures
import contextlib
import fcntl
import hmac
import json
import random
import socket
import struct
import termios
import threading
import time
from collections import Counter, defaultdict, deque
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from phoneservice.pbx.protocol import Message, encode, parse, read_recording

Ending = Literal["idle", "stall", "close", "reset"]
"""idle: stop streaming, keep answering (a quiet PBX); stall: send and answer nothing
more, like a hung peer; close: FIN, then wait for the client to close; reset: RST, once
the client's kernel has every byte sent."""

_SPECIAL_ACTIONS = frozenset({"login", "logoff"})


@dataclass(frozen=True, slots=True)
class Script:
    """What one connection gets: a recording, an optional cut, and how it ends."""

    path: Path
    cut_after_bytes: int | None = None
    """Drop the connection once this many bytes, counted from the banner, are sent."""
    cut_after_messages: int | None = None
    """Drop it once this many recorded messages after the login answer are sent."""
    ending: Ending = "idle"

    def __post_init__(self) -> None:
        cut = self.cut_after_bytes is not None or self.cut_after_messages is not None
        if cut and self.ending == "idle":
            raise ValueError(f"{self.path}: a cut needs ending stall, close or reset")
        if min(self.cut_after_bytes or 0, self.cut_after_messages or 0) < 0:
            raise ValueError(f"{self.path}: cut points must not be negative")


class _Cut(Exception):
    """The script's cut point was reached."""


@dataclass(frozen=True, slots=True)
class Replay:
    """A recording prepared for serving."""

    banner: bytes
    stream: tuple[Message, ...]
    """The recorded messages after the login answer, without the closing Goodbye."""
    times: tuple[float, ...]
    """When each was complete, in seconds after the login answer (zeros when not paced)."""
    answers: dict[str, str]
    """Recorded ActionID -> folded name of the action it answered, for the gated answers."""


class AmiSimulator:
    """A loopback AMI server replaying recordings, one script per successive connection."""

    def __init__(
        self,
        scripts: Sequence[Script | str | Path],
        *,
        username: str | None = None,
        secret: str | None = None,
        speed: float | None = None,
        chunks: tuple[int, int] | None = None,
        chunk_delay: float = 0.0,
        seed: int = 0,
        answer_wait: float = 1.0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.scripts = tuple(s if isinstance(s, Script) else Script(Path(s)) for s in scripts)
        _check_options(self.scripts, speed, chunks, chunk_delay, answer_wait)
        self.replays = tuple(_load(script.path, speed is not None) for script in self.scripts)
        self.username, self.secret = username, secret
        self.speed, self.chunks, self.chunk_delay = speed, chunks, chunk_delay
        self.seed, self.answer_wait, self.host, self._port = seed, answer_wait, host, port
        self.actions: list[tuple[int, Message]] = []
        """Every action received, with the number of its connection (0 first)."""
        self.connections = 0
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def port(self) -> int:
        """The bound TCP port (port 0 asks the system for a free one)."""
        if self._thread is None:
            raise RuntimeError("the simulator is not running")
        return self._port

    def start(self) -> AmiSimulator:
        """Bind and serve from a background thread; returns once connections are accepted."""
        if self._thread is not None:
            raise RuntimeError("the simulator is already running")
        ready: concurrent.futures.Future[int] = concurrent.futures.Future()
        self._thread = threading.Thread(
            target=asyncio.run, args=(self._serve(ready),), name="ami-simulator", daemon=True
        )
        self._thread.start()
        try:
            self._port = ready.result(timeout=10)
        except BaseException:
            self._thread.join()
            self._thread = None
            raise
        return self

    def stop(self) -> None:
        """Drop every connection, close the listener and join the server thread."""
        if self._thread is None:
            return
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join()
        self._thread = self._loop = self._stop = None

    def __enter__(self) -> AmiSimulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def accepts(self, username: str | None, secret: str | None) -> bool:
        """Whether a Login with these credentials succeeds (anything does when none are set)."""
        return _same(self.username, username) and _same(self.secret, secret)

    async def _serve(self, ready: concurrent.futures.Future[int]) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        sessions: set[asyncio.Task[None]] = set()

        async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            if task is not None:  # always: asyncio runs each connection callback in a task
                sessions.add(task)
            try:
                await self._session(reader, writer)
            except asyncio.CancelledError:
                # Only stop() cancels a session; finishing quietly keeps asyncio's stream
                # callback from logging the cancelled task as an error (Python 3.11).
                return
            finally:
                sessions.discard(task)

        try:
            server = await asyncio.start_server(accept, self.host, self._port)
        except BaseException as exc:
            ready.set_exception(exc)
            return
        ready.set_result(server.sockets[0].getsockname()[1])
        await self._stop.wait()
        server.close()
        for task in list(sessions):
            task.cancel()
        await asyncio.gather(*sessions, return_exceptions=True)
        await server.wait_closed()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        index, self.connections = self.connections, self.connections + 1
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if index >= len(self.scripts):
            writer.close()
            return
        rng = random.Random(f"{self.seed}/{index}")  # noqa: S311 - test chunking, not crypto
        output = _Output(writer, rng, self.chunks, self.chunk_delay, self.scripts[index])
        session = _Session(self, index, reader, output)
        try:
            await session.run()
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


class _Session:
    """One client connection being served one recording."""

    def __init__(
        self, sim: AmiSimulator, index: int, reader: asyncio.StreamReader, output: _Output
    ) -> None:
        self.sim, self.index, self.reader, self.out = sim, index, reader, output
        self.script, self.replay = sim.scripts[index], sim.replays[index]
        self.buffer, self.pending = b"", deque[Message]()
        self.remaining = Counter(self.replay.answers.values())
        self.asks: defaultdict[str, deque[str | None]] = defaultdict(deque)
        self.asked = asyncio.Event()
        self.rewrite: dict[str, str | None] = {}
        self.shift = 0.0
        self.started = 0.0
        self.ending: asyncio.Future[Ending] = asyncio.get_running_loop().create_future()

    async def run(self) -> None:
        """Serve the session until it ends; the caller closes the connection."""
        try:
            await self.out.send(self.replay.banner)
            how = await self._main() if await self._login() else "close"
        except _Cut:
            how = self.script.ending
        except ConnectionError:
            return
        with contextlib.suppress(ConnectionError):
            await self._finish(how)

    async def _finish(self, how: Ending) -> None:
        """Reset, or half-close and wait for the client to close, or just go silent."""
        if how == "reset":
            await self.out.reset()
            return
        if how == "close":
            await self.out.close_write()
        while await self.reader.read(65536):
            pass

    async def _main(self) -> Ending:
        tasks = [asyncio.create_task(self._guard(job)) for job in (self._read(), self._stream())]
        try:
            return await self.ending
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _guard(self, job: Coroutine[object, object, None]) -> None:
        try:
            await job
        except _Cut:
            self._end(self.script.ending)
        except ConnectionError:
            self._end("close")

    def _end(self, how: Ending) -> None:
        if not self.ending.done():
            self.ending.set_result(how)

    async def _next_action(self) -> Message | None:
        while not self.pending:
            data = await self.reader.read(65536)
            if not data:
                return None
            messages, self.buffer = parse(self.buffer + data)
            self.pending.extend(messages)
        action = self.pending.popleft()
        self.sim.actions.append((self.index, action))
        return action

    async def _login(self) -> bool:
        while (action := await self._next_action()) is not None:
            name = (action.get("Action") or "").casefold()
            if name == "logoff":
                await self._reply(action, "Goodbye", Message="Thanks for all the fish.")
                return False
            if name != "login":
                await self._reply(action, "Error", Message="Permission denied")
            elif self.sim.accepts(action.get("Username"), action.get("Secret")):
                await self._reply(action, "Success", Message="Authentication accepted")
                self.started = asyncio.get_running_loop().time()
                return True
            else:
                await self._reply(action, "Error", Message="Authentication failed")
                return False
        return False

    async def _read(self) -> None:
        while (action := await self._next_action()) is not None:
            await self._handle(action)
        self._end("close")

    async def _handle(self, action: Message) -> None:
        name = action.get("Action") or ""
        match name.casefold():
            case "ping":
                await self._reply(action, "Success", Ping="Pong", Timestamp=f"{time.time():.6f}")
            case "logoff":
                await self._reply(action, "Goodbye", Message="Thanks for all the fish.")
                self._end("close")
            case "login":
                await self._reply(action, "Success", Message="Already authenticated")
            case folded if self.remaining[folded] > len(self.asks[folded]):
                self.asks[folded].append(action.action_id)
                self.asked.set()
            case folded if folded in self.remaining:
                await self._reply(action, "Error", Message=f"No recorded answer left for {name}")
            case _:
                await self._reply(action, "Error", Message=_unknown(name))

    async def _reply(self, action: Message, response: str, **fields: str) -> None:
        headers = [("Response", response)]
        if action.action_id is not None:
            headers.append(("ActionID", action.action_id))
        await self.out.send(encode([*headers, *fields.items()]))

    async def _stream(self) -> None:
        replay, limit = self.replay, self.script.cut_after_messages
        for count, (message, at) in enumerate(zip(replay.stream, replay.times, strict=True)):
            if count == limit:
                await self.out.flush()
                raise _Cut
            await self._pace(at)
            await self.out.send(self._rewritten(message, await self._claim(message)), flush=False)
        await self.out.flush()
        if self.script.ending != "idle":
            self._end(self.script.ending)

    async def _pace(self, at: float) -> None:
        if self.sim.speed is None:
            return
        loop = asyncio.get_running_loop()
        delay = self.started + self.shift + at / self.sim.speed - loop.time()
        if delay > 0:
            await self.out.flush()
            await asyncio.sleep(delay)

    async def _claim(self, message: Message) -> str | None:
        """The recorded ActionID of an answer to the recorded client, after matching it."""
        recorded = message.action_id
        name = self.replay.answers.get(recorded) if recorded is not None else None
        if recorded is None or name is None or recorded in self.rewrite:
            return recorded
        await self.out.flush()
        loop = asyncio.get_running_loop()
        began = loop.time()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._asked(name), self.sim.answer_wait)
        self.shift += loop.time() - began
        self.remaining[name] -= 1
        self.rewrite[recorded] = self.asks[name].popleft() if self.asks[name] else recorded
        return recorded

    async def _asked(self, name: str) -> None:
        while not self.asks[name]:
            self.asked.clear()
            await self.asked.wait()

    def _rewritten(self, message: Message, recorded: str | None) -> bytes:
        if recorded is None or recorded not in self.rewrite or self.rewrite[recorded] == recorded:
            return message.encode()
        client_id = self.rewrite[recorded]
        headers = message.headers
        if client_id is None:
            return encode(h for h in headers if h[0] != "ActionID")
        return encode((k, client_id) if k == "ActionID" else (k, v) for k, v in headers)


class _Output:
    """The server's byte stream: random chunk sizes, a byte budget, one writer at a time."""

    def __init__(
        self,
        writer: asyncio.StreamWriter,
        rng: random.Random,
        chunks: tuple[int, int] | None,
        delay: float,
        script: Script,
    ) -> None:
        self.writer, self.rng, self.chunks, self.delay = writer, rng, chunks, delay
        self.budget = script.cut_after_bytes
        self.pending = bytearray()
        self.lock = asyncio.Lock()
        self.sent = 0
        self.size = self._draw()

    async def send(self, data: bytes, *, flush: bool = True) -> None:
        """Queue ``data``; write whole chunks now, and the tail too when ``flush``."""
        async with self.lock:
            self.pending += data
            await self._emit(flush)

    async def flush(self) -> None:
        """Write whatever is held back for the next chunk."""
        async with self.lock:
            await self._emit(True)

    async def close_write(self) -> None:
        """Send everything held back, then FIN; reading goes on so the close stays clean."""
        await self.flush()
        if self.writer.can_write_eof():
            self.writer.write_eof()

    async def reset(self) -> None:
        """Abort with an RST once the peer's kernel has acknowledged every byte written."""
        transport = self.writer.transport
        sock = self.writer.get_extra_info("socket")
        deadline = asyncio.get_running_loop().time() + 2.0
        while transport.get_write_buffer_size() or _unacked(sock.fileno()):
            if asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.002)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()

    async def _emit(self, final: bool) -> None:
        while self.pending and (final or self.size <= len(self.pending)):
            chunk = bytes(self.pending[: self.size])
            del self.pending[: self.size]
            self.size = self._draw()
            await self._write(chunk)

    async def _write(self, chunk: bytes) -> None:
        if self.budget is not None and self.sent + len(chunk) >= self.budget:
            chunk = chunk[: self.budget - self.sent]
            self.writer.write(chunk)
            self.sent += len(chunk)
            raise _Cut
        self.writer.write(chunk)
        self.sent += len(chunk)
        await self.writer.drain()
        if self.delay:
            await asyncio.sleep(self.delay)

    def _draw(self) -> int:
        return self.rng.randint(*self.chunks) if self.chunks else 1 << 62


def _load(path: Path, timed: bool) -> Replay:
    """Read a recording, its timing and its recorded client's actions."""
    banner, messages = read_recording(path)
    times = _times(path, banner, messages, timed)
    start = 1 if messages and messages[0].get("Message") == "Authentication accepted" else 0
    end = len(messages) - 1 if messages and messages[-1].response == "Goodbye" else len(messages)
    t0 = times[0] if start else 0.0
    return Replay(
        banner=f"{banner}\r\n".encode(),
        stream=tuple(messages[start:end]),
        times=tuple(t - t0 for t in times[start:end]),
        answers=_recorded_actions(path, {m.action_id for m in messages}),
    )


def _times(path: Path, banner: str, messages: list[Message], timed: bool) -> list[float]:
    """Seconds since connecting at which each message was complete in the recording."""
    if not timed:
        return [0.0] * len(messages)
    timing = path.with_name(f"{path.stem}.timing.jsonl")
    reads = [json.loads(line) for line in timing.read_text().splitlines() if line.strip()]
    read_ends = [read["offset"] + read["len"] for read in reads]
    offset, times = len(banner) + 2, []
    for message in messages:
        offset += len(message.encode())
        index = min(bisect.bisect_left(read_ends, offset), len(reads) - 1)
        times.append(float(reads[index]["t"]))
    return times


def _recorded_actions(path: Path, action_ids: set[str | None]) -> dict[str, str]:
    """Recorded ActionID -> folded action name, for the recorded client's answered actions."""
    sent = path.with_name(path.name.split(".")[0] + ".sent.jsonl")
    if not sent.exists():
        return {}
    answers = {}
    for line in sent.read_text().splitlines():
        record = json.loads(line) if line.strip() else {}
        if record.get("conn") != "rec":
            continue
        for action in parse(record["raw"].encode())[0]:
            name = (action.get("Action") or "").casefold()
            if action.action_id in action_ids and name not in _SPECIAL_ACTIONS:
                answers[action.action_id or ""] = name
    return answers


def _unknown(name: str) -> str:
    """Asterisk's words for an action it does not know."""
    return f"Invalid/unknown command: {name}. Use Action: ListCommands to show available commands."


def _unacked(fd: int) -> int:
    """Bytes the kernel still holds for the peer (Linux SIOCOUTQ); 0 where unsupported."""
    try:
        raw = fcntl.ioctl(fd, termios.TIOCOUTQ, b"\0\0\0\0")
    except OSError:
        return 0
    return int(struct.unpack("i", raw)[0])


def _same(expected: str | None, given: str | None) -> bool:
    """Constant-time match of a configured credential; None configured accepts anything."""
    if expected is None:
        return True
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


def _check_options(
    scripts: Sequence[Script],
    speed: float | None,
    chunks: tuple[int, int] | None,
    chunk_delay: float,
    answer_wait: float,
) -> None:
    """Reject bad options at once, naming them."""
    problems = [
        "no scripts" if not scripts else "",
        f"speed must be > 0, got {speed}" if speed is not None and speed <= 0 else "",
        f"chunks must be 1 <= low <= high, got {chunks}"
        if chunks is not None and not 1 <= chunks[0] <= chunks[1]
        else "",
        f"chunk_delay must be >= 0, got {chunk_delay}" if chunk_delay < 0 else "",
        f"answer_wait must be >= 0, got {answer_wait}" if answer_wait < 0 else "",
    ]
    if any(problems):
        raise ValueError("; ".join(p for p in problems if p))
