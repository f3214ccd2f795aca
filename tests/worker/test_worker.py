"""The live path end to end: recordings served over loopback, through the real AMI client
and the worker's follower, into storage, checked against each call's ground truth."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

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
from tests.domain.test_call_tracker import TRACES, recorded_events, truth

# Real sockets, the real client and follower threads, seconds per test: the slow tier.
pytestmark = pytest.mark.slow

SCENARIOS = [
    "a-answered",
    "b-abandoned",
    "c-ringnoanswer-then-answered",
    "d-out-of-hours",
    "e-burst",
    "h-all-paused-abandon",
]


def run_worker(scripts, database_url, *, expected: int, queue_log=None, seed=0):
    """Serve ``scripts`` and follow them until ``expected`` calls are stored (or 30 s)."""
    registry = parse_registry(LAB_REGISTRY, "lab.toml", TODAY)
    sessions = session_factory(create_engine_for(database_url))
    callbacks = CallbackService(sessions, registry, lambda: datetime.now(UTC))
    service = CallService(sessions, callbacks)
    with AmiSimulator(
        scripts, username="phoneservice", secret="s3cret", chunks=(1, 700), seed=seed
    ) as sim:
        target = AmiTarget("lab", "127.0.0.1", sim.port, "phoneservice", "s3cret")
        reader = queue_log_file([queue_log]) if queue_log else None
        call_log = build_call_log(registry, "lab", service.store_for("lab"), queue_log=reader)
        client = AmiClient(
            target, ping_interval=1.0, pong_timeout=2.0, backoff_initial=0.05, backoff_max=0.2
        )
        follower = PbxFollower(client, call_log)
        asyncio.run(_follow_until(follower, service, expected))
    return {c.uniqueid: c for c in service.calls(limit=None)}, follower


async def _follow_until(follower: PbxFollower, service: CallService, expected: int) -> None:
    stop = asyncio.Event()
    job = asyncio.create_task(follow_all([follower], stop))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        stored = await asyncio.to_thread(lambda: len(service.calls(limit=None)))
        if stored >= expected:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await job


def follow_recording(
    database_url: str, name: str, *, queue_log: bool
) -> tuple[dict, Any, list, CallbackService]:
    """Replay recording ``name`` at its real pace through the real client into a fresh
    store (with its queue_log beside it or not): the stored calls by uniqueid, the
    follower, the ground truth's calls and the callback service."""
    registry = parse_registry(LAB_REGISTRY, "lab.toml", TODAY)
    sessions = session_factory(create_engine_for(database_url))
    callbacks = CallbackService(sessions, registry, lambda: datetime.now(UTC))
    service = CallService(sessions, callbacks)
    calls = truth(name)["calls"]
    with AmiSimulator(
        [TRACES / f"{name}.ami"], username="phoneservice", secret="s3cret", speed=1.0
    ) as sim:
        target = AmiTarget("lab", "127.0.0.1", sim.port, "phoneservice", "s3cret")
        reader = queue_log_file([TRACES / f"{name}.queue_log"]) if queue_log else None
        call_log = build_call_log(registry, "lab", service.store_for("lab"), queue_log=reader)
        follower = PbxFollower(AmiClient(target, ping_interval=1.0), call_log)
        asyncio.run(_follow_until(follower, service, len(calls)))
    return {c.uniqueid: c for c in service.calls(limit=None)}, follower, calls, callbacks


def _key(record) -> tuple:
    return (record.outcome, record.wait_s, record.talk_s or 0, record.agent, record.caller_number)


