"""The replay AMI server, driven by a plain blocking socket client over loopback."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from phoneservice.demo.simulator import AmiSimulator, Ending, Script
from phoneservice.domain.callbacks.originate import OriginateWatch
from phoneservice.pbx.protocol import Message, encode_action, parse, parse_banner, read_recording
from phoneservice.pbx.translate import Translator

TRACES = Path(__file__).resolve().parents[1] / "data" / "ami-traces"
USER, SECRET = "phoneservice", "lab-secret"


class Client:
    """Just enough of an AMI client to drive the simulator: blocking reads with a timeout."""

    def __init__(self, port: int, timeout: float = 5.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.raw = bytearray()
        self.banner: str | None = None
        self.buffer = b""
        self.messages: list[Message] = []

    def send(self, name: str, action_id: str, fields: dict[str, str] | None = None) -> None:
        """Send one action."""
        self.sock.sendall(encode_action(name, action_id, fields or {}))

    def login(
        self, action_id: str = "rec-1", username: str = USER, secret: str = SECRET
    ) -> Message:
        """Log in and return the answer."""
        self.send("Login", action_id, {"Username": username, "Secret": secret, "Events": "on"})
        return self.read(1)[0]

    def read(self, count: int) -> list[Message]:
        """The next ``count`` messages; EOFError if the server closes first."""
        while len(self.messages) < count:
            if not self._receive():
                raise EOFError(f"closed after {len(self.messages)} of {count} messages")
        taken, self.messages = self.messages[:count], self.messages[count:]
        return taken

    def read_until(self, action_id: str) -> list[Message]:
        """Messages up to and including the first one carrying ``action_id``."""
        taken: list[Message] = []
        while not taken or taken[-1].action_id != action_id:
            taken += self.read(1)
        return taken

    def read_to_end(self) -> list[Message]:
        """Every message until the server closes (a reset propagates)."""
        while self._receive():
            pass
        taken, self.messages = self.messages, []
        return taken

    def _receive(self) -> bool:
        data = self.sock.recv(65536)
        self.raw += data
        self.buffer += data
        if self.banner is None:
            self.banner, self.buffer = parse_banner(self.buffer)
        if self.banner is not None:
            new, self.buffer = parse(self.buffer)
            self.messages += new
        return bool(data)


@pytest.fixture(autouse=True)
def no_thread_left_behind() -> Iterator[None]:
    yield
    assert not [t for t in threading.enumerate() if t.name == "ami-simulator"]


Serve = Callable[..., AmiSimulator]
Connect = Callable[..., "Client"]


@pytest.fixture
def serve() -> Iterator[Serve]:
    started: list[AmiSimulator] = []

    def start(scripts: list[Script | Path], **options: object) -> AmiSimulator:
        options = {"username": USER, "secret": SECRET, **options}
        started.append(AmiSimulator(scripts, **options).start())  # type: ignore[arg-type]
        return started[-1]

    yield start
    for simulator in started:
        simulator.stop()


@pytest.fixture
def connect() -> Iterator[Connect]:
    clients: list[Client] = []

    def open_client(simulator: AmiSimulator, **options: float) -> Client:
        clients.append(Client(simulator.port, **options))
        return clients[-1]

    yield open_client
    for client in clients:
        client.sock.close()


def recorded(name: str) -> list[Message]:
    return read_recording(TRACES / name)[1]


REPLAYS = [
    ("a-answered.ami", (1, 64)),
    ("d-out-of-hours.ami", (1, 7)),
    ("e-burst.ami", (1, 4096)),
    ("f-callback.ami", (1, 300)),
    ("g-reconnect.part2.ami", (1, 64)),
    ("h-all-paused-abandon.ami", None),
]


@pytest.mark.parametrize(("name", "chunks"), REPLAYS, ids=[r[0] for r in REPLAYS])
def test_a_client_gets_every_recorded_message_then_goodbye(
    serve: Serve, connect: Connect, name: str, chunks: tuple[int, int] | None
) -> None:
    simulator = serve([TRACES / name], chunks=chunks, seed=7, answer_wait=0)
    client = connect(simulator)
    expected = recorded(name)[:-1]  # all but the recorded Goodbye; login answer as recorded
    assert [client.login(), *client.read(len(expected) - 1)] == expected
    assert client.banner == "Asterisk Call Manager/11.0.0"
    client.send("Logoff", "bye-1")
    assert client.read_to_end() == [
        Message(
            (
                ("Response", "Goodbye"),
                ("ActionID", "bye-1"),
                ("Message", "Thanks for all the fish."),
            )
        )
    ]


ASKED = [
    (
        "g-reconnect.part2.ami",
        {"rec-2": ("CoreShowChannels", "csc"), "rec-3": ("QueueStatus", "qs")},
    ),
    ("f-callback.ami", {f"cb-000{n}": ("Originate", f"mine-{n}") for n in range(1, 5)}),
]


@pytest.mark.parametrize(("name", "asked"), ASKED, ids=[a[0] for a in ASKED])
def test_recorded_answers_come_back_with_the_clients_action_ids(
    serve: Serve, connect: Connect, name: str, asked: dict[str, tuple[str, str]]
) -> None:
    simulator = serve([TRACES / name], chunks=(1, 64), answer_wait=5)
    client = connect(simulator)
    client.login()
    for action, client_id in asked.values():
        client.send(action, client_id, {"Channel": "Local/x@y"} if action == "Originate" else {})
    expected = recorded(name)[1:-1]
    received = client.read(len(expected))
    ours = {client_id: recorded_id for recorded_id, (_, client_id) in asked.items()}
    assert not [m for m in received if m.action_id in asked]  # no recorded ActionID leaks
    assert [undo(m, ours) for m in received] == expected


def undo(message: Message, ours: dict[str, str]) -> Message:
    """The message with the client's ActionID put back to the recorded one."""
    return Message(tuple((k, ours.get(v, v) if k == "ActionID" else v) for k, v in message.headers))


