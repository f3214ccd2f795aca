"""Which witness decides what: the AMI's record of a call merged with queue_log's.

The k-queue-timeout recording (two queue timeouts, one abandon, one answered call) and its
queue_log, with the faults the lab saw on a real Asterisk: a stream without the
``QUEUESTATUS`` VarSet, an ``AgentComplete`` without channel fields, and gaps.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from phoneservice.domain.calls.queuelog import QueueLogCalls, arrival
from phoneservice.domain.calls.reconcile import merge, needs_witness, reconcile, witnessed
from phoneservice.domain.calls.records import CallRecord
from phoneservice.pbx.queue_log import parse_queue_log
from tests.domain.test_call_tracker import (
    LAB_QUEUES,
    TRACES,
    by_uniqueid,
    feed_all,
    lab_is_open,
    make_tracker,
    recorded_events,
    truth,
)

K = "k-queue-timeout"
CALLS = {call["call_ref"]: call for call in truth(K)["calls"]}
K001, K002, K003, K004 = (CALLS[f"k-00{n}"]["uniqueid"] for n in range(1, 5))


def queue_log_lines() -> list[str]:
    return (TRACES / f"{K}.queue_log").read_text(encoding="utf-8").splitlines()


def rebuilt(lines: list[str] | None = None) -> list[CallRecord]:
    """The calls queue_log tells of (the k file, or ``lines``)."""
    entries, bad = parse_queue_log(queue_log_lines() if lines is None else lines)
    assert bad == 0
    folder = QueueLogCalls(
        pbx="lab", unit_for_queue=LAB_QUEUES.get, is_open=lab_is_open, short_abandon_seconds=5
    )
    return folder.calls(entries)[0]


def live(events) -> dict[str, CallRecord]:
    """The AMI's records of ``events``; what is still in flight at the end ends unknown."""
    tracker = make_tracker()
    records = feed_all(tracker, events)
    records += tracker.flush_unknown(datetime(2026, 12, 1, tzinfo=UTC))
    return by_uniqueid(records)


def k_events(*, drop=lambda event: False, change=lambda event: event):
    return [change(e) for e in recorded_events(f"{K}.ami") if not drop(e)]


def without_queuestatus(event) -> bool:
    return event.get("Event") == "VarSet" and event.get("Variable") == "QUEUESTATUS"


def stripped_complete(event):
    """AgentComplete as Asterisk sends it once the caller's snapshot is gone."""
    if event.get("Event") != "AgentComplete":
        return event
    return {k: v for k, v in event.items() if k.startswith("Dest") or k in _KEPT}


_KEPT = {"Event", "Privilege", "Timestamp", "Queue", "MemberName", "Interface"} | {
    "HoldTime",
    "TalkTime",
    "Reason",
}


def test_live_the_queuestatus_decides_timeout_against_abandon():
    got = live(k_events())
    assert {ref: got[c["uniqueid"]].outcome for ref, c in CALLS.items()} == {
        "k-001": "timeout",
        "k-002": "timeout",
        "k-003": "answered",
        "k-004": "abandoned",
    }


def test_queue_log_decides_timeout_against_abandon_when_the_stream_lacked_queuestatus():
    ami = live(k_events(drop=without_queuestatus))
    assert ami[K001].outcome == ami[K002].outcome == "abandoned"  # what AMI alone can say
    merged = by_uniqueid(witnessed(list(ami.values()), rebuilt()))
    for ref, call in CALLS.items():
        record = merged[call["uniqueid"]]
        assert (record.outcome, record.wait_s, record.talk_s or 0) == (
            call["observed_outcome"],
            call["wait_s"],
            call["talk_s"],
        ), ref
        assert record.segments[-1].outcome == record.outcome, ref
    assert not merged[K001].short_abandon  # a timeout is never a short abandon
    assert merged[K001].source == "queue_log"  # queue_log decided the outcome
    assert merged[K004].source == "ami"  # both said abandoned


def test_an_abandon_in_queue_log_overrules_a_timeout_on_ami():
    ami = live(k_events())[K004]
    timed_out = replace(ami, outcome="timeout", short_abandon=False)
    assert merge(timed_out, {r.uniqueid: r for r in rebuilt()}[K004]).outcome == "abandoned"


def test_talk_time_comes_from_completeagent_when_agentcomplete_lacked_channel_fields():
    ami = live(k_events(change=stripped_complete))[K003]
    assert (ami.outcome, ami.talk_s) == ("answered", None)  # issue 11, point 3
    assert needs_witness(ami)
    merged = witnessed([ami], rebuilt())[0]
    assert (merged.outcome, merged.wait_s, merged.talk_s, merged.agent) == (
        "answered",
        3,
        6,
        "Anne Sørensen",
    )
    assert merged.segments[0].talk_s == 6 and merged.source == "ami"


def test_an_abandon_whose_wait_only_queue_log_knows_is_judged_by_that_wait():
    ami = replace(live(k_events())[K004], wait_s=None, short_abandon=False)
    merged = merge(ami, {r.uniqueid: r for r in rebuilt()}[K004])
    assert (merged.outcome, merged.wait_s, merged.short_abandon) == ("abandoned", 5, False)
    lines = [line.replace("ABANDON|1|1|5", "ABANDON|1|1|2") for line in queue_log_lines()]
    merged = merge(ami, {r.uniqueid: r for r in rebuilt(lines)}[K004])
    assert (merged.wait_s, merged.short_abandon) == (2, True)  # below short_abandon_seconds


