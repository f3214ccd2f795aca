"""A callback call's outcome across an AMI drop: read back from AstDB, never guessed.

The connection drops after each ``OriginateResponse`` and before the citizen's
``DialEnd``. On the next connection the worker asks ``DBGet`` for what the shipped
``[callback]`` dialplan stored (deploy/asterisk/extensions.conf), follows a call that is
still up, and marks ``lost`` only the call nothing can tell about. The real client talks
over loopback to a small scripted AMI server.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from phoneservice.bootstrap import build_call_log
from phoneservice.domain.callbacks.rules import IN_FLIGHT
from phoneservice.pbx.client import AmiClient, AmiTarget
from phoneservice.pbx.protocol import encode
from phoneservice.worker.dialer import OriginateOutbox
from phoneservice.worker.follower import PbxFollower, follow_all
from tests.services.test_callbacks import lab_registry
from tests.worker.test_originate_outbox import PLANS, Queue, _attempt, _placed_calls, _service

Headers = list[tuple[str, str]]
OUTCOME_FAMILY = "phoneservice_callback"  # the AstDB family of the shipped [callback] dialplan
DIALPLAN = Path(__file__).parents[2] / "deploy" / "asterisk" / "extensions.conf"
# What the dialplan stored per call, in placing order; None: no entry.
STORED = ["ANSWER", "NOANSWER", "BUSY", None, None, ""]
LIVE = 4  # the fifth call is still up after the reconnect: its DialEnd comes later
EXTRA_PLANS = [
    {"citizen_number": "+4522334455", "agent": "agent3"},
    {"citizen_number": "+4522334466", "agent": "agent5"},
]


class ScriptedPbx:
    """Connection 1 takes the Originates and drops after their responses; connection 2
    answers DBGet from ``stored`` and lists ``live`` as an up channel. With nothing to
    originate, connection 1 answers DBGet already (a worker restarted after a call was sent)."""

    def __init__(self, stored: dict[str, str | None], live: str | None, expected: int) -> None:
        self.stored, self.live, self.expected = stored, live, expected
        self.connections = 0
        self.actions: list[tuple[int, dict[str, str]]] = []
        self.originated: list[str] = []
        self.first = 2 if expected else 1  # the first connection that answers DBGet

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One connection: banner, then actions until the script drops it."""
        self.connections += 1
        number = self.connections
        writer.write(b"Asterisk Call Manager/9.0.0\r\n")
        try:
            while (action := await _read_action(reader)) is not None:
                self.actions.append((number, action))
                if not await self._answer(number, action, writer):
                    break
        finally:
            writer.close()

    async def _answer(self, number: int, action: dict[str, str], writer) -> bool:
        """Answer one action; False to drop the connection."""
        name, action_id = action.get("Action", "").casefold(), action.get("ActionID", "")
        reply: Headers = [("Response", "Success"), ("ActionID", action_id)]
        if name == "login":
            writer.write(encode([*reply, ("Message", "Authentication accepted")]))
        elif name == "ping":
            writer.write(encode([*reply, ("Ping", "Pong"), ("Timestamp", f"{time.time():.6f}")]))
        elif name == "originate" and number == 1:
            return await self._originate(action, reply, writer)
        elif name == "dbget" and number >= self.first:
            writer.write(self._dbget(action, action_id))
        elif name == "coreshowchannels":
            writer.write(self._channels(action_id, number))
            if number >= self.first and self.live and self._asked_every_dbget(number):
                writer.write(encode(_dial_end(self.live)))
        else:
            writer.write(encode([("Response", "Error"), ("ActionID", action_id)]))
        await writer.drain()
        return True

    async def _originate(self, action: dict[str, str], reply: Headers, writer) -> bool:
        """Queue the call, tell the agent answered, and drop once every call was sent."""
        channel_id = action["ChannelId"]
        self.originated.append(channel_id)
        writer.write(encode([*reply, ("Message", "Originate successfully queued")]))
        writer.write(encode(_originate_response(action["ActionID"], channel_id)))
        await writer.drain()
        return len(self.originated) < self.expected

    def _dbget(self, action: dict[str, str], action_id: str) -> bytes:
        """Asterisk's answer: the value as a one-item list, or an error when there is none."""
        family, key = action.get("Family", ""), action.get("Key", "")
        value = self.stored.get(key) if family == OUTCOME_FAMILY else None
        if value is None:
            error = [("Response", "Error"), ("ActionID", action_id)]
            return encode([*error, ("Message", "Database entry not found")])
        start = [("Response", "Success"), ("ActionID", action_id), ("EventList", "start")]
        item = [("Event", "DBGetResponse"), ("Family", family), ("Key", key), ("Val", value)]
        done = [("Event", "DBGetComplete"), ("ActionID", action_id), ("EventList", "Complete")]
        return b"".join(
            encode(part)
            for part in (
                [*start, ("Message", "Result will follow")],
                [*item, ("ActionID", action_id)],
                [*done, ("ListItems", "1")],
            )
        )

    def _channels(self, action_id: str, number: int) -> bytes:
        """CoreShowChannels: the live call's agent channel on the second connection."""
        rows = [self.live] if number >= self.first and self.live else []
        start = [("Response", "Success"), ("ActionID", action_id), ("EventList", "start")]
        parts = [[*start, ("Message", "Channels will follow")]]
        parts += [_channel_row(uniqueid, action_id) for uniqueid in rows]
        done = [("Event", "CoreShowChannelsComplete"), ("ActionID", action_id)]
        parts.append([*done, ("EventList", "Complete"), ("ListItems", str(len(rows)))])
        return b"".join(encode(part) for part in parts)

    def _asked_every_dbget(self, number: int) -> bool:
        """Whether this connection asked DBGet for every call sent."""
        asked = {a.get("Key") for n, a in self.actions if n == number and a["Action"] == "DBGet"}
        return asked >= set(self.originated or self.stored)


