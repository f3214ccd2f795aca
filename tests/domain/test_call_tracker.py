"""The call tracker, replayed against real Asterisk 22 recordings and small hand-made streams.

Ground truth comes from ``tests/data/ami-traces/<scenario>.expected.json`` (computed from
the PBX's queue_log). Phone hours: the truth's ``during_hours`` is the *PBX's* decision
(``VarSet PHONE_HOURS``), while the tracker's ``during_hours`` is the *registry's*. So the
recordings are checked against two registry stand-ins:

- ``lab_is_open``: the lab's own configuration, ``[globals] HOURS_MODE = open``: every
  unit is always in phone hours. The d scenario overrides this per caller (a forced
  closure and a per-call GotoIfTime window kept in AstDB under the caller's number),
  which no unit registry can know: there ``pbx_hours`` carries the truth and
  ``hours_disagree`` must flag the difference.
- ``schedule_is_open``: the standard municipal windows of the lab dialplan's ``schedule``
  branch. The recordings were made on Sunday 2026-11-22, so this registry says closed for
  every call, and every call that did not reach an agent must be logged ``closed``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phoneservice.domain.calls.events import CallEvent, ChannelListed, QueueEntryListed
from phoneservice.domain.calls.records import OUTCOMES, CallRecord
from phoneservice.domain.calls.tracker import CallTracker
from phoneservice.domain.errors import DomainError, NaiveDatetimeError
from phoneservice.pbx.protocol import parse, parse_banner
from phoneservice.pbx.translate import TABLE, Translator, display_name

TRACES = Path(__file__).resolve().parents[1] / "data" / "ami-traces"
SHORT_ABANDON_S = 5

RECORDINGS = {
    "a-answered": "a-answered.ami",
    "b-abandoned": "b-abandoned.ami",
    "c-ringnoanswer-then-answered": "c-ringnoanswer-then-answered.ami",
    "d-out-of-hours": "d-out-of-hours.ami",
    "e-burst": "e-burst.ami",
    "f-callback": "f-callback.ami",
    "g-reconnect": "g-reconnect.reference.ami",
    "h-all-paused-abandon": "h-all-paused-abandon.ami",
}

LAB_QUEUES = {"borgerservice": "borgerservice", "jobcenter": "jobcenter", "boern-laering": "bl"}
LAB_DIDS = {"70101010": "borgerservice", "70101020": "jobcenter", "70101030": "bl"}
COPENHAGEN = ZoneInfo("Europe/Copenhagen")
# GotoIfTime(08:00-14:59,mon-wed) matches up to 14:59:59: half-open minute windows.
SCHEDULE = {0: (480, 900), 1: (480, 900), 2: (480, 900), 3: (480, 1020), 4: (480, 780)}


def lab_is_open(unit: str, at: datetime) -> bool:
    """The lab's registry: HOURS_MODE = open, every lab unit always in phone hours."""
    return unit in LAB_DIDS.values()


def schedule_is_open(unit: str, at: datetime) -> bool:
    """The lab dialplan's standard windows (mon-wed 08-15, thu 08-17, fri 08-13, CPH)."""
    local = at.astimezone(COPENHAGEN)
    start, end = SCHEDULE.get(local.weekday(), (0, 0))
    return start <= local.hour * 60 + local.minute < end


class AmiTracker(CallTracker):
    """The tracker behind the AMI translation table, as the call log wires the two."""

    def __init__(self, translate: Translator, **settings: Any) -> None:
        super().__init__(**settings)
        self.translate = translate

    def feed(  # type: ignore[override]
        self, event: Mapping[str, str] | CallEvent, at: datetime | None = None
    ) -> list[CallRecord]:
        """One AMI event (or an already translated one)."""
        translated = event if isinstance(event, CallEvent) else self.translate(event)
        return [] if translated is None else super().feed(translated, at)

    def take_over(  # type: ignore[override]
        self, answers: Iterable[Mapping[str, str]], at: datetime
    ) -> list[CallRecord]:
        """A resync's AMI answers (CoreShowChannel, QueueEntry)."""
        events = (self.translate(answer) for answer in answers)
        listed = [e for e in events if isinstance(e, ChannelListed | QueueEntryListed)]
        return super().take_over(listed, at)