def test_observed_figures_are_never_overwritten():
    ami = live(k_events())[K003]
    lines = [
        line.replace("COMPLETEAGENT|3|6|1", "COMPLETEAGENT|4|99|1").replace(
            "CONNECT|3|", "CONNECT|9|"
        )
        for line in queue_log_lines()
    ]
    merged = merge(ami, {r.uniqueid: r for r in rebuilt(lines)}[K003])
    assert (merged.wait_s, merged.talk_s) == (3, 6)
    assert merged == ami  # nothing was missing, nothing changed


def test_a_call_known_to_both_keeps_the_amis_caller_linkedid_and_arrival():
    """The stream drops while k-001 waits: its end is queue_log's, the rest the AMI's."""
    cut = next(
        i
        for i, e in enumerate(recorded_events(f"{K}.ami"))
        if e.get("Event") == "AgentRingNoAnswer" and e.get("Queue") == "jobcenter"
    )
    tracker = make_tracker()
    feed_all(tracker, recorded_events(f"{K}.ami")[:cut])
    vanished = tracker.flush_unknown(datetime(2026, 12, 1, tzinfo=UTC))
    dropped = datetime.fromtimestamp(CALLS["k-001"]["times"]["queue_join"], UTC)
    got = by_uniqueid(reconcile(vanished, rebuilt(), [], dropped))[K001]
    call = CALLS["k-001"]
    assert (got.outcome, got.wait_s, got.unit, got.queue) == (
        "timeout",
        10,
        "jobcenter",
        "jobcenter",
    )
    assert (got.caller_name, got.linkedid) == ("Birgitte Mølgaard", call["linkedid"])
    assert got.arrived_at.timestamp() == pytest.approx(call["times"]["channel_created"], abs=0.01)
    assert got.ended_at.timestamp() == pytest.approx(call["times"]["queue_leave"], abs=1)


def test_a_call_that_joined_during_a_gap_takes_its_queue_from_queue_log():
    """AMI saw k-002 arrive, then nothing: queue_log knows its queue, visit and end."""
    events = recorded_events(f"{K}.ami")
    join = next(
        i
        for i, e in enumerate(events)
        if e.get("Event") == "QueueCallerJoin" and e.get("Uniqueid") == K002
    )
    tracker = make_tracker()
    feed_all(tracker, events[:join])
    ami = by_uniqueid(tracker.flush_unknown(datetime(2026, 12, 1, tzinfo=UTC)))[K002]
    assert (ami.outcome, ami.queue, ami.segments) == ("unknown", None, ())
    got = witnessed([ami], rebuilt())[0]
    assert (got.outcome, got.queue, got.unit, len(got.segments)) == (
        "timeout",
        "boern-laering",
        "bl",
        1,
    )
    assert got.segments[0].ring_no_answers == 4
    assert got.arrived_at == ami.arrived_at and got.linkedid == CALLS["k-002"]["linkedid"]


def test_an_answered_call_whose_end_a_gap_hid_ends_when_queue_log_says():
    events = recorded_events(f"{K}.ami")
    connect = next(i for i, e in enumerate(events) if e.get("Event") == "AgentConnect")
    tracker = make_tracker()
    feed_all(tracker, events[: connect + 1])
    resync = datetime(2026, 12, 1, tzinfo=UTC)
    ami = by_uniqueid(tracker.vanished(frozenset(), resync))[K003]
    assert (ami.outcome, ami.talk_s, ami.ended_at) == ("answered", None, resync)
    got = witnessed([ami], rebuilt())[0]
    assert (got.outcome, got.talk_s, got.source) == ("answered", 6, "ami")
    assert got.ended_at.timestamp() == pytest.approx(CALLS["k-003"]["times"]["hangup"], abs=1)


def test_queue_log_only_calls_arrive_when_their_channel_was_made():
    for record in rebuilt():
        call = next(c for c in CALLS.values() if c["uniqueid"] == record.uniqueid)
        assert abs(record.arrived_at.timestamp() - call["times"]["channel_created"]) <= 1
        assert record.arrived_at <= record.segments[0].joined_at


@pytest.mark.parametrize(
    "callid",
    ["pbx1-1796292152.257", "1796292152.257"],
)
def test_a_uniqueid_with_or_without_a_system_name_gives_the_creation_second(callid):
    joined = datetime.fromtimestamp(1796292153, UTC)
    assert arrival(callid, joined).timestamp() == 1796292152


@pytest.mark.parametrize("callid", ["abc", "1796299999.1", "1696292152.257", "", "-.-"])
def test_an_unreadable_or_implausible_uniqueid_gives_the_enterqueue_second(callid):
    joined = datetime.fromtimestamp(1796292153, UTC)
    assert arrival(callid, joined) == joined


def test_merging_twice_changes_nothing():
    ami = live(k_events(drop=without_queuestatus, change=stripped_complete))
    witness = rebuilt()
    once = witnessed(list(ami.values()), witness)
    assert witnessed(once, witness) == once


def test_a_record_of_another_call_or_from_queue_log_is_left_alone():
    records = {r.uniqueid: r for r in rebuilt()}
    ami = live(k_events(drop=without_queuestatus))[K001]
    assert merge(ami, records[K002]) == ami
    assert merge(records[K001], records[K001]) == records[K001]
    assert not needs_witness(records[K001])