REFUSED = [
    ("no recorded answer left", "CoreShowChannels", "No recorded answer left for CoreShowChannels"),
    ("unknown action", "Frobnicate", "Invalid/unknown command: Frobnicate."),
]


@pytest.mark.parametrize(
    ("action", "message"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED]
)
def test_an_action_without_a_recorded_answer_gets_an_error(
    serve: Serve, connect: Connect, action: str, message: str
) -> None:
    simulator = serve([TRACES / "g-reconnect.part2.ami"], answer_wait=0)
    client = connect(simulator)
    client.login()
    client.read(len(recorded("g-reconnect.part2.ami")) - 2)  # answered as recorded, unasked
    client.send(action, "x-1")
    (answer,) = client.read_until("x-1")
    assert answer.response == "Error"
    assert (answer.get("Message") or "").startswith(message)


def test_ping_is_answered_at_once_in_the_middle_of_a_paced_stream(
    serve: Serve, connect: Connect
) -> None:
    simulator = serve([TRACES / "e-burst.ami"], speed=1.0)  # 70 s of recorded traffic
    client = connect(simulator)
    client.login()
    client.send("Ping", "ping-42")
    *before, answer = client.read_until("ping-42")
    assert (answer.response, answer.get("Ping")) == ("Success", "Pong")
    assert abs(float(answer.get("Timestamp") or 0) - time.time()) < 60
    assert before == recorded("e-burst.ami")[1 : 1 + len(before)]
    assert len(before) < 100  # of 4,481: the stream was far from done


def test_ping_is_answered_after_the_stream_ended(serve: Serve, connect: Connect) -> None:
    simulator = serve([TRACES / "b-abandoned.ami"], chunks=(1, 512))
    client = connect(simulator)
    client.login()
    client.read(len(recorded("b-abandoned.ami")) - 2)
    client.send("Ping", "ping-43")
    (answer,) = client.read(1)
    assert (answer.response, answer.action_id, answer.get("Ping")) == ("Success", "ping-43", "Pong")


def test_actions_before_login_are_refused_as_asterisk_does(serve: Serve, connect: Connect) -> None:
    simulator = serve([TRACES / "a-answered.ami"])
    client = connect(simulator)
    client.send("Ping", "early-1")
    (answer,) = client.read(1)
    assert (answer.response, answer.action_id, answer.get("Message")) == (
        "Error",
        "early-1",
        "Permission denied",
    )
    assert client.login("late-1").get("Message") == "Authentication accepted"


BAD_LOGINS = [("wrong secret", USER, "guess"), ("wrong user", "admin", SECRET), ("empty", "", "")]