def make_tracker(
    is_open: Callable[[str, datetime], bool] = lab_is_open,
    hours_variable: str | None = "PHONE_HOURS",
) -> AmiTracker:
    """A tracker wired to the lab's queues, DIDs and inbound context."""
    return AmiTracker(
        Translator(hours_variable),
        pbx="lab",
        unit_for_queue=LAB_QUEUES.get,
        unit_for_did=LAB_DIDS.get,
        is_open=is_open,
        inbound_contexts=frozenset({"inbound"}),
        short_abandon_seconds=SHORT_ABANDON_S,
    )


# ------------------------------------------------------------------ recordings


@cache
def recorded_events(name: str) -> tuple[dict[str, str], ...]:
    """Every message of a recording as a header dict, read with the real AMI parser."""
    banner, rest = parse_banner((TRACES / name).read_bytes())
    assert banner is not None and banner.startswith("Asterisk Call Manager/")
    messages, tail = parse(rest)
    assert not tail.strip(), "the recording ends inside a message"
    return tuple(message.as_dict() for message in messages)


@cache
def truth(scenario: str) -> dict[str, Any]:
    """The scenario's expected.json."""
    loaded: dict[str, Any] = json.loads((TRACES / f"{scenario}.expected.json").read_text())
    return loaded


def feed_all(tracker: CallTracker, events: Iterable[Mapping[str, str]]) -> list[CallRecord]:
    """Feed AMI events in order (through the lab's translation) and collect every finished call."""
    if isinstance(tracker, AmiTracker):
        return [record for event in events for record in tracker.feed(event)]
    translate = Translator("PHONE_HOURS")
    translated = (translate(event) for event in events)
    return [record for event in translated if event for record in tracker.feed(event)]


def by_uniqueid(records: Iterable[CallRecord]) -> dict[str, CallRecord]:
    """Records keyed by the inbound Uniqueid, checking that none is logged twice."""
    keyed: dict[str, CallRecord] = {}
    for record in records:
        assert record.uniqueid not in keyed, f"{record.uniqueid} logged twice"
        keyed[record.uniqueid] = record
    return keyed


@cache
def replay(scenario: str, is_open: Callable[[str, datetime], bool]) -> dict[str, CallRecord]:
    """The calls one scenario's recording yields, checking nothing is left in flight."""
    tracker = make_tracker(is_open)
    records = by_uniqueid(feed_all(tracker, recorded_events(RECORDINGS[scenario])))
    assert tracker.in_flight() == ()
    assert tracker.rejected == 0
    return records


CASES = [
    pytest.param(scenario, call, id=f"{scenario}/{call['call_ref']}")
    for scenario in RECORDINGS
    for call in truth(scenario)["calls"]
]


@pytest.mark.parametrize(("scenario", "call"), CASES)
def test_identity_and_caller(scenario: str, call: dict[str, Any]) -> None:
    """Uniqueid, linkedid, caller, unit and the arrival instant of every recorded call."""
    record = replay(scenario, lab_is_open)[call["uniqueid"]]
    assert (record.pbx, record.source, record.linkedid) == ("lab", "ami", call["linkedid"])
    assert record.caller_number == call["caller_number"]
    assert record.caller_name == call["caller_name"]
    assert record.unit == LAB_DIDS[call["did"]]
    assert record.arrived_at >= datetime.fromisoformat(truth(scenario)["recorded_from"])
    assert record.arrived_at.tzinfo is UTC
    assert record.arrived_at < record.ended_at
    for segment, expected in zip(record.segments, call["queue_segments"], strict=True):
        # arrival is the inbound context, before the 1 s welcome prompt and the queue join
        assert timedelta(0) < segment.joined_at - record.arrived_at < timedelta(seconds=3)
        assert int(segment.joined_at.timestamp()) == expected["entered"]


