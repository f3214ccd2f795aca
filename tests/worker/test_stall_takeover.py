"""A 20 s silent stall (m-ami-stall) through the real client, paced as the PBX sent it.

part1 is served in real time, then the peer goes silent (the client must notice it
itself, quirk 18), and a new login gets part2 with its CoreShowChannels and QueueStatus
answers where the recording has them. The follower's clock runs with the replay (the
PBX's clock), so the takeover times can be checked against the recorded truth.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pytest

from phoneservice.bootstrap import build_call_log, queue_log_file
from phoneservice.demo.simulator import AmiSimulator, Script
from phoneservice.pbx.client import AmiClient, AmiTarget
from phoneservice.registry import parse_registry
from phoneservice.services.callbacks import CallbackService
from phoneservice.services.calls import CallService
from phoneservice.storage.engine import create_engine_for, session_factory
from phoneservice.worker.follower import PbxFollower, follow_all
from tests.conftest import LAB_REGISTRY, TODAY
from tests.domain.test_call_tracker import TRACES, truth

pytestmark = pytest.mark.slow  # real pacing: about 45 s

STALL = truth("m-ami-stall")
# when each recorded connection began, on the PBX's clock
ORIGINS = (
    datetime.fromisoformat(STALL["recorded_from"]).timestamp(),
    STALL["recorder_reconnected_at"],
)


def replay_clock(sim: AmiSimulator):
    """The replayed PBX's clock: the recorded start of the current connection, plus elapsed."""

    def now() -> datetime:
        index = min(len(sim.accepted_at), len(ORIGINS)) - 1
        elapsed = time.time() - sim.accepted_at[index] if index >= 0 else 0.0
        return datetime.fromtimestamp(ORIGINS[max(index, 0)] + elapsed, UTC)

    return now


def test_a_stalled_connection_is_taken_over_with_the_pbx_clocks(database_url):
    registry = parse_registry(LAB_REGISTRY, "lab.toml", TODAY)
    sessions = session_factory(create_engine_for(database_url))
    service = CallService(sessions, CallbackService(sessions, registry, lambda: datetime.now(UTC)))
    scripts = [
        Script(TRACES / "m-ami-stall.part1.ami", ending="stall"),
        Script(TRACES / "m-ami-stall.part2.ami"),
    ]
    with AmiSimulator(scripts, speed=1.0, chunks=(1, 700), answer_wait=2.0) as sim:
        target = AmiTarget("lab", "127.0.0.1", sim.port, "phoneservice", "s3cret")
        queue_log = queue_log_file([TRACES / "m-ami-stall.queue_log"])
        call_log = build_call_log(registry, "lab", service.store_for("lab"), queue_log=queue_log)
        client = AmiClient(
            target, ping_interval=1.0, pong_timeout=2.0, backoff_initial=0.05, backoff_max=0.2
        )
        follower = PbxFollower(client, call_log, clock=replay_clock(sim))
        asyncio.run(_follow_until(follower, service, len(STALL["calls"])))
        asked = [action.get("Action") for index, action in sim.actions if index == 1]
    assert follower.failures == 0 and client.reconnects == 1
    logged = {c.uniqueid: c for c in service.calls(limit=None)}
    assert len(logged) == 20
    for call in STALL["calls"]:
        _check(logged[call["uniqueid"]], call)
    assert asked[1:3] == ["CoreShowChannels", "QueueStatus"]  # after the Login


def _check(record, call) -> None:
    """Outcome, unit, number, wait, talk; arrival, join and connect (±1 s) as the truth."""
    ref, times = call["call_ref"], call["times"]
    assert (
        record.outcome,
        record.unit,
        record.caller_number,
        record.wait_s,
        record.talk_s or 0,
    ) == (
        call["observed_outcome"],
        call["queue"],
        call["caller_number"],
        call["wait_s"],
        call["talk_s"],
    ), ref
    assert abs(record.arrived_at.timestamp() - times["channel_created"]) <= 1, ref
    assert abs(record.segments[0].joined_at.timestamp() - times["queue_join"]) <= 1, ref
    if record.outcome == "answered":
        left = record.segments[-1].left_at
        assert left is not None and abs(left.timestamp() - times["agent_connect"]) <= 1, ref


async def _follow_until(follower: PbxFollower, service: CallService, expected: int) -> None:
    stop = asyncio.Event()
    job = asyncio.create_task(follow_all([follower], stop))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        stored = await asyncio.to_thread(lambda: len(service.calls(limit=None)))
        if stored >= expected:
            break
        await asyncio.sleep(0.2)
    stop.set()
    await job