def _truth_key(call) -> tuple:
    return (
        call["observed_outcome"],
        call["wait_s"],
        call["talk_s"],
        call["agent"],
        call["caller_number"],
    )


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_recording_through_the_real_client(database_url, scenario, seed):
    calls = truth(scenario)["calls"]
    logged, follower = run_worker(
        [TRACES / f"{scenario}.ami"], database_url, expected=len(calls), seed=seed
    )
    assert follower.failures == 0
    assert len(logged) == len(calls)
    for call in calls:
        record = logged[call["uniqueid"]]
        assert _key(record) == _truth_key(call), call["call_ref"]
        unit = (
            call["queue"]
            or {"70101010": "borgerservice", "70101020": "jobcenter", "70101030": "boern-laering"}[
                call["did"]
            ]
        )
        assert record.unit == unit, call["call_ref"]
        # the ground truth's during_hours is the dialplan's PHONE_HOURS, kept as pbx_hours
        assert (record.pbx_hours == "open") == call["during_hours"], call["call_ref"]
        assert record.during_hours  # the lab registry is open around the clock
    missed = {
        (c["caller_number"], c["queue"]) for c in calls if c["observed_outcome"] != "answered"
    }
    tasks = _tasks(database_url)
    assert sorted(tasks) == sorted(missed)  # one task per missed caller and unit, none else


def _tasks(database_url: str) -> list[tuple[str | None, str]]:
    """The (number, unit) of every callback task in the database."""
    registry = parse_registry(LAB_REGISTRY, "lab.toml", TODAY)
    sessions = session_factory(create_engine_for(database_url))
    service = CallbackService(sessions, registry, lambda: datetime.now(UTC))
    return [(t.callback.caller_number, t.callback.unit) for t in service.list()]


def test_reset_then_reconnect_with_queue_log_logs_all_eight_calls(database_url):
    scripts = [
        Script(TRACES / "g-reconnect.part1.ami", ending="reset"),
        Script(TRACES / "g-reconnect.part2.ami"),
    ]
    calls = truth("g-reconnect")["calls"]
    logged, follower = run_worker(
        scripts, database_url, expected=8, queue_log=TRACES / "g-reconnect.queue_log"
    )
    assert follower.client.reconnects == 1
    assert len(logged) == 8
    for call in calls:
        assert _key(logged[call["uniqueid"]])[:4] == _truth_key(call)[:4], call["call_ref"]


def test_reset_then_reconnect_without_queue_log_marks_unseen_ends_unknown(database_url):
    scripts = [
        Script(TRACES / "g-reconnect.part1.ami", ending="reset"),
        Script(TRACES / "g-reconnect.part2.ami"),
    ]
    logged, _ = run_worker(scripts, database_url, expected=7)
    for call in truth("g-reconnect")["calls"]:
        if call["call_ref"] == "g-008":
            assert call["uniqueid"] not in logged  # wholly inside the gap: queue_log only
            continue
        assert logged[call["uniqueid"]].outcome in (call["observed_outcome"], "unknown")


def test_a_restarted_worker_reconciles_from_where_the_last_one_stopped(database_url):
    """Worker A reads part1 and dies; worker B starts on part2 and logs every call."""
    registry = parse_registry(LAB_REGISTRY, "lab.toml", TODAY)
    sessions = session_factory(create_engine_for(database_url))
    callbacks = CallbackService(sessions, registry, lambda: datetime.now(UTC))
    service = CallService(sessions, callbacks)
    asyncio.run(_follow_part1_then_stop(registry, service))
    since = service.resume_point("lab")
    dropped = truth("g-reconnect")["recorder_dropped_at"]
    assert since is not None and abs(since.timestamp() - dropped) < 2
    with AmiSimulator([TRACES / "g-reconnect.part2.ami"], chunks=(1, 700)) as sim:
        target = AmiTarget("lab", "127.0.0.1", sim.port, "phoneservice", "s3cret")
        call_log = build_call_log(
            registry,
            "lab",
            service.store_for("lab"),
            since=since,
            queue_log=queue_log_file([TRACES / "g-reconnect.queue_log"]),
        )
        follower = PbxFollower(AmiClient(target, ping_interval=1.0), call_log)
        asyncio.run(_follow_until(follower, service, 8))
    logged = {c.uniqueid: c for c in service.calls(limit=None)}
    for call in truth("g-reconnect")["calls"]:
        got = logged[call["uniqueid"]]
        if call["call_ref"] in ("g-004", "g-005", "g-008"):  # ended while no worker ran
            assert _key(got)[:4] == _truth_key(call)[:4], call["call_ref"]
        else:  # B adopts what still lives; the wait before B's time is unknown to it
            assert got.outcome == call["observed_outcome"], call["call_ref"]
    missed = {
        (c["caller_number"], c["queue"])
        for c in truth("g-reconnect")["calls"]
        if c["observed_outcome"] != "answered"
    }
    tasks = {(t.callback.caller_number, t.callback.unit) for t in callbacks.list()}
    assert tasks == missed and len(callbacks.list()) == 3  # one per missed caller and unit
    run_worker(
        [TRACES / "g-reconnect.part2.ami"],
        database_url,
        expected=8,
        queue_log=TRACES / "g-reconnect.queue_log",
    )  # a third start over the same
    assert len(callbacks.list()) == 3  # stream: no duplicate task
    assert sum(t.callback.missed_calls for t in callbacks.list()) == 3