async def _read_action(reader: asyncio.StreamReader) -> dict[str, str] | None:
    """The next action's headers; None when the client closed."""
    try:
        block = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    pairs = (line.split(": ", 1) for line in block.decode().split("\r\n") if ": " in line)
    return {key: value for key, value in pairs}


def _originate_response(action_id: str, channel_id: str) -> Headers:
    """The agent answered: the originated channel's Uniqueid is the ChannelId."""
    return [
        ("Event", "OriginateResponse"),
        ("Privilege", "call,all"),
        ("Timestamp", f"{time.time():.6f}"),
        ("ActionID", action_id),
        ("Response", "Success"),
        ("Channel", "Local/agent2@agent-phone-00000001;1"),
        ("Context", "callback"),
        ("Reason", "4"),
        ("Uniqueid", channel_id),
    ]


def _channel_row(uniqueid: str, action_id: str) -> Headers:
    """The agent's channel of a callback call, up and dialling."""
    return [
        ("Event", "CoreShowChannel"),
        ("ActionID", action_id),
        ("Channel", "Local/agent3@agent-phone-00000009;1"),
        ("Uniqueid", uniqueid),
        ("Linkedid", uniqueid),
        ("Context", "callback-dial"),
        ("Application", "Dial"),
        ("Duration", "00:00:09"),
    ]


def _dial_end(linkedid: str) -> Headers:
    """The citizen answers the call that was still up."""
    return [
        ("Event", "DialEnd"),
        ("Privilege", "call,all"),
        ("Timestamp", f"{time.time():.6f}"),
        ("Channel", "Local/agent3@agent-phone-00000009;1"),
        ("Uniqueid", linkedid),
        ("Linkedid", linkedid),
        ("DestChannel", "PJSIP/trunk-0000000a"),
        ("DestUniqueid", "1795336799.20"),
        ("DestLinkedid", linkedid),
        ("DialStatus", "ANSWER"),
    ]