@pytest.mark.parametrize(("scenario", "call"), CASES)
def test_outcome_and_queue_figures(scenario: str, call: dict[str, Any]) -> None:
    """Outcome, wait, talk, agent and every queue visit match queue_log's ground truth."""
    record = replay(scenario, lab_is_open)[call["uniqueid"]]
    answered = call["observed_outcome"] == "answered"
    assert record.outcome == call["observed_outcome"]
    assert record.wait_s == call["wait_s"]
    assert record.talk_s == (call["talk_s"] if answered else None)
    assert record.agent == call["agent"]
    assert record.short_abandon == (record.outcome == "abandoned" and call["wait_s"] < 5)
    assert record.queue == (call["queue"] if call["queue_segments"] else None)
    seen = [
        (s.queue, s.outcome, s.wait_s, s.talk_s, s.ring_no_answers, s.agent)
        for s in record.segments
    ]
    expected = [
        (s["queue"], s["outcome"], s["wait_s"], s["talk_s"], s["ring_no_answer"], s["agent"])
        for s in call["queue_segments"]
    ]
    assert seen == expected
    assert record.ring_attempts >= sum(s.ring_no_answers for s in record.segments) + answered


@pytest.mark.parametrize(("scenario", "call"), CASES)
def test_phone_hours_pbx_against_registry(scenario: str, call: dict[str, Any]) -> None:
    """The PBX's decision is recorded as is; the lab registry says open; they may disagree."""
    record = replay(scenario, lab_is_open)[call["uniqueid"]]
    assert record.pbx_hours == ("open" if call["during_hours"] else "closed")
    assert record.during_hours is True
    assert record.hours_disagree is not call["during_hours"]


@pytest.mark.parametrize("scenario", RECORDINGS)
def test_scenario_yields_exactly_its_calls(scenario: str) -> None:
    """No handset, agent leg or callback becomes a call, and every AgentCalled is counted."""
    records = replay(scenario, lab_is_open)
    expected = truth(scenario)
    assert set(records) == {call["uniqueid"] for call in expected["calls"]}
    counts = next(t for t in expected["traces"] if t["file"] == RECORDINGS[scenario])
    agent_called = counts["event_counts"].get("AgentCalled", 0)
    assert sum(record.ring_attempts for record in records.values()) == agent_called


@pytest.mark.parametrize("scenario", [s for s in RECORDINGS if truth(s)["calls"]])
def test_registry_closed_on_sunday_makes_missed_calls_closed(scenario: str) -> None:
    """With the standard windows (closed on a Sunday), only answered calls stay answered."""
    assert schedule_is_open("bl", datetime(2026, 11, 26, 16, 30, tzinfo=COPENHAGEN))
    records = replay(scenario, schedule_is_open)
    for call in truth(scenario)["calls"]:
        record = records[call["uniqueid"]]
        answered = call["observed_outcome"] == "answered"
        assert record.outcome == ("answered" if answered else "closed")
        assert record.during_hours is False
        assert record.hours_disagree is (record.pbx_hours == "open")
        assert record.short_abandon is False


def test_replay_is_deterministic() -> None:
    """Replaying the same stream into a fresh tracker yields the very same records."""
    events = recorded_events(RECORDINGS["e-burst"])
    assert feed_all(make_tracker(), events) == feed_all(make_tracker(), events)


# ------------------------------------------------------------- the reconnect gap

GAP = truth("g-reconnect")
GAP_CALLS = {call["call_ref"]: call for call in GAP["calls"]}
RECONNECTED_AT = datetime.fromtimestamp(GAP["recorder_reconnected_at"], UTC)
DROPPED_AT = GAP["recorder_dropped_at"]


def ended_in_gap(call: dict[str, Any]) -> bool:
    """Whether the call's last queue_log line was written while the recorder was away."""
    return call["queue_log_events"][-1] in call["queue_log_events_during_gap"]


def connected_before_drop(call: dict[str, Any]) -> bool:
    """Whether queue_log saw the agent connect before the recording socket dropped."""
    return any(
        "|CONNECT|" in line and int(line.split("|")[0]) < DROPPED_AT
        for line in call["queue_log_events"]
    )


