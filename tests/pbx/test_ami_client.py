"""The AMI client against loopback servers: idle, reset, half-open, overflow, lists, faults.

Every scenario runs in ``asyncio.run(..., debug=True)`` against the replay server of
``phoneservice.demo.simulator``, waits on conditions with timeouts (never on a fixed sleep
that decides a result) and ends with the client closed and no task left running.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
import socket
import threading
import unittest.mock
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest

from phoneservice.demo.simulator import AmiSimulator, Script
from phoneservice.pbx.client import (
    AmiActionFailed,
    AmiClient,
    AmiDisconnected,
    AmiTarget,
    AmiTimeout,
    Connected,
    Disconnected,
    Item,
    Received,
    backoff_delay,
    parse_targets,
    run_all,
)
from phoneservice.pbx.connection import LoginRefused
from phoneservice.pbx.protocol import Message, read_recording

TRACES = Path(__file__).resolve().parents[1] / "data" / "ami-traces"
USER, SECRET = "phoneservice", "lab-secret-Zq9x"
BANNER = "Asterisk Call Manager/11.0.0"
FAST = {
    "ping_interval": 0.3,
    "pong_timeout": 0.3,
    "connect_timeout": 3.0,
    "backoff_initial": 0.02,
    "backoff_window": 1.0,
    "backoff_max": 0.2,
}
T = TypeVar("T")


def stream_of(name: str) -> list[Message]:
    """What a live client of the recording reads: no login answer, no closing Goodbye."""
    messages = read_recording(TRACES / name)[1]
    start = 1 if messages[0].get("Message") == "Authentication accepted" else 0
    end = -1 if messages[-1].response == "Goodbye" else len(messages)
    return messages[start:end]


def run(scenario: Coroutine[Any, Any, T]) -> T:
    """Run a scenario in asyncio's debug mode."""
    return asyncio.run(scenario, debug=True)


@pytest.fixture(autouse=True)
def no_thread_left_behind() -> Iterator[None]:
    yield
    assert not [t for t in threading.enumerate() if t.name == "ami-simulator"]


Serve = Callable[..., AmiSimulator]


@pytest.fixture
def serve() -> Iterator[Serve]:
    started: list[AmiSimulator] = []

    def start(scripts: list[Script | Path], **options: Any) -> AmiSimulator:
        options = {"username": USER, "secret": SECRET, **options}
        started.append(AmiSimulator(scripts, **options).start())
        return started[-1]

    yield start
    for simulator in started:
        simulator.stop()


def client_for(simulator: AmiSimulator, secret: str = SECRET, **options: Any) -> AmiClient:
    target = AmiTarget("pbx1", "127.0.0.1", simulator.port, USER, secret)
    return AmiClient(target, **{**FAST, **options})


@contextlib.asynccontextmanager
async def running(*clients: AmiClient) -> AsyncIterator[None]:
    """Clients running for the block; closed after it, with every task finished."""
    runner = asyncio.create_task(run_all(clients))
    try:
        yield
    finally:
        for client in clients:
            await client.close()
        await asyncio.wait_for(runner, 5)
        assert asyncio.all_tasks() == {asyncio.current_task()}


class Feed:
    """A consumer that records every item and when it came, waiting on conditions."""

    def __init__(self, client: AmiClient) -> None:
        self.client = client
        self.items: list[Item] = []
        self.times: list[float] = []

    async def until(self, done: Callable[[Feed], bool], timeout: float = 20.0) -> Feed:
        """Take items until ``done(self)``; fail the test after ``timeout`` seconds."""
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                while not done(self):
                    self.items.append(await self.client.get())
                    self.times.append(loop.time())
        except TimeoutError:
            pytest.fail(f"gave up after {timeout} s: {self.summary()}")
        return self

    def received(self, epoch: int | None = None) -> list[Message]:
        return [
            i.message for i in self.items if isinstance(i, Received) and epoch in (None, i.epoch)
        ]

    def controls(self) -> list[Connected | Disconnected]:
        return [i for i in self.items if isinstance(i, Connected | Disconnected)]

    def summary(self) -> str:
        return f"{len(self.received())} messages, {self.controls()}"


def got(count: int, epoch: int | None = None) -> Callable[[Feed], bool]:
    return lambda feed: len(feed.received(epoch)) >= count


def connected(epoch: int) -> Callable[[Feed], bool]:
    return lambda feed: Connected("pbx1", epoch, BANNER) in feed.items