async def _follow_part1_then_stop(registry, service: CallService) -> None:
    with AmiSimulator([Script(TRACES / "g-reconnect.part1.ami", ending="stall")]) as sim:
        target = AmiTarget("lab", "127.0.0.1", sim.port, "phoneservice", "s3cret")
        call_log = build_call_log(registry, "lab", service.store_for("lab"))
        # The peer stalls after part1: the resync is never answered, and liveness (no
        # pong) fails it, after which the queued part1 events are followed.
        client = AmiClient(target, ping_interval=0.5, pong_timeout=0.5, backoff_initial=0.1)
        follower = PbxFollower(client, call_log)
        stop = asyncio.Event()
        job = asyncio.create_task(follow_all([follower], stop))
        deadline = time.monotonic() + 20
        while len(call_log.tracker.in_flight()) < 6 and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        stop.set()  # the worker goes away with six calls in flight
        await job


def test_the_periodic_queue_log_check_logs_calls_the_stream_never_carried(database_url):
    """The stream carries h's call; queue_log also holds e-burst's, which the stream missed."""
    registry = parse_registry(LAB_REGISTRY, "lab.toml", TODAY)
    service = CallService(session_factory(create_engine_for(database_url)))
    with AmiSimulator([TRACES / "h-all-paused-abandon.ami"]) as sim:
        target = AmiTarget("lab", "127.0.0.1", sim.port, "phoneservice", "s3cret")
        call_log = build_call_log(
            registry,
            "lab",
            service.store_for("lab"),
            queue_log=queue_log_file([TRACES / "e-burst.queue_log"]),
        )
        follower = PbxFollower(AmiClient(target, ping_interval=1.0), call_log)
        asyncio.run(_follow_then_recheck(follower, service))
    logged = service.calls(limit=None)
    by_source = {s: [c for c in logged if c.source == s] for s in ("ami", "queue_log")}
    assert len(by_source["ami"]) == 1  # h's abandoned caller, from the stream
    last = max(
        float(e["Timestamp"])
        for e in recorded_events("h-all-paused-abandon.ami")
        if "Timestamp" in e
    )
    settled = last - 120  # the stream's last event, less the settle time
    burst = truth("e-burst")["calls"]
    expected = {
        c["uniqueid"]
        for c in burst
        if max(int(line.split("|")[0]) for line in c["queue_log_events"]) <= settled
    }
    assert expected and {c.uniqueid for c in by_source["queue_log"]} == expected


async def _follow_then_recheck(follower: PbxFollower, service: CallService) -> None:
    stop = asyncio.Event()
    job = asyncio.create_task(follow_all([follower], stop))
    deadline = time.monotonic() + 20
    while not service.calls(limit=None) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    for _ in range(2):  # the second check finds nothing new
        follower.request_recheck()
        await asyncio.sleep(0.6)
    stop.set()
    await job
