"""Calls taken over at a resync are timed by the PBX's own clocks (m-ami-stall).

``CoreShowChannel`` ``Duration`` and ``QueueEntry`` ``Wait`` count back from when the
answers came; ``HoldTime`` and ``TalkTime`` time what the gap hid. Never from the last
event seen before the gap.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import pytest

from phoneservice.domain.calls.records import CallRecord
from phoneservice.domain.calls.tracker import CallTracker
from tests.domain.test_call_tracker import (
    by_uniqueid,
    feed_all,
    make_tracker,
    recorded_events,
    truth,
)

STALL = truth("m-ami-stall")
ANSWERED_AT = datetime.fromtimestamp(STALL["recorder_reconnected_at"], UTC)
LISTS = {"CoreShowChannelsComplete": "CoreShowChannel", "QueueStatusComplete": "QueueEntry"}


@cache
def taken_over() -> dict[str, CallRecord]:
    """part1, the stall, then part2 with its resync answers applied when they came."""
    tracker = make_tracker()
    records = feed_all(tracker, recorded_events("m-ami-stall.part1.ami"))
    listed: list[dict[str, str]] = []
    for event in recorded_events("m-ami-stall.part2.ami"):
        name = event.get("Event", "")
        if name in LISTS.values():
            listed.append(event)
        elif name in LISTS:
            records += _answered(tracker, name, listed)
            listed = []
        else:
            records += tracker.feed(event)
    records += tracker.flush_unknown(ANSWERED_AT + timedelta(minutes=5))
    return by_uniqueid(records)


def _answered(tracker: CallTracker, name: str, rows: list[dict[str, str]]) -> list[CallRecord]:
    """A resync answer: adopt its rows; after CoreShowChannels, finish what vanished."""
    records = tracker.take_over(rows, ANSWERED_AT)
    if name == "CoreShowChannelsComplete":
        records += tracker.vanished({row["Uniqueid"] for row in rows}, ANSWERED_AT)
    return records


LIVE_AT_RESYNC = [c for c in STALL["calls"] if c["at_resync"]["state"] != "gone"]


@pytest.mark.parametrize("call", LIVE_AT_RESYNC, ids=lambda c: c["call_ref"])
def test_a_call_live_at_the_resync_has_its_true_times(call: dict[str, Any]) -> None:
    """Arrival, join and connect within 1 s of the truth; outcome, wait and talk exact."""
    record, times = taken_over()[call["uniqueid"]], call["times"]
    assert (record.outcome, record.wait_s, record.talk_s or 0) == (
        call["observed_outcome"],
        call["wait_s"],
        call["talk_s"],
    )
    assert abs(record.arrived_at.timestamp() - times["channel_created"]) <= 1
    assert abs(record.segments[0].joined_at.timestamp() - times["queue_join"]) <= 1
    if record.outcome == "answered":
        left = record.segments[-1].left_at
        assert left is not None and abs(left.timestamp() - times["agent_connect"]) <= 1


def test_calls_talking_at_the_resync_are_answered_with_their_connect_time() -> None:
    """m-003, m-005 and m-009 were bridged: their AgentConnect was lost in the gap."""
    talking = [c for c in STALL["calls"] if c["at_resync"]["state"] == "talking"]
    assert [c["call_ref"] for c in talking] == ["m-003", "m-005", "m-009"]
    for call in talking:
        segment = taken_over()[call["uniqueid"]].segments[-1]
        assert segment.outcome == "answered" and segment.left_at is not None


T0 = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


def _event(name: str, second: float, **fields: str) -> dict[str, str]:
    stamp = f"{(T0 + timedelta(seconds=second)).timestamp():.6f}"
    return {"Event": name, "Timestamp": stamp, "Uniqueid": "1.2", "Linkedid": "1.1", **fields}


def test_a_join_missed_is_timed_by_hold_time_not_by_the_first_event_seen() -> None:
    """The first event seen is AgentConnect at 30 s with HoldTime 12: the join was at 18 s."""
    tracker = make_tracker()
    events = [
        _event("AgentConnect", 30, Queue="jobcenter", HoldTime="12", MemberName="Agent"),
        _event("Hangup", 40),
        _event("AgentComplete", 40, Queue="jobcenter", HoldTime="12", TalkTime="10"),
    ]
    (record,) = feed_all(tracker, events)
    assert record.segments[0].joined_at == T0 + timedelta(seconds=18)
    assert record.segments[0].left_at == T0 + timedelta(seconds=30)


def test_queue_entry_times_a_visit_the_resync_found() -> None:
    """A caller in Queue() at the resync: Wait 8 at 100 s puts the join at 92 s."""
    tracker = make_tracker()
    channel = {
        "Event": "CoreShowChannel",
        "Uniqueid": "1.2",
        "Linkedid": "1.1",
        "Context": "inbound",
        "Exten": "70101020",
        "Application": "Queue",
        "ApplicationData": "jobcenter,t,,,600",
        "Duration": "00:00:10",
        "BridgeId": "",
    }
    entry = {"Event": "QueueEntry", "Queue": "jobcenter", "Uniqueid": "1.2", "Wait": "8"}
    at = T0 + timedelta(seconds=100)
    assert tracker.take_over([channel], at) == []
    assert tracker.take_over([entry], at) == []
    (call,) = tracker.in_flight()
    assert call.arrived_at == T0 + timedelta(seconds=90)
    (record,) = tracker.flush_unknown(at)
    assert record.segments[0].joined_at == T0 + timedelta(seconds=92)