async def condition(check: Callable[[], bool], timeout: float = 20.0) -> None:
    """Poll ``check`` until it holds; fail the test after ``timeout`` seconds."""
    try:
        async with asyncio.timeout(timeout):
            while not check():
                await asyncio.sleep(0.01)
    except TimeoutError:
        pytest.fail(f"condition not met in {timeout} s")


def sent(simulator: AmiSimulator, action: str) -> list[tuple[int, Message]]:
    """The actions of that name the server received, with their connection number."""
    return [(n, a) for n, a in simulator.actions if a.get("Action") == action]


# (a) idle: asterisk-ami goes deaf after 3 s of silence; this client does not


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # asterisk-ami's Condition.notifyAll
def test_asterisk_ami_goes_deaf_after_3_s_idle_while_our_client_keeps_receiving(
    serve: Serve,
) -> None:
    ami = pytest.importorskip("asterisk.ami")
    # b-abandoned, paced: events, then 6.5 s of silence in the recording (4 s here), then
    # the rest, among it the QueueCallerAbandon of the very call the service must log.
    simulator = serve([TRACES / "b-abandoned.ami"] * 2, speed=1.6)
    stream = stream_of("b-abandoned.ami")
    events = [m.event for m in stream if m.event]
    heard: list[str] = []
    errors: list[BaseException | None] = []
    deaf = threading.Event()
    legacy = ami.AMIClient(address="127.0.0.1", port=simulator.port)  # its defaults: timeout 3
    legacy.add_listener(on_disconnect=lambda source, error=None: (errors.append(error), deaf.set()))
    legacy.add_event_listener(lambda event, source: heard.append(event.name))
    try:
        assert not legacy.login(username=USER, secret=SECRET).response.is_error()
        ours = client_for(simulator, ping_interval=1.0, pong_timeout=1.0)
        feed = run(keep_receiving(ours, len(stream)))
        assert deaf.wait(5)
    finally:
        legacy.disconnect()

    assert feed.received() == stream
    assert feed.controls() == [Connected("pbx1", 1, BANNER)]
    stamps = [i.received_at for i in feed.items if isinstance(i, Received)]
    assert max(b - a for a, b in itertools.pairwise(stamps)) > timedelta(seconds=3)
    assert len([n for n, _ in sent(simulator, "Ping") if n == 1]) >= 2  # answered: no reconnect

    assert isinstance(errors[0], TimeoutError)  # asterisk-ami's reader thread is gone
    assert heard == events[: len(heard)]
    assert len(heard) < len(events)
    assert "QueueCallerAbandon" in events
    assert "QueueCallerAbandon" not in heard


async def keep_receiving(client: AmiClient, count: int) -> Feed:
    async with running(client):
        return await Feed(client).until(got(count))


# (b) a TCP reset mid-stream


def test_a_reset_mid_stream_reconnects_with_the_next_epoch(serve: Serve) -> None:
    part1, part2 = "g-reconnect.part1.ami", "g-reconnect.part2.ami"
    scripts = [Script(TRACES / part1, ending="reset"), TRACES / part2]
    client = client_for(serve(scripts, chunks=(1, 1500), answer_wait=0))

    async def scenario() -> Feed:
        async with running(client):
            return await Feed(client).until(got(len(stream_of(part2)), epoch=2))

    feed = run(scenario())
    assert feed.controls() == [
        Connected("pbx1", 1, BANNER),
        Disconnected("pbx1", 1, "reset"),
        Connected("pbx1", 2, BANNER),
    ]
    assert feed.received(1) == stream_of(part1)
    assert feed.received(2) == stream_of(part2)
    assert (client.epoch, client.reconnects, client.connected) == (2, 1, False)


# (c) a half-open peer: open, silent, Pings unanswered


def test_a_half_open_peer_is_found_by_an_unanswered_ping(serve: Serve) -> None:
    name = "a-answered.ami"
    simulator = serve([Script(TRACES / name, cut_after_messages=20, ending="stall"), TRACES / name])
    client = client_for(simulator)

    async def scenario() -> Feed:
        async with running(client):
            return await Feed(client).until(got(len(stream_of(name)), epoch=2))

    feed = run(scenario())
    dropped = next(i for i in feed.items if isinstance(i, Disconnected))
    assert dropped.epoch == 1
    assert dropped.reason.startswith("no-pong")
    last_message = feed.times[feed.items.index(dropped) - 1]
    detected_after = feed.times[feed.items.index(dropped)] - last_message
    bound = FAST["ping_interval"] + FAST["pong_timeout"]
    assert FAST["pong_timeout"] <= detected_after <= bound + 1.5  # slack for a loaded machine
    assert feed.received(1) == stream_of(name)[:20]
    assert feed.received(2) == stream_of(name)
    assert [n for n, _ in sent(simulator, "Ping")][:1] == [0]  # sent into the silence


