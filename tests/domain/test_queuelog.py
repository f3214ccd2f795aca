"""queue_log as a second witness: rebuilt calls, and a connection gap reconciled."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from phoneservice.domain.calls.queuelog import QueueLogCalls
from phoneservice.domain.calls.reconcile import reconcile
from phoneservice.pbx.queue_log import parse_line, parse_queue_log
from tests.domain.test_call_tracker import (
    LAB_QUEUES,
    TRACES,
    feed_all,
    lab_is_open,
    make_tracker,
    recorded_events,
    truth,
)

SCENARIOS = [
    "a-answered",
    "b-abandoned",
    "c-ringnoanswer-then-answered",
    "e-burst",
    "g-reconnect",
    "h-all-paused-abandon",
]


def rebuild(scenario: str, until: float | None = None):
    """The scenario's queue_log as the PBX had written it up to ``until``."""
    entries, bad = parse_queue_log((TRACES / f"{scenario}.queue_log").read_text().splitlines())
    assert bad == 0
    folder = QueueLogCalls(
        pbx="lab", unit_for_queue=LAB_QUEUES.get, is_open=lab_is_open, short_abandon_seconds=5
    )
    return folder.calls(e for e in entries if until is None or e.at.timestamp() <= until)


def _cases():
    for scenario in SCENARIOS:
        for call in truth(scenario)["calls"]:
            yield pytest.param(scenario, call, id=f"{scenario}-{call['call_ref']}")


@pytest.mark.parametrize(("scenario", "call"), list(_cases()))
def test_queue_log_rebuilds_every_call(scenario, call):
    records, pending = rebuild(scenario)
    assert pending == []
    record = {r.uniqueid: r for r in records}[call["uniqueid"]]
    assert (
        record.outcome,
        record.wait_s,
        record.talk_s or 0,
        record.agent,
        record.caller_number,
        record.queue,
    ) == (
        call["observed_outcome"],
        call["wait_s"],
        call["talk_s"],
        call["agent"],
        call["caller_number"],
        call["queue"],
    )
    assert record.source == "queue_log"
    segments = [(s.queue, s.outcome, s.ring_no_answers) for s in record.segments]
    assert segments == [
        (s["queue"], s["outcome"], s["ring_no_answer"]) for s in call["queue_segments"]
    ]


def test_unfinished_calls_are_pending_not_logged():
    lines = [
        "1795336819|1.1|borgerservice|NONE|ENTERQUEUE||+4529707185|1",
        "1795336821|1.1|borgerservice|Anne|CONNECT|2|1.2|2",
    ]
    folder = QueueLogCalls(
        pbx="p", unit_for_queue=LAB_QUEUES.get, is_open=lab_is_open, short_abandon_seconds=5
    )
    records, pending = folder.calls(parse_queue_log(lines)[0])
    assert (records, pending) == ([], ["1.1"])


def test_timeout_and_exit_empty_are_told_apart():
    lines = [
        "100|1.1|jobcenter|NONE|ENTERQUEUE||+4511111111|1",
        "160|1.1|jobcenter|NONE|EXITWITHTIMEOUT|1|1|60",
        "200|1.2|jobcenter|NONE|ENTERQUEUE||+4522222222|1",
        "201|1.2|jobcenter|NONE|EXITEMPTY|1|1|1",
    ]
    folder = QueueLogCalls(
        pbx="p", unit_for_queue=LAB_QUEUES.get, is_open=lab_is_open, short_abandon_seconds=5
    )
    records, _ = folder.calls(parse_queue_log(lines)[0])
    assert [(r.outcome, r.wait_s) for r in records] == [("timeout", 60), ("unanswered", 1)]


@pytest.mark.parametrize(
    "line",
    ["", "garbage", "x|y|z|w|v", "12|only|four|parts"],
    ids=["empty", "word", "no-epoch", "too-short"],
)
def test_unreadable_lines_are_counted_not_raised(line):
    assert parse_line(line) is None


def _gap_run(with_queue_log: bool):
    """Feed part1, then part2; at the resync, finish vanished calls (reconciled or not)."""
    tracker = make_tracker()
    records = feed_all(tracker, recorded_events("g-reconnect.part1.ami"))
    expected = truth("g-reconnect")
    dropped = datetime.fromtimestamp(expected["recorder_dropped_at"], UTC)
    reconnected = expected["recorder_reconnected_at"]
    live: set[str] = set()
    for event in recorded_events("g-reconnect.part2.ami"):
        if event.get("Event") == "CoreShowChannel":
            live.add(event["Uniqueid"])
        records += tracker.feed(event)
        if event.get("Event") == "CoreShowChannelsComplete":
            vanished = tracker.vanished(live, datetime.fromtimestamp(reconnected, UTC))
            if with_queue_log:
                rebuilt, _ = rebuild("g-reconnect", until=reconnected)
                in_flight = {c.uniqueid for c in tracker.in_flight()}
                vanished = reconcile(vanished, rebuilt, in_flight, since=dropped)
            records += vanished
    logged = {}
    for record in records:
        assert record.uniqueid not in logged, f"{record.uniqueid} logged twice"
        logged[record.uniqueid] = record
    return logged


def test_gap_without_queue_log_leaves_no_missed_call_unlogged():
    logged = _gap_run(with_queue_log=False)
    for call in truth("g-reconnect")["calls"]:
        if call["call_ref"] == "g-008":
            assert call["uniqueid"] not in logged  # it lived wholly inside the gap
            continue
        outcome = logged[call["uniqueid"]].outcome
        assert outcome in (call["observed_outcome"], "unknown"), call["call_ref"]


def test_gap_with_queue_log_reconstructs_every_call():
    logged = _gap_run(with_queue_log=True)
    calls = truth("g-reconnect")["calls"]
    for call in calls:
        record = logged[call["uniqueid"]]
        assert (record.outcome, record.wait_s, record.talk_s or 0, record.agent) == (
            call["observed_outcome"],
            call["wait_s"],
            call["talk_s"],
            call["agent"],
        ), call["call_ref"]
    assert logged[calls[7]["uniqueid"]].source == "queue_log"