@pytest.mark.parametrize(
    ("user", "secret"), [b[1:] for b in BAD_LOGINS], ids=[b[0] for b in BAD_LOGINS]
)
def test_a_bad_login_is_refused_and_the_connection_closed(
    serve: Serve, connect: Connect, user: str, secret: str
) -> None:
    simulator = serve([TRACES / "a-answered.ami"])
    client = connect(simulator)
    answer = client.login("login-9", user, secret)
    assert (answer.response, answer.action_id, answer.get("Message")) == (
        "Error",
        "login-9",
        "Authentication failed",
    )
    assert client.read_to_end() == []


def test_any_login_is_accepted_when_no_credentials_are_configured(
    serve: Serve, connect: Connect
) -> None:
    simulator = serve([TRACES / "a-answered.ami"], username=None, secret=None)
    assert connect(simulator).login("x", "anyone", "anything").response == "Success"
    assert simulator.actions[0][0] == 0
    assert simulator.actions[0][1].get("Username") == "anyone"


def cut_points() -> list[tuple[str, int]]:
    data = (TRACES / "a-answered.ami").read_bytes()
    inside_a_character = data.index("ø".encode()) + 1
    inside_a_line = data.index(b"Event: QueueCallerJoin") + 9
    return [("mid-UTF-8", inside_a_character), ("mid-line", inside_a_line), ("mid-banner", 10)]


@pytest.mark.parametrize("how", ["close", "reset"])
@pytest.mark.parametrize("cut", [c[1] for c in cut_points()], ids=[c[0] for c in cut_points()])
def test_a_cut_after_n_bytes_is_seen_by_the_client(
    serve: Serve, connect: Connect, how: Ending, cut: int
) -> None:
    script = Script(TRACES / "a-answered.ami", cut_after_bytes=cut, ending=how)
    client = connect(serve([script], chunks=(1, 300)))
    client.send("Login", "rec-1", {"Username": USER, "Secret": SECRET, "Events": "on"})
    if how == "reset":
        with pytest.raises(ConnectionResetError):
            client.read_to_end()
    else:
        client.read_to_end()
    assert bytes(client.raw) == (TRACES / "a-answered.ami").read_bytes()[:cut]


def test_a_cut_after_n_messages_ends_the_stream_there(serve: Serve, connect: Connect) -> None:
    script = Script(TRACES / "b-abandoned.ami", cut_after_messages=5, ending="close")
    client = connect(serve([script], chunks=(1, 64)))
    assert [client.login(), *client.read_to_end()] == recorded("b-abandoned.ami")[:6]


def test_a_stalled_server_sends_nothing_more_and_answers_nothing(
    serve: Serve, connect: Connect
) -> None:
    script = Script(TRACES / "b-abandoned.ami", cut_after_messages=3, ending="stall")
    client = connect(serve([script]), timeout=0.3)
    client.login()
    assert client.read(3) == recorded("b-abandoned.ami")[1:4]
    client.send("Ping", "p-1")
    with pytest.raises(TimeoutError):
        client.read(1)


def test_successive_connections_get_successive_recordings(serve: Serve, connect: Connect) -> None:
    part1, part2 = TRACES / "g-reconnect.part1.ami", TRACES / "g-reconnect.part2.ami"
    simulator = serve([Script(part1, ending="reset"), part2], chunks=(1, 1024), answer_wait=5)
    first = connect(simulator)
    first.login()
    with pytest.raises(ConnectionResetError):
        first.read_to_end()
    assert first.messages == recorded(part1.name)[1:]

    second = connect(simulator)
    assert second.login().response == "Success"
    second.send("CoreShowChannels", "csc-1")
    second.send("QueueStatus", "qs-1")
    received = second.read(len(recorded(part2.name)) - 2)
    assert Counter(m.action_id for m in received)["csc-1"] == 22
    assert Counter(m.action_id for m in received)["qs-1"] == 14

    assert connect(simulator).read_to_end() == []  # past the list: closed at once
    assert simulator.connections == 3