# (d) consumers that raise cannot stop the reader


def test_errors_caught_in_the_callers_loop_do_not_stop_delivery(serve: Serve) -> None:
    name = "c-ringnoanswer-then-answered.ami"
    client = client_for(serve([TRACES / name], chunks=(1, 300)))
    handled: list[Message] = []
    failures = 0

    def handle(message: Message) -> None:
        handled.append(message)
        if len(handled) % 7 == 3:
            raise ValueError("a bad event")

    async def scenario() -> None:
        nonlocal failures
        async with running(client):
            async for item in client.items():
                if isinstance(item, Received):
                    try:
                        handle(item.message)
                    except ValueError:
                        failures += 1
                if len(handled) == len(stream_of(name)):
                    break

    run(scenario())
    assert handled == stream_of(name)
    assert failures == len([n for n in range(1, len(handled) + 1) if n % 7 == 3]) > 20


def test_a_consumer_that_dies_loses_nothing_for_the_next_one(serve: Serve) -> None:
    name = "a-answered.ami"
    client = client_for(serve([TRACES / name], chunks=(1, 64)))
    first: list[Item] = []

    async def fragile() -> None:
        async for item in client.items():
            first.append(item)
            if len(first) == 10:
                raise RuntimeError("consumer bug")

    async def scenario() -> Feed:
        async with running(client):
            with pytest.raises(RuntimeError):
                await fragile()
            feed = Feed(client)
            feed.items = first[:]
            return await feed.until(got(len(stream_of(name))))

    feed = run(scenario())
    assert feed.received() == stream_of(name)
    assert feed.controls() == [Connected("pbx1", 1, BANNER)]


def test_the_client_offers_no_callback_that_could_run_on_its_reader() -> None:
    hooks = ("listener", "callback", "handler", "subscribe", "register", "on_")
    assert not [n for n in dir(AmiClient) if any(h in n.lower() for h in hooks)]