@cache
def replay_with_gap() -> dict[str, CallRecord]:
    """part1, the gap, then part2 with the resync (CoreShowChannels) reconciled in flight."""
    tracker = make_tracker()
    records = feed_all(tracker, recorded_events("g-reconnect.part1.ami"))
    live: set[str] = set()
    for event in recorded_events("g-reconnect.part2.ami"):
        records += tracker.feed(event)
        if event.get("Event") == "CoreShowChannel":
            live.add(event["Uniqueid"])
        elif event.get("Event") == "CoreShowChannelsComplete":
            records += tracker.vanished(live, RECONNECTED_AT)
    assert tracker.in_flight() == ()
    return by_uniqueid(records)


def test_gap_loses_no_call_seen_on_either_side() -> None:
    """Every call seen in part1 or part2 is logged once; g-008 lived inside the gap."""
    records = replay_with_gap()
    parts = {"g-reconnect.part1.ami", "g-reconnect.part2.ami"}
    assert set(records) == {c["uniqueid"] for c in GAP["calls"] if parts & set(c["seen_in"])}
    assert GAP_CALLS["g-008"]["uniqueid"] not in records


@pytest.mark.parametrize(
    "call", [c for c in GAP["calls"] if c["call_ref"] != "g-008"], ids=lambda c: c["call_ref"]
)
def test_gap_outcome_per_call(call: dict[str, Any]) -> None:
    """Ends seen after the resync are exact; ends lost in the gap keep only what was seen."""
    record = replay_with_gap()[call["uniqueid"]]
    if not ended_in_gap(call):
        assert (record.outcome, record.wait_s) == (call["observed_outcome"], call["wait_s"])
        assert record.agent == call["agent"]
        assert record.talk_s == (call["talk_s"] if record.outcome == "answered" else None)
    elif connected_before_drop(call):  # an agent connected: answered, talk time unknown
        assert (record.outcome, record.talk_s, record.ended_at) == (
            "answered",
            None,
            RECONNECTED_AT,
        )
    else:  # the caller was still queued when the socket dropped
        assert (record.outcome, record.wait_s, record.ended_at) == ("unknown", None, RECONNECTED_AT)
    observed = sum(s.ring_no_answers for s in record.segments)
    assert observed <= sum(s["ring_no_answer"] for s in call["queue_segments"])


def test_flush_after_a_drop_logs_every_call_in_flight() -> None:
    """Without a resync, flushing ends every call: connected ones answered, the rest unknown."""
    tracker = make_tracker()
    assert feed_all(tracker, recorded_events("g-reconnect.part1.ami")) == []
    flushed = by_uniqueid(tracker.flush_unknown(RECONNECTED_AT))
    assert tracker.in_flight() == ()
    in_part1 = [c for c in GAP["calls"] if "g-reconnect.part1.ami" in c["seen_in"]]
    assert set(flushed) == {c["uniqueid"] for c in in_part1}
    for call in in_part1:
        expected = "answered" if connected_before_drop(call) else "unknown"
        assert flushed[call["uniqueid"]].outcome == expected


# ------------------------------------------------------------ hand-made streams

T0 = 1_795_336_650.0
UID, LINKED = "1795336650.1", "1795336650.0"
CALLER = {"CallerIDNum": "+4523119993", "CallerIDName": "Mette Østergaard"}


def ev(name: str, t: float | None, **fields: str) -> dict[str, str]:
    """One event of the inbound channel (override any header with ``fields``)."""
    event = {"Event": name, "Uniqueid": UID, "Linkedid": LINKED, "Context": "inbound"}
    event |= {"Exten": "70101010", **CALLER, **fields}
    if t is not None:
        event["Timestamp"] = f"{T0 + t:.6f}"
    return event


def at(t: float) -> datetime:
    """The instant ``t`` seconds after T0."""
    return datetime.fromtimestamp(T0 + t, UTC)