def _follow(queue: Queue, pbx: ScriptedPbx, until: Callable[[], bool]) -> PbxFollower:
    """Run the real client and follower against ``pbx`` until ``until()`` holds."""

    async def run() -> PbxFollower:
        server = await asyncio.start_server(pbx.serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        target = AmiTarget("lab", "127.0.0.1", port, "phoneservice", "s")
        call_log = build_call_log(lab_registry(), "lab", queue.calls.store_for("lab"))
        client = AmiClient(target, ping_interval=1.0, backoff_initial=0.05, backoff_max=0.2)
        follower = PbxFollower(client, call_log, originates=OriginateOutbox(queue.callbacks))
        stop = asyncio.Event()
        job = asyncio.create_task(follow_all([follower], stop))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not await asyncio.to_thread(until):
            await asyncio.sleep(0.1)
        stop.set()
        await job
        server.close()
        await server.wait_closed()
        return follower

    return asyncio.run(run())


def test_outcomes_after_a_drop_come_from_the_dialplans_astdb_entries(database_url):
    _, queue = _service(database_url)
    placed = _placed_calls(queue, [*PLANS[:4], *EXTRA_PLANS])
    channel_ids = [channel_id for _, channel_id in placed]
    stored = dict(zip(channel_ids, STORED, strict=True))
    pbx = ScriptedPbx(stored, channel_ids[LIVE], expected=len(placed))

    def decided() -> bool:
        return all(_attempt(queue, task).status not in IN_FLIGHT for task, _ in placed)

    follower = _follow(queue, pbx, decided)
    assert decided() and follower.failures == 0
    assert pbx.originated == channel_ids and pbx.connections >= 2
    attempts = [_attempt(queue, task) for task, _ in placed]
    assert [(a.outcome, a.status) for a in attempts] == [
        ("reached", "resolved"),  # ANSWER
        ("no_answer", "resolved"),  # NOANSWER
        ("busy", "resolved"),  # BUSY
        (None, "lost"),  # no entry and not up: nothing can tell
        ("reached", "resolved"),  # no entry yet, still up: its DialEnd decided
        ("no_answer", "resolved"),  # empty: the agent hung up before the citizen was dialled
    ]
    asked = [(a["Family"], a["Key"]) for n, a in pbx.actions if a["Action"] == "DBGet"]
    assert sorted(asked) == sorted((OUTCOME_FAMILY, c) for c in channel_ids)
    assert queue.callbacks.get(placed[0][0]).callback.resolution == "called_back"


def test_a_restarted_worker_reads_the_outcome_of_a_call_sent_before_it(database_url):
    """The worker died after ``mark_sent``: its successor asks DBGet at its first connect."""
    _, queue = _service(database_url)
    placed = _placed_calls(queue, PLANS[:3])
    for _, channel_id in placed:
        assert queue.callbacks.mark_sent(channel_id)
    channel_ids = [channel_id for _, channel_id in placed]
    pbx = ScriptedPbx(dict(zip(channel_ids, ["BUSY", None, None], strict=True)), None, 0)
    pbx.live = channel_ids[2]

    def decided() -> bool:
        return all(_attempt(queue, task).status != "sent" for task, _ in placed)

    follower = _follow(queue, pbx, decided)
    assert decided() and follower.failures == 0 and pbx.originated == []
    attempts = [_attempt(queue, task) for task, _ in placed]
    assert [(a.outcome, a.status) for a in attempts] == [
        ("busy", "resolved"),
        (None, "lost"),
        ("reached", "resolved"),
    ]


def test_the_dialplan_stores_the_outcome_where_the_worker_reads_it():
    from phoneservice.domain.callbacks.originate import OUTCOME_FAMILY as read_from

    assert read_from == OUTCOME_FAMILY
    text = DIALPLAN.read_text(encoding="utf-8")
    assert f"Set(DB({OUTCOME_FAMILY}/${{ARG1}})=${{DIALSTATUS}})" in text
    assert "hangup_handler_push)=callback-outcome,s,1(${UNIQUEID})" in text


def test_a_stored_dialstatus_maps_to_the_attempts_outcome():
    from phoneservice.domain.callbacks.originate import stored_outcome

    assert [
        stored_outcome(s)
        for s in ("ANSWER", "NOANSWER", "BUSY", "CONGESTION", "CHANUNAVAIL", "CANCEL", "", "?")
    ] == ["reached", "no_answer", "busy", "failed", "failed", "no_answer", "no_answer", "failed"]
