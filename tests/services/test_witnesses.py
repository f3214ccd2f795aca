"""Both witnesses of a call, through the call-log pipeline: ``ingest`` and the worker's path.

The k-queue-timeout recording (two queue timeouts, one abandon, one answered call) with
and without its queue_log, and with the faults queue_log has to make up for.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from phoneservice.bootstrap import build_call_log, queue_log_file
from phoneservice.pbx.queue_log import parse_queue_log
from phoneservice.registry import parse_registry
from tests.conftest import LAB_REGISTRY, TODAY
from tests.domain.test_call_tracker import TRACES, recorded_events, truth
from tests.domain.test_reconcile import stripped_complete, without_queuestatus
from tests.services.test_ingest import lab, logged_calls, run

__all__ = ["lab"]  # the fixture

K = "k-queue-timeout"
QUEUE_LOG = TRACES / f"{K}.queue_log"


def _seconds(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def assert_ground_truth(logged: dict[str, dict], *, arrival: str = "channel_created") -> None:
    """Every k call's outcome, unit, number, wait, talk and arrival (±1 s) as in expected.json."""
    calls = truth(K)["calls"]
    assert len(logged) == len(calls) == 4
    for call in calls:
        got = logged[call["uniqueid"]]
        assert (
            got["outcome"],
            got["unit"],
            got["caller_number"],
            got["wait_s"],
            got["talk_s"] or 0,
        ) == (
            call["observed_outcome"],
            call["queue"],
            call["caller_number"],
            call["wait_s"],
            call["talk_s"],
        ), call["call_ref"]
        assert abs(_seconds(got["arrived_at"]) - call["times"][arrival]) <= 1, call["call_ref"]


def test_ingest_of_the_recording_alone(lab, capsys):
    run(capsys, "ingest", str(TRACES / f"{K}.ami"))
    logged = logged_calls(capsys)
    assert_ground_truth(logged)
    assert {c["source"] for c in logged.values()} == {"ami"}


def test_ingest_of_the_recording_with_its_queue_log(lab, capsys):
    run(capsys, "ingest", str(TRACES / f"{K}.ami"), str(QUEUE_LOG))
    logged = logged_calls(capsys)
    assert_ground_truth(logged)
    assert {c["source"] for c in logged.values()} == {"ami"}  # the witnesses agreed
    k001 = logged[truth(K)["calls"][0]["uniqueid"]]
    assert (k001["caller_name"], k001["linkedid"]) == ("Birgitte Mølgaard", "1796292152.256")


def test_ingest_of_the_queue_log_alone(lab, capsys):
    run(capsys, "ingest", str(QUEUE_LOG))
    logged = logged_calls(capsys)
    assert_ground_truth(logged)
    assert {c["source"] for c in logged.values()} == {"queue_log"}


def pipeline(queue_log: bool):
    """The live path's call log for the lab PBX, collecting what it stores."""
    stored: list = []

    def store(records, _seen):
        stored.extend(records)
        return len(records)

    registry = parse_registry(LAB_REGISTRY, "lab.toml", TODAY)
    reader = queue_log_file([QUEUE_LOG]) if queue_log else None
    return build_call_log(registry, "lab", store, queue_log=reader), stored


def through(events, *, queue_log: bool, live: bool = False) -> dict:
    """Feed ``events``; ``live``: the stream goes on (no end of input), as for the worker."""
    call_log, stored = pipeline(queue_log)
    for event in events:
        call_log.message(event)
        if call_log.due():
            call_log.flush()
    if live:  # a later event: a call whose AgentComplete never came is finished
        later = float(call_log.last_seen.timestamp()) + 60
        call_log.message({"Event": "QueueMemberStatus", "Timestamp": f"{later:.6f}"})
    else:
        call_log.finish(call_log.last_seen)
    call_log.flush(final=True)
    return {r.uniqueid: r for r in stored}


def k_ref(ref: str) -> dict:
    return next(c for c in truth(K)["calls"] if c["call_ref"] == ref)


@pytest.mark.parametrize("queue_log", [False, True])
def test_a_stream_without_queuestatus_is_corrected_by_queue_log(queue_log):
    events = [e for e in recorded_events(f"{K}.ami") if not without_queuestatus(e)]
    got = through(events, queue_log=queue_log)
    timeouts = [got[k_ref(ref)["uniqueid"]].outcome for ref in ("k-001", "k-002")]
    assert timeouts == (["timeout"] * 2 if queue_log else ["abandoned"] * 2)
    assert got[k_ref("k-004")["uniqueid"]].outcome == "abandoned"