def arrival(hours: str = "open", **fields: str) -> list[dict[str, str]]:
    """The call enters the inbound context and the dialplan decides its phone hours."""
    return [
        ev("Newexten", 0, Application="NoOp", AppData="Inbound call", **fields),
        ev("VarSet", 1, Variable="PHONE_HOURS", Value=hours),
    ]


def queue_visit(queue: str, t: float, outcome: str, hold: int = 4) -> list[dict[str, str]]:
    """Join, one ring, then answered (talk 5 s), abandoned, or the queue giving up."""
    agent = {"Queue": queue, "MemberName": "Anne Sørensen", "Interface": "Local/agent1@agents"}
    join = [ev("QueueCallerJoin", t, Queue=queue), ev("AgentCalled", t, **agent)]
    end = t + hold
    tails = {
        "answered": [
            ev("QueueCallerLeave", end, Queue=queue),
            ev("AgentConnect", end, HoldTime=str(hold), RingTime="2", **agent),
            ev(
                "AgentComplete",
                end + 5,
                HoldTime=str(hold),
                TalkTime="5",
                Reason="transfer",
                **agent,
            ),
        ],
        "abandoned": [
            ev("QueueCallerAbandon", end, Queue=queue, HoldTime=str(hold)),
            ev("QueueCallerLeave", end, Queue=queue),
        ],
        "timeout": [
            ev("AgentRingNoAnswer", end - 1, RingTime="8000", **agent),
            ev("QueueCallerLeave", end, Queue=queue),
            ev("VarSet", end, Variable="QUEUESTATUS", Value="TIMEOUT"),
        ],
    }
    return join + tails[outcome]


def only(records: list[CallRecord]) -> CallRecord:
    """The one record a stream produced."""
    assert len(records) == 1, records
    return records[0]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("<unknown>", None), ("", None), (None, None), (" Mette Kjær ", "Mette Kjær")],
)
def test_display_name(raw: str | None, expected: str | None) -> None:
    """Asterisk's ``<unknown>`` is no name."""
    assert display_name(raw) == expected


@pytest.mark.parametrize(
    "stream",
    [
        pytest.param([*arrival(CallerIDNum="<unknown>", CallerIDName="<unknown>")], id="unknown"),
        pytest.param([*arrival(CallerIDNum="anonymous", CallerIDName="")], id="anonymous"),
        pytest.param(
            [
                *arrival(),
                ev("NewCallerid", 1, **{"CID-CallingPres": "32 (Presentation Prohibited)"}),
            ],
            id="presentation-prohibited",
        ),
    ],
)
def test_withheld_number_is_null(stream: list[dict[str, str]]) -> None:
    """A withheld caller has neither number nor name (and gets no callback)."""
    record = only(feed_all(make_tracker(), [*stream, ev("Hangup", 9, Cause="16")]))
    assert (record.caller_number, record.caller_name) == (None, None)


def test_event_without_timestamp_uses_the_last_one_seen() -> None:
    """List items and some events carry no Timestamp: the stream's last instant is used."""
    record = only(feed_all(make_tracker(), [*arrival(), ev("Hangup", None, Cause="16")]))
    assert record.ended_at == at(1)


def test_without_any_timestamp_the_receive_time_is_used() -> None:
    """A PBX with timestampevents off: the adapter's receive instant stands in."""
    tracker = make_tracker()
    stream = [ev("Newexten", None, Application="NoOp"), ev("Hangup", None)]
    assert tracker.feed(stream[0]) == []
    assert tracker.in_flight() == ()  # no instant at all: nothing to start a call with
    assert tracker.feed(stream[0], at=at(0)) == []
    record = only(tracker.feed(stream[1], at=at(3)))
    assert (record.arrived_at, record.ended_at) == (at(0), at(3))
    with pytest.raises(NaiveDatetimeError):
        tracker.feed(stream[0], at=datetime(2026, 11, 22, 9, 0))