def test_a_reader_that_dies_for_any_reason_means_a_reconnect(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    name = "h-all-paused-abandon.ami"
    calls = 0

    def clock() -> datetime:  # the one piece of injected code the reader calls
        nonlocal calls
        calls += 1
        if calls == 5:
            raise ArithmeticError("a broken clock")
        return datetime.now(UTC)

    client = client_for(serve([TRACES / name] * 2), clock=clock)

    async def scenario() -> Feed:
        async with running(client):
            return await Feed(client).until(got(len(stream_of(name)), epoch=2))

    feed = run(scenario())
    reasons = [i.reason for i in feed.controls() if isinstance(i, Disconnected)]
    assert reasons == ["reader-died: ArithmeticError('a broken clock')"]
    assert feed.received(1) == stream_of(name)[:4]
    assert feed.received(2) == stream_of(name)
    assert "ami-reader died" in caplog.text


# (e) a peer that is not an AMI server


def test_a_bad_banner_is_retried_with_backoff_until_a_pbx_answers(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    name = "a-answered.ami"
    scripts = [
        Script(TRACES / name, banner="SSH-2.0-OpenSSH_9.6p1"),
        Script(TRACES / name, banner="HTTP/1.1 400 Bad Request"),
        TRACES / name,
    ]
    simulator = serve(scripts)
    client = client_for(simulator, backoff_initial=0.2, backoff_max=1.0)

    async def scenario() -> tuple[Feed, float]:
        async with running(client):
            began = asyncio.get_running_loop().time()
            feed = await Feed(client).until(connected(3))
            waited = asyncio.get_running_loop().time() - began
            return await feed.until(got(len(stream_of(name)))), waited

    feed, waited = run(scenario())
    assert feed.controls() == [Connected("pbx1", 3, BANNER)]  # failed attempts emit nothing
    assert feed.received() == stream_of(name)
    assert waited >= 0.15 + 0.15  # each pause is at least 3/4 of backoff_initial
    assert caplog.text.count("not an AMI server") == 2
    assert simulator.connections == 3
    assert client.reconnects == 0


# (f) multibyte characters split across reads


def test_names_split_inside_a_utf8_character_arrive_intact(serve: Serve) -> None:
    name = "a-answered.ami"
    client = client_for(serve([TRACES / name], chunks=(1, 7)))

    async def scenario() -> Feed:
        async with running(client):
            return await Feed(client).until(got(len(stream_of(name))))

    received = run(scenario()).received()
    assert received == stream_of(name)
    values = {value for message in received for _, value in message.headers}
    assert "Anne Sørensen" in values
    assert not [v for v in values if "\ufffd" in v]


# (g) a slow consumer


def test_a_slow_consumer_gets_an_overflow_disconnect_never_a_silent_gap(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    burst, calm = "e-burst.ami", "a-answered.ami"
    simulator = serve([TRACES / burst, TRACES / calm])
    client = client_for(simulator, queue_size=300)

    async def scenario() -> Feed:
        async with running(client):
            await condition(lambda: client.dropped == 1 and not client.connected)
            await asyncio.sleep(3 * FAST["backoff_max"])  # a backoff that did not wait...
            assert simulator.connections == 1  # ...for the consumer would have reconnected
            return await Feed(client).until(got(len(stream_of(calm)), epoch=2))

    feed = run(scenario())
    assert feed.controls() == [
        Connected("pbx1", 1, BANNER),
        Disconnected("pbx1", 1, "overflow"),
        Connected("pbx1", 2, BANNER),
    ]
    first = feed.received(1)
    assert 0 < len(first) <= 300
    assert first == stream_of(burst)[: len(first)]  # a clean prefix, then the marked drop
    assert feed.received(2) == stream_of(calm)
    assert client.dropped == 1
    assert "resync" in caplog.text


# (h) EventList actions


def test_list_actions_collect_their_items_by_action_id(serve: Serve) -> None:
    name = "g-reconnect.part2.ami"
    client = client_for(serve([TRACES / name], chunks=(1, 700), answer_wait=5))
    ours = ("rec-2", "rec-3")  # the recorded CoreShowChannels and QueueStatus

    async def scenario() -> tuple[Feed, list[Message], list[Message]]:
        async with running(client):
            feed = await Feed(client).until(connected(1))
            channels = await client.list_action("CoreShowChannels")
            queues = await client.list_action("QueueStatus")
            with pytest.raises(AmiActionFailed, match="No recorded answer left"):
                await client.list_action("QueueStatus")
            with pytest.raises(AmiActionFailed, match="Invalid/unknown command"):
                await client.action("Frobnicate")
            rest = [m for m in stream_of(name) if m.action_id not in ours]
            return await feed.until(got(len(rest))), channels, queues

    feed, channels, queues = run(scenario())
    assert [m.event for m in channels] == ["CoreShowChannel"] * 20
    assert {m.event for m in queues} == {"QueueParams", "QueueMember", "QueueEntry"}
    assert len(queues) == 12
    assert len({m.action_id for m in channels}) == len({m.action_id for m in queues}) == 1
    assert channels[0].action_id != queues[0].action_id
    assert feed.received() == [m for m in stream_of(name) if m.action_id not in ours]


# (i) never replay an action


def test_an_action_pending_at_a_drop_fails_and_is_never_sent_again(serve: Serve) -> None:
    name = "f-callback.ami"
    stream = stream_of(name)
    first_answer = next(i for i, m in enumerate(stream) if m.action_id == "cb-0001")
    scripts = [
        Script(TRACES / name, cut_after_messages=first_answer, ending="stall"),
        TRACES / name,
    ]
    simulator = serve(scripts, answer_wait=0)
    client = client_for(simulator)
    originate = {
        "Channel": "Local/agent1@agent-phone",
        "Context": "callback",
        "Exten": "+4521182471",
        "Priority": "1",
        "ChannelId": "cb-0001-try1",
        "Async": "true",
    }

    async def scenario() -> tuple[Feed, AmiDisconnected]:
        async with running(client):
            feed = await Feed(client).until(got(first_answer))
            with pytest.raises(AmiDisconnected) as failure:
                await client.action("Originate", originate, timeout=30)
            return await feed.until(got(len(stream), epoch=2)), failure.value

    feed, failure = run(scenario())
    assert "connection lost" in str(failure)
    assert [(n, a.get("ChannelId")) for n, a in sent(simulator, "Originate")] == [
        (0, "cb-0001-try1")
    ]
    assert feed.received(2) == stream


def test_an_unanswered_action_times_out_and_the_connection_stays(serve: Serve) -> None:
    script = Script(TRACES / "a-answered.ami", cut_after_messages=5, ending="stall")
    client = client_for(serve([script]), ping_interval=30.0)

    async def scenario() -> None:
        async with running(client):
            await Feed(client).until(got(5))
            with pytest.raises(AmiTimeout, match=r"no answer in 0\.2 s"):
                await client.action("Originate", {"Channel": "Local/x@y"}, timeout=0.2)
            assert (client.connected, client.epoch) == (True, 1)

    run(scenario())


def test_an_action_while_down_fails_at_once(serve: Serve) -> None:
    client = client_for(serve([TRACES / "a-answered.ami"]))

    async def scenario() -> None:
        with pytest.raises(AmiDisconnected, match="pbx1 is down"):
            await client.action("Ping")
        with pytest.raises(ValueError, match="sends Login itself"):
            await client.action("Login")

    run(scenario())


# (j) a refused login


def test_a_refused_login_is_retried_and_the_secret_never_shows(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "wrong-secret-8Hk2"
    simulator = serve([TRACES / "a-answered.ami"] * 8)
    client = client_for(simulator, secret=wrong, backoff_initial=0.05)
    texts: list[str] = []

    async def scenario() -> Feed:
        async with running(client):
            await condition(lambda: len(refusals(caplog)) >= 3)
            assert not client.connected and client.queue_depth == 0
            with pytest.raises(AmiDisconnected) as down:
                await client.action("Ping")
            texts.extend([str(down.value), repr(client.target), str(client.last_error)])
            simulator.secret = wrong  # the PBX's manager.conf is fixed
            return await Feed(client).until(got(len(stream_of("a-answered.ami"))))

    feed = run(scenario())
    assert len(refusals(caplog)) >= 3
    assert {r.levelno for r in refusals(caplog)} == {logging.ERROR}
    assert "Authentication failed" in texts[0]
    assert feed.controls()[0].epoch == simulator.connections
    assert wrong not in caplog.text + "".join(texts)
    assert SECRET not in caplog.text


def refusals(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if "login refused" in r.getMessage()]


# (k) backoff


DEFAULT_POLICY = (2.0, 60.0, 30.0)  # AmiClient's backoff_initial, backoff_window, backoff_max


def test_backoff_is_about_2_s_for_the_first_minute_then_doubles_to_30_s() -> None:
    rng = random.Random(42)
    quick = [backoff_delay(t, 0, DEFAULT_POLICY, rng) for t in range(0, 60, 2)]
    assert all(1.5 <= d <= 2.5 for d in quick)
    assert len({round(d, 6) for d in quick}) == len(quick)  # jittered: workers spread out
    late = [backoff_delay(61.0, n, DEFAULT_POLICY, rng) for n in range(8)]
    ceilings = [min(30.0, 2.0 * 2 ** (n + 1)) for n in range(8)]
    assert all(c / 2 <= d <= c for d, c in zip(late, ceilings, strict=True))
    assert max(late) <= 30.0
    assert 15.0 <= backoff_delay(86_400.0, 10_000, DEFAULT_POLICY, rng) <= 30.0
    again = random.Random(42)
    assert quick == [backoff_delay(t, 0, DEFAULT_POLICY, again) for t in range(0, 60, 2)]


@pytest.mark.parametrize("seed", range(20))
def test_a_pbx_back_after_21_s_is_tried_again_within_2_5_s(seed: int) -> None:
    """Issue 11: the PBX was back after 21 s of a restart, the worker only after 40 s."""
    attempts = pauses(random.Random(seed), until=21.0)
    assert attempts[-1] - 21.0 <= 2.5
    assert all(b - a <= 2.5 for a, b in itertools.pairwise([0.0, *attempts]))


def pauses(rng: random.Random, until: float) -> list[float]:
    """When a client with the default policy tries again in an outage that began at 0: a
    fake clock that moves by each pause (an attempt at a refusing port costs nothing)."""
    client = AmiClient(AmiTarget("pbx1", "127.0.0.1", 5038, USER, SECRET), rng=rng)
    clock = FakeLoop()
    client._outage = 0.0
    attempts: list[float] = []
    with clock.installed():
        while not attempts or attempts[-1] < until:
            clock.now += client._next_delay()
            attempts.append(clock.now)
    return attempts


def test_a_long_outage_backs_off_to_30_s_and_a_refused_login_never_retries_quickly() -> None:
    attempts = pauses(random.Random(7), until=600.0)
    gaps = [b - a for a, b in itertools.pairwise([0.0, *attempts])]
    early = [g for t, g in zip(attempts, gaps, strict=True) if t <= 60.0]
    assert max(early) <= 2.5
    assert max(gaps) <= 30.0 and max(gaps[-5:]) >= 15.0
    assert len(attempts) < 60 // 1.5 + 600 // 15  # not a tight loop
    client = AmiClient(AmiTarget("pbx1", "127.0.0.1", 5038, USER, SECRET), rng=random.Random(7))
    clock = FakeLoop()
    with clock.installed():
        client._failed(LoginRefused("login refused: Authentication failed"))
        assert client._next_delay() >= 2.0  # a wrong secret: no quick retries
        assert all(client._next_delay() >= 4.0 for _ in range(3))


def test_a_pbx_that_refuses_then_comes_back_is_reconnected_at_the_quick_pace(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    """The 21 s restart, scaled by 1/50: every pause while it refused was the quick one."""
    caplog.set_level(logging.INFO, logger="phoneservice.pbx.client")
    with socket.socket() as probe:  # a port that was free a moment ago refuses connections
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    scale = 1 / 50
    options = {"backoff_initial": 2.0 * scale, "backoff_window": 60 * scale}
    client = AmiClient(
        AmiTarget("pbx1", "127.0.0.1", port, USER, SECRET),
        **{**FAST, **options, "backoff_max": 30 * scale},
    )
    simulator = AmiSimulator([TRACES / "a-answered.ami"], username=USER, secret=SECRET, port=port)

    async def scenario() -> Feed:
        async with running(client):
            await condition(lambda: client.epoch >= 3)  # refused a few times
            await asyncio.sleep(21 * scale)
            simulator.start()
            return await Feed(client).until(got(1))

    try:
        feed = run(scenario())
    finally:
        simulator.stop()
    assert isinstance(feed.items[0], Connected)
    pauses = [float(r.args[1]) for r in caplog.records if "next attempt" in r.getMessage()]
    assert len(pauses) >= 3
    assert all(p <= 1.25 * options["backoff_initial"] for p in pauses)


async def trickling_pbx(period: float, pings: list[str]) -> asyncio.Server:
    """A loopback PBX that logs in, sends one event, then one byte every ``period`` s for
    ever, never a whole message; it records the Pings it gets and never answers them."""

    async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(f"{BANNER}\r\n".encode())
        login = await reader.readuntil(b"\r\n\r\n")
        action_id = Message(tuple(_lines(login))).action_id
        writer.write(
            f"Response: Success\r\nActionID: {action_id}\r\n"
            "Message: Authentication accepted\r\n\r\nEvent: FullyBooted\r\n\r\n"
            "Event: Trickle\r\nData: ".encode()
        )
        pinging = asyncio.create_task(_collect_pings(reader, pings))
        try:
            while True:
                await asyncio.sleep(period)
                writer.write(b"x")
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            pinging.cancel()
            writer.close()

    return await asyncio.start_server(session, "127.0.0.1", 0)


def _lines(raw: bytes) -> list[tuple[str, str]]:
    pairs = [line.partition(": ") for line in raw.decode().split("\r\n") if line]
    return [(key, value) for key, _, value in pairs]


async def _collect_pings(reader: asyncio.StreamReader, pings: list[str]) -> None:
    with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
        while True:
            action = Message(tuple(_lines(await reader.readuntil(b"\r\n\r\n"))))
            pings.append(action.get("Action") or "")


async def trickle_until_dropped(period: float, **options: Any) -> tuple[Feed, list[str]]:
    """Run a client against the trickling PBX until its first connection ends."""
    pings: list[str] = []
    server = await trickling_pbx(period, pings)
    port = server.sockets[0].getsockname()[1]
    client = AmiClient(AmiTarget("pbx1", "127.0.0.1", port, USER, SECRET), **options)
    runner = asyncio.create_task(client.run())
    try:
        feed = await Feed(client).until(lambda f: bool(f.controls()[1:]), timeout=60)
    finally:
        await client.close()
        await asyncio.wait_for(runner, 5)
        server.close()
        for task in asyncio.all_tasks() - {asyncio.current_task()}:
            task.cancel()
        await server.wait_closed()
    return feed, pings


def test_a_pbx_trickling_bytes_that_never_make_a_message_is_a_dead_connection() -> None:
    """Issue 11: one byte every 2 s kept the old client "connected" for ever (scaled here)."""
    feed, pings = run(trickle_until_dropped(0.05, **FAST))
    assert [m.event for m in feed.received()] == ["FullyBooted"]
    dropped = feed.controls()[1]
    assert isinstance(dropped, Disconnected) and dropped.reason.startswith("no-pong")
    assert "Ping" in pings


@pytest.mark.slow
def test_one_byte_every_2_s_is_a_dead_connection_within_15_s_with_the_defaults() -> None:
    """The issue's own case at real pace: the default Ping after 8 s quiet, 5 s for its answer."""
    client = AmiClient(AmiTarget("pbx1", "127.0.0.1", 5038, USER, SECRET))
    assert client.ping_interval + client.pong_timeout <= 15.0
    feed, pings = run(trickle_until_dropped(2.0))
    dropped = feed.controls()[1]
    assert isinstance(dropped, Disconnected) and dropped.reason.startswith("no-pong")
    assert pings == ["Ping"]


class FakeLoop:
    """Stands in for the running loop's clock, for the client's delay bookkeeping."""

    def __init__(self) -> None:
        self.now = 0.0

    def time(self) -> float:
        return self.now

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        with unittest.mock.patch("asyncio.get_running_loop", return_value=self):
            yield


def test_a_refused_connection_is_retried_with_growing_pauses(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago refuses connections
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = AmiClient(
        AmiTarget("pbx1", "127.0.0.1", port, USER, SECRET),
        backoff_initial=0.01,
        backoff_window=0.03,
        backoff_max=0.08,
        rng=random.Random(1),
    )

    async def scenario() -> None:
        async with running(client):
            await condition(lambda: client.epoch >= 6)
            assert client.queue_depth == 0  # failed attempts are no Connected/Disconnected

    run(scenario())
    assert "attempt 5" in caplog.text
    assert not client.connected
    assert client.last_error


# (l) every recording, through the real client, in random chunks


RECORDINGS = sorted(path.name for path in TRACES.glob("*.ami"))


@pytest.mark.parametrize("name", RECORDINGS)
def test_every_recording_arrives_exactly_as_the_parser_reads_the_file(
    serve: Serve, name: str
) -> None:
    rng = random.Random(name)
    largest = 4096 if (TRACES / name).stat().st_size > 500_000 else rng.choice([7, 64, 1500])
    simulator = serve([TRACES / name], chunks=(1, largest), seed=rng.randrange(1000), answer_wait=0)
    # Delivery, not liveness: a loaded machine must not turn a slow Ping answer into a drop.
    client = client_for(simulator, ping_interval=5.0, pong_timeout=5.0)

    async def scenario() -> Feed:
        async with running(client):
            return await Feed(client).until(got(len(stream_of(name))), timeout=60)

    feed = run(scenario())
    assert feed.received() == stream_of(name)
    assert feed.controls() == [Connected("pbx1", 1, BANNER)]
    stamps = [i.received_at for i in feed.items if isinstance(i, Received)]
    assert all(s.tzinfo is UTC for s in stamps)
    assert stamps == sorted(stamps)


# several PBXs, and closing


def test_two_pbxs_run_side_by_side_and_close_cleanly(serve: Serve) -> None:
    one, two = serve([TRACES / "a-answered.ami"]), serve([TRACES / "b-abandoned.ami"])
    first, second = client_for(one), client_for(two)

    async def scenario() -> list[Item]:
        async with running(first, second):
            await Feed(first).until(got(len(stream_of("a-answered.ami"))))
            await Feed(second).until(got(len(stream_of("b-abandoned.ami"))))
        return [await first.get(), await second.get()]

    assert run(scenario()) == [Disconnected("pbx1", 1, "closed")] * 2


# targets and settings


GOOD_URLS = [
    ("one", "ami://phoneservice@pbx1", [("pbx1", "pbx1", 5038, "phoneservice")]),
    ("port", "ami://u@10.0.0.5:5039", [("10.0.0.5:5039", "10.0.0.5", 5039, "u")]),
    (
        "two, named",
        " ami://u@pbx1:5038?name=rådhus , ami://u2@pbx2?name=jobcenter",
        [("rådhus", "pbx1", 5038, "u"), ("jobcenter", "pbx2", 5038, "u2")],
    ),
    ("ipv6", "ami://u@[::1]:5038", [("::1:5038", "::1", 5038, "u")]),
    ("escaped user", "ami://ami%2Buser@pbx", [("pbx", "pbx", 5038, "ami+user")]),
]


@pytest.mark.parametrize(
    ("urls", "expected"), [g[1:] for g in GOOD_URLS], ids=[g[0] for g in GOOD_URLS]
)
def test_targets_are_read_from_the_url_setting(
    urls: str, expected: list[tuple[str, str, int, str]]
) -> None:
    targets = parse_targets(urls, SECRET)
    assert [(t.name, t.host, t.port, t.username) for t in targets] == expected
    assert all(t.secret == SECRET and SECRET not in repr(t) for t in targets)


BAD_URLS = [
    ("empty", "", "expected ami://"),
    ("scheme", "tcp://u@pbx:5038", "expected ami://"),
    ("no user", "ami://pbx:5038", "no username"),
    ("bad port", "ami://u@pbx:50x8", "entry 1"),
    ("port range", "ami://u@pbx:70000", "entry 1"),
    ("path", "ami://u@pbx/manager", "unexpected path"),
    ("option", "ami://u@pbx?tls=1", "unknown options ['tls']"),
    ("same name", "ami://u@pbx,ami://v@pbx", "two PBXs named 'pbx'"),
    ("second bad", "ami://u@pbx1,ami:/pbx2", "entry 2"),
    ("password", "ami://u:hunter2@pbx", "a password in the URL"),
]


@pytest.mark.parametrize(
    ("urls", "message"), [b[1:] for b in BAD_URLS], ids=[b[0] for b in BAD_URLS]
)
def test_bad_target_urls_are_refused_with_the_culprit_named(urls: str, message: str) -> None:
    with pytest.raises(ValueError, match="PHONESERVICE_AMI_URL") as error:
        parse_targets(urls, SECRET)
    assert message in str(error.value)
    assert "hunter2" not in str(error.value)


@pytest.mark.parametrize("secret", ["", "two\nlines"], ids=["empty", "line break"])
def test_a_bad_secret_is_refused_without_being_echoed(secret: str) -> None:
    with pytest.raises(ValueError, match="secret") as error:
        parse_targets("ami://u@pbx", secret)
    assert not secret or secret not in str(error.value)


def test_bad_client_settings_are_refused_at_once() -> None:
    target = AmiTarget("pbx1", "127.0.0.1", 5038, USER, SECRET)
    with pytest.raises(ValueError, match=r"ping_interval must be > 0.*pong_timeout"):
        AmiClient(target, ping_interval=0, pong_timeout=-1)
    with pytest.raises(ValueError, match="backoff"):
        AmiClient(target, backoff_initial=5, backoff_max=1)


async def oversized_pbx(connections: list[int]) -> asyncio.Server:
    """A loopback PBX whose first connection sends a message of 1.2 MiB; later ones are quiet."""

    async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(len(connections))
        writer.write(f"{BANNER}\r\n".encode())
        login = Message(tuple(_lines(await reader.readuntil(b"\r\n\r\n"))))
        writer.write(
            f"Response: Success\r\nActionID: {login.action_id}\r\n"
            "Message: Authentication accepted\r\n\r\nEvent: FullyBooted\r\n\r\n".encode()
        )
        if len(connections) == 1:
            huge = b"Event: Huge\r\nCallerIDNum: 4520000000\r\nData: " + b"7" * 1_200_000
            writer.write(huge + b"\r\n\r\nEvent: After\r\n\r\n")
        with contextlib.suppress(ConnectionError):
            await _collect_pings(reader, [])
        writer.close()

    return await asyncio.start_server(session, "127.0.0.1", 0)


def test_a_message_over_1_mib_drops_the_connection_naming_its_size_never_its_content(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> tuple[Feed, AmiClient]:
        server = await oversized_pbx([])
        port = server.sockets[0].getsockname()[1]
        client = AmiClient(AmiTarget("pbx1", "127.0.0.1", port, USER, SECRET), **FAST)
        runner = asyncio.create_task(client.run())
        try:
            feed = await Feed(client).until(connected(2))
        finally:
            await client.close()
            await asyncio.wait_for(runner, 5)
            server.close()
            for task in asyncio.all_tasks() - {asyncio.current_task()}:
                task.cancel()
            await server.wait_closed()
        return feed, client

    feed, client = run(scenario())
    assert [m.event for m in feed.received(1)] == ["FullyBooted"]
    dropped = feed.controls()[1]
    assert isinstance(dropped, Disconnected) and dropped.reason.startswith("oversized")
    assert "1048576" in dropped.reason
    assert client.oversized == 1
    assert "4520000000" not in caplog.text + dropped.reason
    assert "7777" not in caplog.text
    assert "1048576" in caplog.text  # the log line names the size