@pytest.mark.parametrize("live", [False, True], ids=["ingest", "worker"])
@pytest.mark.parametrize("queue_log", [False, True])
def test_talk_time_lost_with_the_agentcomplete_fields_comes_from_queue_log(queue_log, live):
    events = [stripped_complete(e) for e in recorded_events(f"{K}.ami")]
    got = through(events, queue_log=queue_log, live=live)[k_ref("k-003")["uniqueid"]]
    assert (got.outcome, got.wait_s, got.talk_s) == ("answered", 3, 6 if queue_log else None)
    assert got.caller_name == "Kasper Hansen" and got.source == "ami"


def test_an_unreadable_queue_log_stores_the_calls_as_the_stream_saw_them(tmp_path, caplog):
    registry = parse_registry(LAB_REGISTRY, "lab.toml", TODAY)
    stored: list = []
    call_log = build_call_log(
        registry,
        "lab",
        lambda records, _seen: stored.extend(records) or len(records),
        queue_log=queue_log_file([tmp_path / "missing.queue_log"]),
    )
    for event in recorded_events(f"{K}.ami"):
        call_log.message(event)
    call_log.flush(final=True)
    assert sorted(r.outcome for r in stored) == ["abandoned", "answered", "timeout", "timeout"]
    assert "queue_log unreadable" in caplog.text


class LaggingQueueLog:
    """queue_log as a PBX writes it a little behind the stream: lines up to ``until``."""

    def __init__(self) -> None:
        self.lines = QUEUE_LOG.read_text(encoding="utf-8").splitlines()
        self.until = 0.0

    def __call__(self):
        events, _ = parse_queue_log(self.lines)
        return [e for e in events if e.at.timestamp() <= self.until]


def lagging_pipeline(reader):
    stored: list = []
    registry = parse_registry(LAB_REGISTRY, "lab.toml", TODAY)
    store = lambda records, _seen: stored.extend(records) or len(records)  # noqa: E731
    return build_call_log(registry, "lab", store, queue_log=reader), stored


def test_a_queue_log_behind_the_stream_still_decides_the_timeouts():
    """The stream without QUEUESTATUS says abandoned; queue_log, a little late, says timeout."""
    reader = LaggingQueueLog()
    call_log, stored = lagging_pipeline(reader)
    for event in recorded_events(f"{K}.ami"):
        if not without_queuestatus(event):
            call_log.message(event)
    call_log.flush()  # queue_log holds no line yet: the doubtful calls wait
    timed_out = {k_ref(ref)["uniqueid"] for ref in ("k-001", "k-002")}
    assert not timed_out & {r.uniqueid for r in stored}
    assert k_ref("k-003")["uniqueid"] in {r.uniqueid for r in stored}  # answered: no doubt
    reader.until = float("inf")  # queue_log caught up
    call_log.flush()
    outcomes = {r.uniqueid: r.outcome for r in stored}
    assert [outcomes[u] for u in sorted(timed_out)] == ["timeout", "timeout"]
    assert outcomes[k_ref("k-004")["uniqueid"]] == "abandoned"
    assert len(stored) == 4


def test_a_queue_log_that_never_catches_up_is_waited_for_a_minute_of_stream():
    reader = LaggingQueueLog()
    call_log, stored = lagging_pipeline(reader)
    for event in recorded_events(f"{K}.ami"):
        if not without_queuestatus(event):
            call_log.message(event)
    call_log.flush()
    assert len(stored) == 1  # the answered call
    later = call_log.last_seen.timestamp() + 61
    call_log.message({"Event": "QueueMemberStatus", "Timestamp": f"{later:.6f}"})
    call_log.flush()
    assert sorted(r.outcome for r in stored) == ["abandoned", "abandoned", "abandoned", "answered"]


def test_ingest_never_waits_for_queue_log():
    call_log, stored = lagging_pipeline(LaggingQueueLog())
    for event in recorded_events(f"{K}.ami"):
        call_log.message(event)
    call_log.finish(call_log.last_seen)
    call_log.flush(final=True)
    assert len(stored) == 4