def test_real_pacing_follows_the_recorded_timing(serve: Serve, connect: Connect) -> None:
    speed = 20.0
    simulator = serve([TRACES / "a-answered.ami"], speed=speed)
    span = simulator.replays[0].times[-1] / speed
    client = connect(simulator)
    client.login()
    started = time.monotonic()
    received = client.read(len(recorded("a-answered.ami")) - 2)
    elapsed = time.monotonic() - started
    assert received == recorded("a-answered.ami")[1:-1]
    assert span > 0.2
    assert elapsed >= span * 0.9  # the replay waited as recorded (no upper bound: load)


def test_stop_drops_connected_clients_and_joins_its_thread(serve: Serve, connect: Connect) -> None:
    simulator = serve([TRACES / "a-answered.ami"])
    client = connect(simulator)
    client.login()
    simulator.stop()
    with contextlib.suppress(ConnectionResetError):
        client.read_to_end()
    assert not [t for t in threading.enumerate() if t.name == "ami-simulator"]
    with pytest.raises(RuntimeError):
        simulator.port  # noqa: B018 - the property is what is tested


def test_start_twice_is_refused(serve: Serve) -> None:
    simulator = serve([TRACES / "a-answered.ami"])
    with pytest.raises(RuntimeError):
        simulator.start()


BAD_OPTIONS = [
    ("no scripts", {"scripts": []}),
    ("zero speed", {"speed": 0}),
    ("chunks reversed", {"chunks": (5, 1)}),
    ("zero chunk", {"chunks": (0, 5)}),
    ("negative wait", {"answer_wait": -1}),
    ("missing file", {"scripts": [TRACES / "nope.ami"]}),
]


@pytest.mark.parametrize("options", [b[1] for b in BAD_OPTIONS], ids=[b[0] for b in BAD_OPTIONS])
def test_bad_options_are_refused_at_once(options: dict[str, object]) -> None:
    options = {"scripts": [TRACES / "a-answered.ami"], **options}
    with pytest.raises((ValueError, OSError)):
        AmiSimulator(**options)  # type: ignore[arg-type]


def test_a_cut_must_say_how_the_connection_ends() -> None:
    with pytest.raises(ValueError, match="a cut needs"):
        Script(TRACES / "a-answered.ami", cut_after_bytes=10)


def test_an_originate_no_recording_answers_is_a_call_both_phones_answer(
    serve: Serve, connect: Connect
) -> None:
    """The demo's »Ring op«: queued, the agent's phone answers, then the citizen's."""
    simulator = serve([TRACES / "a-answered.ami"], answer_wait=0, originate_after=(0.1, 0.1))
    client = connect(simulator)
    client.login()
    fields = {"Channel": "PJSIP/demo", "Context": "callback", "Exten": "+4521806403"}
    client.send("Originate", "o-1", {**fields, "Async": "true", "ChannelId": "cb7-abc"})
    watch, translate, steps = OriginateWatch(), Translator(), []
    watch.expect("o-1", "cb7-abc")
    while len(steps) < 2:
        (message,) = client.read(1)
        if message.action_id == "o-1" and message.response is not None:
            assert message.response == "Success"
        result = watch.feed(translate(message.as_dict()))
        if result is not None:
            steps.append((result.outcome, result.channel_id, result.uniqueid))
    assert steps == [("agent_answered", "cb7-abc", "cb7-abc"), ("reached", "cb7-abc", "cb7-abc")]


@pytest.mark.parametrize(
    ("number", "outcome"),
    [("+4521806409", "busy"), ("+4521806407", "no_answer"), ("+4521806408", "no_answer")],
)
def test_the_demo_citizen_answers_by_the_last_digit_of_the_number(
    serve: Serve, connect: Connect, number: str, outcome: str
) -> None:
    """A fixed rule, so the demo shows every outcome: 7 and 8 no answer, 9 busy."""
    simulator = serve([TRACES / "a-answered.ami"], answer_wait=0, originate_after=(0.1, 0.1))
    client = connect(simulator)
    client.login()
    fields = {"Channel": "PJSIP/demo", "Context": "callback", "Exten": number}
    client.send("Originate", "o-2", {**fields, "Async": "true", "ChannelId": "cb8-abc"})
    watch, translate, steps = OriginateWatch(), Translator(), []
    watch.expect("o-2", "cb8-abc")
    while len(steps) < 2:
        (message,) = client.read(1)
        result = watch.feed(translate(message.as_dict()))
        if result is not None:
            steps.append(result.outcome)
    assert steps == ["agent_answered", outcome]