@pytest.mark.parametrize(
    "event",
    [
        {"Event": "UserEvent", "Timestamp": "1"},
        {"Response": "Success", "ActionID": "rec-1"},
        {},
        {"Event": "Cdr", "UniqueID": UID, "Disposition": "NO ANSWER", "Timestamp": "1"},
        {"Event": "OriginateResponse", "ActionID": "lab-x", "Uniqueid": UID, "Timestamp": "1"},
    ],
    ids=["unknown-event", "response", "empty", "cdr", "foreign-originate"],
)
def test_events_that_are_not_outcomes_are_ignored(event: dict[str, str]) -> None:
    """Unknown events, responses, Cdr and other clients' originates change nothing."""
    tracker = make_tracker()
    assert tracker.feed(event) == []
    assert (tracker.in_flight(), tracker.rejected) == ((), 0)


@pytest.mark.parametrize(
    "event",
    [
        ev("QueueCallerAbandon", 3, HoldTime="abc", Queue="borgerservice"),
        ev("AgentConnect", 3, HoldTime="-1", MemberName=""),
        ev("Hangup", None, Timestamp="nan"),
        ev("Hangup", None, Timestamp="inf"),
        ev("Hangup", None, Timestamp="1e400"),
        ev("CoreShowChannel", None, Duration="xx:yy"),
        {"Event": "QueueCallerJoin", "Timestamp": "1"},
        {"Event": "Hangup", "Uniqueid": ""},
        {"Event": "Newexten", "Context": "inbound", "Timestamp": "1"},
    ],
)
def test_malformed_event_never_raises(event: dict[str, str]) -> None:
    """Bad numbers, bad timestamps and missing ids are skipped or read leniently."""
    tracker = make_tracker()
    records = feed_all(tracker, [*arrival(), event, ev("Hangup", 20)])
    records += tracker.flush_unknown(at(100))
    assert [record.uniqueid for record in records] == [UID]


HEADERS = [
    "Uniqueid",
    "Linkedid",
    "Context",
    "Exten",
    "Queue",
    "HoldTime",
    "TalkTime",
    "Timestamp",
    "Variable",
    "Value",
    "Duration",
    "CallerIDNum",
    "Application",
]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {"Event": st.sampled_from([*TABLE, "Bogus"])},
            optional={
                header: st.one_of(st.sampled_from([UID, "inbound", "1", "", "x"]), st.text())
                for header in HEADERS
            },
        ),
        max_size=30,
    )
)
def test_any_stream_never_raises(events: list[dict[str, str]]) -> None:
    """Whatever the stream holds, the tracker keeps going and flushing leaves nothing."""
    tracker = make_tracker()
    records = feed_all(tracker, events) + tracker.flush_unknown(at(100))
    assert all(record.outcome in OUTCOMES for record in records)
    assert tracker.in_flight() == ()


def test_queue_giving_up_is_a_timeout_not_an_abandon() -> None:
    """Leave without connect or abandon, then the dialplan goes on: EXITWITHTIMEOUT."""
    stream = [*arrival(), *queue_visit("borgerservice", 2, "timeout", hold=30), ev("Hangup", 35)]
    record = only(feed_all(make_tracker(), stream))
    assert (record.outcome, record.wait_s, record.short_abandon) == ("timeout", 30, False)
    assert (record.ring_attempts, record.segments[0].ring_no_answers) == (1, 1)


def test_abandon_then_queuestatus_timeout_is_a_timeout() -> None:
    """Asterisk 22 reports a queue's max wait as an abandon; QUEUESTATUS=TIMEOUT corrects it."""
    stream = [
        *arrival(),
        *queue_visit("jobcenter", 2, "abandoned", hold=10),
        ev("VarSet", 12, Variable="QUEUESTATUS", Value="TIMEOUT"),
        ev("Hangup", 14, Cause="16"),
    ]
    record = only(feed_all(make_tracker(), stream))
    assert (record.outcome, record.wait_s, record.short_abandon) == ("timeout", 10, False)
    assert record.segments[0].outcome == "timeout"


def test_hangup_in_the_menu_during_hours_is_unanswered() -> None:
    """Reached a unit (by DID) but left without agent and without queue."""
    record = only(feed_all(make_tracker(), [*arrival(), ev("Hangup", 5)]))
    assert (record.outcome, record.unit, record.queue, record.wait_s) == (
        "unanswered",
        "borgerservice",
        None,
        None,
    )


