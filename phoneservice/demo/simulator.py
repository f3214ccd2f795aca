"""A replay AMI server on loopback: serves recorded ``.ami`` sessions to a real client.

Used by the adapter's tests and by the demo. Each connection is served one
:class:`Script`: the first connection the first script, and so on (part1 then part2 of
g-reconnect); connections beyond the list are closed at once. A session goes:

1. The recorded banner (or the script's own ``banner``, to play another service); then
   actions are read until ``Login``. Before it, any other action gets
   ``Response: Error`` / ``Permission denied``, as from Asterisk. A wrong
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
   recording never answered, gets ``Response: Error``, except ``Originate``: one the
   recording does not answer is answered as a call both phones pick up
   (:mod:`phoneservice.demo.originate`, ``originate_after`` seconds apart), so »Ring op«
   works in the demo.
5. A script with ``repeat_every`` streams its recording again, round after round, each
   round's bytes first rewritten by its ``prepare`` (the demo re-times it to now with
   fresh ids, :mod:`phoneservice.demo.retime`).
6. When the recording is done, or at a cut, the script's :data:`Ending` applies. Actions
   that arrive at a stalled or closing session are still logged in ``actions``, unanswered.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import hmac
import itertools
import random
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path

from phoneservice.demo.chunking import ChunkedOutput, Cut
from phoneservice.demo.originate import AGENT_ANSWERS_AFTER, CITIZEN_ANSWERS_AFTER, answered_call
from phoneservice.demo.replay import AnswerGate, Ending, Replay, Script, check_options, load_replay
from phoneservice.pbx.protocol import Message, encode, parse

__all__ = ["AmiSimulator", "Ending", "Replay", "Script"]


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
        originate_after: tuple[float, float] = (AGENT_ANSWERS_AFTER, CITIZEN_ANSWERS_AFTER),
    ) -> None:
        self.scripts = tuple(s if isinstance(s, Script) else Script(Path(s)) for s in scripts)
        check_options(self.scripts, speed, chunks, chunk_delay, answer_wait)
        self.replays = tuple(load_replay(script.path, speed is not None) for script in self.scripts)
        self.username, self.secret = username, secret
        self.speed, self.chunks, self.chunk_delay = speed, chunks, chunk_delay
        self.seed, self.answer_wait, self.host, self._port = seed, answer_wait, host, port
        self.originate_after = originate_after
        self.actions: list[tuple[int, Message]] = []
        """Every action received, with the number of its connection (0 first)."""
        self.connections = 0
        self.accepted_at: list[float] = []
        """The wall-clock time (``time.time()``) each connection was accepted, in order."""
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
        self.accepted_at.append(time.time())
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if index >= len(self.scripts):
            writer.close()
            return
        rng = random.Random(f"{self.seed}/{index}")  # noqa: S311 - test chunking, not crypto
        output = ChunkedOutput(
            writer, rng, self.chunks, self.chunk_delay, self.scripts[index].cut_after_bytes
        )
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
        self, sim: AmiSimulator, index: int, reader: asyncio.StreamReader, output: ChunkedOutput
    ) -> None:
        self.sim, self.index, self.reader, self.out = sim, index, reader, output
        self.script, self.replay = sim.scripts[index], sim.replays[index]
        self.buffer, self.pending = b"", deque[Message]()
        self.gate = AnswerGate(self.replay.answers)
        self.shift = 0.0
        self.started = 0.0
        self.ending: asyncio.Future[Ending] = asyncio.get_running_loop().create_future()
        self.calls: set[asyncio.Task[None]] = set()  # simulated answers to Originates

    async def run(self) -> None:
        """Serve the session until it ends; the caller closes the connection."""
        try:
            await self.out.send(self._banner())
            how = await self._main() if await self._login() else "close"
        except Cut:
            how = self.script.ending
        except ConnectionError:
            return
        with contextlib.suppress(ConnectionError):
            await self._finish(how)

    def _banner(self) -> bytes:
        banner = self.script.banner
        return self.replay.banner if banner is None else f"{banner}\r\n".encode()

    async def _finish(self, how: Ending) -> None:
        """Reset, or half-close and wait for the client to close, or just go silent.

        Actions that arrive meanwhile are logged in :attr:`AmiSimulator.actions`, not answered.
        """
        if how == "reset":
            await self._heard_from_client()
            await self.out.reset()
            return
        if how == "close":
            await self.out.close_write()
        while await self._next_action() is not None:
            pass

    async def _heard_from_client(self) -> None:
        """Wait up to 1 s for the client to speak: an RST racing its connect() tests nothing."""
        if self.buffer or self.pending or any(i == self.index for i, _ in self.sim.actions):
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1.0):
                self.buffer += await self.reader.read(65536)

    async def _main(self) -> Ending:
        tasks = [asyncio.create_task(self._guard(job)) for job in (self._read(), self._stream())]
        try:
            return await self.ending
        finally:
            for task in [*tasks, *self.calls]:
                task.cancel()
            await asyncio.gather(*tasks, *self.calls, return_exceptions=True)

    async def _guard(self, job: Coroutine[object, object, None]) -> None:
        try:
            await job
        except Cut:
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
            case folded if self.gate.ask(folded, action.action_id):
                pass
            case folded if self.gate.answers_to(folded):
                await self._reply(action, "Error", Message=f"No recorded answer left for {name}")
            case "originate":
                call = asyncio.create_task(self._guard(self._answer_call(action)))
                self.calls.add(call)
                call.add_done_callback(self.calls.discard)
            case _:
                await self._reply(action, "Error", Message=_unknown(name))

    async def _answer_call(self, action: Message) -> None:
        """A call both phones answer, each step sent when it is due."""
        for step in answered_call(action, *self.sim.originate_after):
            await asyncio.sleep(step.after)
            await self.out.send(step.data)

    async def _reply(self, action: Message, response: str, **fields: str) -> None:
        headers = [("Response", response)]
        if action.action_id is not None:
            headers.append(("ActionID", action.action_id))
        await self.out.send(encode([*headers, *fields.items()]))

    async def _stream(self) -> None:
        loop, script = asyncio.get_running_loop(), self.script
        for round_no in itertools.count():
            if script.prepare is not None:
                self.replay = await asyncio.to_thread(self._prepared, script.prepare, round_no)
                self.gate = AnswerGate(self.replay.answers)
                self.started, self.shift = loop.time(), 0.0
            await self._stream_round()
            if script.repeat_every is None:
                break
            await asyncio.sleep(self.started + self.shift + script.repeat_every - loop.time())
            self.started, self.shift = loop.time(), 0.0
        if script.ending != "idle":
            self._end(script.ending)

    def _prepared(self, prepare: Callable[[bytes, int], bytes], round_no: int) -> Replay:
        """Round ``round_no`` of the recording, rewritten by the script's ``prepare``."""
        path = self.script.path
        return load_replay(path, self.sim.speed is not None, prepare(path.read_bytes(), round_no))

    async def _stream_round(self) -> None:
        replay, limit = self.replay, self.script.cut_after_messages
        for count, (message, at) in enumerate(zip(replay.stream, replay.times, strict=True)):
            if count == limit:
                await self.out.flush()
                raise Cut
            await self._pace(at)
            await self._claim(message)
            await self.out.send(self.gate.rewritten(message), flush=False)
        await self.out.flush()

    async def _pace(self, at: float) -> None:
        if self.sim.speed is None:
            return
        loop = asyncio.get_running_loop()
        delay = self.started + self.shift + at / self.sim.speed - loop.time()
        if delay > 0:
            await self.out.flush()
            await asyncio.sleep(delay)

    async def _claim(self, message: Message) -> None:
        """Hold an answer to the recorded client until the live one asks (or the wait is over)."""
        name = self.gate.held(message)
        if name is None:
            return
        await self.out.flush()
        loop = asyncio.get_running_loop()
        began = loop.time()
        await self.gate.claim(message, name, self.sim.answer_wait)
        self.shift += loop.time() - began


def _unknown(name: str) -> str:
    """Asterisk's words for an action it does not know."""
    return f"Invalid/unknown command: {name}. Use Action: ListCommands to show available commands."


def _same(expected: str | None, given: str | None) -> bool:
    """Constant-time match of a configured credential; None configured accepts anything."""
    if expected is None:
        return True
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())