def test_unknown_did_has_no_unit_and_no_hours() -> None:
    """A DID the registry does not know: no unit, not during hours, nothing to disagree on."""
    stream = [*arrival(Exten="99999999"), ev("Hangup", 5, Exten="99999999")]
    record = only(feed_all(make_tracker(), stream))
    assert (record.unit, record.during_hours, record.hours_disagree) == (None, False, False)
    assert record.outcome == "unanswered"


def test_registry_closed_while_pbx_queued_is_closed_and_disagrees() -> None:
    """A misconfigured GotoIfTime: the PBX queued a caller while the registry says closed."""
    tracker = make_tracker(is_open=lambda unit, at: False)
    stream = [*arrival(), *queue_visit("borgerservice", 2, "abandoned", hold=3), ev("Hangup", 6)]
    record = only(feed_all(tracker, stream))
    assert (record.outcome, record.during_hours, record.hours_disagree) == ("closed", False, True)
    assert record.segments[0].outcome == "abandoned"
    assert record.short_abandon is False


def test_without_hours_variable_nothing_is_compared() -> None:
    """No ``pbx.hours_variable``: pbx_hours stays null and never disagrees."""
    stream = [*arrival("closed"), ev("Hangup", 4)]
    record = only(feed_all(make_tracker(hours_variable=None), stream))
    assert (record.pbx_hours, record.hours_disagree, record.outcome) == (None, False, "unanswered")


def test_transfer_is_one_call_with_a_segment_per_queue() -> None:
    """Answered in one queue, transferred, abandoned in the next: unit of the first visit."""
    stream = [
        *arrival(),
        *queue_visit("borgerservice", 2, "answered", hold=2),
        *queue_visit("jobcenter", 12, "abandoned", hold=7),
        ev("Hangup", 20),
    ]
    record = only(feed_all(make_tracker(), stream))
    assert [(s.queue, s.unit, s.outcome) for s in record.segments] == [
        ("borgerservice", "borgerservice", "answered"),
        ("jobcenter", "jobcenter", "abandoned"),
    ]
    assert (record.outcome, record.unit, record.queue) == (
        "abandoned",
        "borgerservice",
        "borgerservice",
    )
    assert (record.wait_s, record.talk_s, record.ring_attempts) == (9, 5, 2)
    assert record.agent == "Anne Sørensen"


def answered_until_hangup() -> list[dict[str, str]]:
    """An answered call whose AgentComplete has not come when the caller hangs up."""
    return [*arrival(), *queue_visit("borgerservice", 2, "answered")[:-1], ev("Hangup", 9)]


def test_agent_complete_after_the_hangup_still_gives_talk_time() -> None:
    """The record waits for AgentComplete; it ends at the hangup all the same."""
    tracker = make_tracker()
    assert feed_all(tracker, answered_until_hangup()) == []
    late = ev("AgentComplete", 9.2, Queue="borgerservice", HoldTime="4", TalkTime="3")
    record = only(tracker.feed(late))
    assert (record.outcome, record.talk_s, record.ended_at) == ("answered", 3, at(9))


def test_agent_complete_that_never_comes_does_not_hold_the_call_forever() -> None:
    """After the grace period the call is emitted without talk time."""
    tracker = make_tracker()
    assert feed_all(tracker, answered_until_hangup()) == []
    record = only(tracker.feed({"Event": "Newexten", "Timestamp": f"{T0 + 30}"}))
    assert (record.outcome, record.talk_s, record.ended_at) == ("answered", None, at(9))
    assert tracker.feed(ev("AgentComplete", 31, Queue="borgerservice", TalkTime="3")) == []
    assert tracker.in_flight() == ()  # the late event did not revive the call


def test_handset_and_agent_legs_are_not_calls() -> None:
    """The ;1 half dialing into the inbound context, and agent legs, start nothing."""
    handset = ev("Newexten", 0, Uniqueid=LINKED, Application="AppDial2", AppData="(Outgoing Line)")
    agent = ev("Newexten", 1, Uniqueid="9.9", Context="agents", Application="NoOp")
    tracker = make_tracker()
    assert feed_all(tracker, [handset, agent, ev("Hangup", 2, Uniqueid=LINKED)]) == []
    assert tracker.in_flight() == ()


def test_queue_on_another_channel_of_the_call_joins_the_call_by_linkedid() -> None:
    """The inbound leg dials a Local channel that runs Queue(): still one call, by Linkedid."""
    local = {"Uniqueid": "7.7", "Linkedid": UID, "Context": "queues"}
    stream = [
        *arrival(Linkedid=UID),
        ev("QueueCallerJoin", 2, Queue="jobcenter", **local),
        ev("QueueCallerAbandon", 5, Queue="jobcenter", HoldTime="3", **local),
        ev("Hangup", 5, **local),
    ]
    tracker = make_tracker()
    assert feed_all(tracker, stream) == []
    record = only(tracker.feed(ev("Hangup", 6, Linkedid=UID)))
    assert (record.uniqueid, record.outcome, record.unit, record.wait_s) == (
        UID,
        "abandoned",
        "jobcenter",
        3,
    )
    assert record.short_abandon is True


def test_attended_transfer_to_another_queue_stays_one_call() -> None:
    """The agent's consult channel queues the citizen in a second queue: same Linkedid."""
    consult = {"Uniqueid": "8.8", "Context": "internal", "Exten": "7000"}
    stream = [
        *arrival(),
        *queue_visit("borgerservice", 2, "answered", hold=2)[:-1],
        *[event | consult for event in queue_visit("jobcenter", 10, "timeout", hold=20)],
        ev("AgentComplete", 12, Queue="borgerservice", TalkTime="8", MemberName="Anne Sørensen"),
        ev("Hangup", 30, **consult),
        ev("Hangup", 31),
    ]
    record = only(feed_all(make_tracker(), stream))
    assert [(s.queue, s.outcome, s.wait_s, s.talk_s) for s in record.segments] == [
        ("borgerservice", "answered", 2, 8),
        ("jobcenter", "timeout", 20, None),
    ]
    assert (record.uniqueid, record.outcome, record.unit) == (UID, "timeout", "borgerservice")


def test_resync_adopts_a_live_inbound_channel_and_finishes_the_vanished() -> None:
    """CoreShowChannel adopts a call begun unseen; vanished() ends the ones that are gone."""
    tracker = make_tracker()
    feed_all(tracker, arrival())
    listed = ev("CoreShowChannel", None, Uniqueid="2.2", Linkedid="2.1", Duration="00:00:06")
    tracker.feed(listed | {"Application": "Queue", "ApplicationData": "jobcenter,t,,,600"})
    assert [(c.uniqueid, c.arrived_at) for c in tracker.in_flight()] == [
        ("2.2", at(-5)),
        (UID, at(0)),
    ]
    gone = only(tracker.vanished({"2.2"}, at(10)))
    assert (gone.uniqueid, gone.outcome, gone.ended_at) == (UID, "unknown", at(10))
    assert [c.uniqueid for c in tracker.in_flight()] == ["2.2"]


def test_flush_rejects_a_naive_instant() -> None:
    """Time is an argument, and an instant needs a zone."""
    with pytest.raises(NaiveDatetimeError):
        make_tracker().flush_unknown(datetime(2026, 11, 22, 9, 0))


def test_constructor_names_every_bad_setting() -> None:
    """Bad settings are refused at once, all of them in one message."""
    with pytest.raises(DomainError) as caught:
        CallTracker(
            pbx=" ",
            unit_for_queue=LAB_QUEUES.get,
            unit_for_did=LAB_DIDS.get,
            is_open=lab_is_open,
            inbound_contexts=frozenset(),
            short_abandon_seconds=-1,
        )
    message = str(caught.value)
    assert all(name in message for name in ("pbx", "inbound_contexts", "short_abandon_seconds"))
