"""The one translation table: AMI events and queue_log lines into the same domain events."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phoneservice.bootstrap import build_call_log
from phoneservice.domain.callbacks.originate import OriginateWatch
from phoneservice.domain.calls.events import (
    Abandoned,
    CallerIdentified,
    ChannelListed,
    Completed,
    Connected,
    DialEnded,
    DialplanEntered,
    HoursDecided,
    HungUp,
    Joined,
    Left,
    ListingEnded,
    OriginateAnswered,
    QueueEntryListed,
    QueueEvent,
    RingUnanswered,
    Rung,
    TimedOut,
)
from phoneservice.pbx.protocol import Framer, parse_banner
from phoneservice.pbx.queue_log import parse_queue_log
from phoneservice.pbx.translate import TABLE, Translator, wanted
from phoneservice.registry import parse_registry
from tests.conftest import LAB_REGISTRY, TODAY
from tests.domain.test_call_tracker import TRACES, recorded_events, truth

ROOT = Path(__file__).resolve().parents[2] / "phoneservice"
STAMP = "1796292153.123456"
AT = datetime.fromtimestamp(float(STAMP), UTC)
CHANNEL = {
    "Uniqueid": "1796292152.257",
    "Linkedid": "1796292152.256",
    "Context": "inbound",
    "Exten": "70101020",
    "CallerIDNum": "+4525460619",
    "CallerIDName": "Birgitte Mølgaard",
    "Timestamp": STAMP,
}


def translate(name: str, hours_variable: str | None = "PHONE_HOURS", **fields: str):
    """One AMI event of the channel above, translated."""
    return Translator(hours_variable)({"Event": name, **CHANNEL, **fields})


@pytest.mark.parametrize(
    ("name", "fields", "expected"),
    [
        ("Newexten", {"Application": "NoOp"}, (DialplanEntered, {"dialing": False})),
        ("Newexten", {"AppData": "(Outgoing Line)"}, (DialplanEntered, {"dialing": True})),
        ("NewCallerid", {}, (CallerIdentified, {})),
        ("QueueCallerJoin", {"Queue": "jobcenter"}, (Joined, {"queue": "jobcenter"})),
        ("AgentCalled", {"Queue": "jobcenter"}, (Rung, {"queue": "jobcenter"})),
        ("AgentRingNoAnswer", {"Queue": "jobcenter"}, (RingUnanswered, {"queue": "jobcenter"})),
        (
            "QueueCallerAbandon",
            {"Queue": "jobcenter", "HoldTime": "10"},
            (Abandoned, {"wait_s": 10}),
        ),
        ("QueueCallerLeave", {"Queue": "jobcenter"}, (Left, {"queue": "jobcenter"})),
        (
            "AgentConnect",
            {"Queue": "jobcenter", "HoldTime": "3", "MemberName": "Anne Sørensen"},
            (Connected, {"wait_s": 3, "agent": "Anne Sørensen"}),
        ),
        (
            "AgentComplete",
            {"Queue": "jobcenter", "HoldTime": "3", "TalkTime": "6", "Interface": "PJSIP/anne"},
            (Completed, {"wait_s": 3, "talk_s": 6, "agent": "PJSIP/anne"}),
        ),
        ("Hangup", {"Cause": "16"}, (HungUp, {})),
        (
            "CoreShowChannel",
            {
                "Duration": "00:01:05",
                "Application": "Queue",
                "ApplicationData": "jobcenter,t,,,600",
            },
            (ChannelListed, {"age_s": 65, "queue": "jobcenter", "bridged": False}),
        ),
        (
            "CoreShowChannel",
            {"Duration": "01:00:00", "Application": "Dial", "BridgeId": "b-1"},
            (ChannelListed, {"age_s": 3600, "queue": "", "bridged": True}),
        ),
        ("QueueEntry", {"Queue": "jobcenter", "Wait": "42"}, (QueueEntryListed, {"wait_s": 42})),
        ("CoreShowChannelsComplete", {}, (ListingEnded, {"of_queues": False})),
        ("QueueStatusComplete", {}, (ListingEnded, {"of_queues": True})),
        (
            "OriginateResponse",
            {"ActionID": "w-1-3", "Response": "Failure", "Reason": "5"},
            (OriginateAnswered, {"action_id": "w-1-3", "success": False, "reason": "5"}),
        ),
        ("DialEnd", {"Channel": "PJSIP/x", "DialStatus": "BUSY"}, (DialEnded, {"outbound": True})),
        ("DialEnd", {"DialStatus": "ANSWER"}, (DialEnded, {"outbound": False})),
        (
            "VarSet",
            {"Variable": "__PHONE_HOURS", "Value": "closed"},
            (HoursDecided, {"value": "closed"}),
        ),
        ("VarSet", {"Variable": "QUEUESTATUS", "Value": "TIMEOUT"}, (TimedOut, {"wait_s": None})),
    ],
)
def test_each_ami_event_the_call_log_needs_has_one_domain_event(name, fields, expected):
    kind, values = expected
    event = translate(name, **fields)
    assert type(event) is kind
    assert event.at == AT
    assert {key: getattr(event, key) for key in values} == values


def test_the_channel_is_read_once_with_its_caller():
    event = translate("Newexten")
    assert (event.channel.uniqueid, event.channel.linkedid) == ("1796292152.257", "1796292152.256")
    assert (event.channel.context, event.channel.exten) == ("inbound", "70101020")
    assert (event.channel.caller_number, event.channel.caller_name) == (
        "+4525460619",
        "Birgitte Mølgaard",
    )


@pytest.mark.parametrize("name", ["<unknown>", "", "Anonymous", "  "])
def test_a_missing_caller_name_is_none(name):
    assert translate("NewCallerid", CallerIDName=name).channel.caller_name is None


def test_a_withheld_presentation_is_marked():
    event = translate("NewCallerid", **{"CID-CallingPres": "32 (Presentation Prohibited)"})
    assert event.channel.withheld


@pytest.mark.parametrize(
    ("variable", "value", "hours_variable"),
    [
        ("PHONE_HOURS", "open", None),  # no hours variable in the registry
        ("OTHER", "open", "PHONE_HOURS"),
        ("QUEUESTATUS", "FULL", "PHONE_HOURS"),
    ],
)
def test_other_variables_tell_a_call_nothing(variable, value, hours_variable):
    assert translate("VarSet", hours_variable, Variable=variable, Value=value) is None


@pytest.mark.parametrize(
    "headers",
    [
        {"Event": "Cdr", "Timestamp": STAMP},
        {"Event": "CEL", "EventName": "HANGUP"},
        {"Event": "DeviceStateChange", "State": "INUSE"},
        {"Event": "UserEvent"},
        {"Response": "Success", "ActionID": "x"},
        {},
    ],
)
def test_events_that_tell_a_call_nothing_translate_to_none(headers):
    assert Translator("PHONE_HOURS")(headers) is None


def test_the_latest_instant_is_kept_even_from_a_dropped_message():
    translate = Translator()
    translate({"Event": "Cdr", "Timestamp": STAMP})
    assert (translate.stamped, translate.last_instant()) == (True, AT)
    translate({"Event": "Cdr"})
    assert (translate.stamped, translate.last_instant()) == (False, AT)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(sorted(TABLE)),
    st.dictionaries(
        st.sampled_from(
            [
                *("Uniqueid", "Timestamp", "HoldTime", "TalkTime", "Duration", "Wait"),
                *("Variable", "Value", "ApplicationData", "CID-CallingPres", "CallerIDName"),
            ]
        ),
        st.one_of(st.text(), st.sampled_from(["nan", "1e400", "-1", "00:00:xx", "²"])),
    ),
)
def test_any_header_values_never_raise(name, headers):
    event = Translator("PHONE_HOURS")({"Event": name, **headers})
    assert event is None or event.channel is not None


@pytest.mark.parametrize(
    "recording",
    sorted(path.name for path in TRACES.glob("*.ami")),
)
def test_every_recorded_message_translates_without_rejection(recording):
    translate = Translator("PHONE_HOURS")
    for headers in recorded_events(recording):
        translate(headers)
    assert translate.rejected == 0


def _queue_trail(events, uniqueid: str) -> list[type]:
    """The queue events of one call, by kind, in order (rings left out: the witnesses
    count them differently)."""
    kinds = (Joined, Abandoned, TimedOut, Connected, Completed)
    return [type(e) for e in events if isinstance(e, kinds) and e.channel.uniqueid == uniqueid]


def test_both_witnesses_speak_the_same_words_for_the_same_call():
    """k-queue-timeout: a timeout, an answered call and an abandon, as each witness tells it."""
    translate = Translator("PHONE_HOURS")
    ami = [translate(h) for h in recorded_events("k-queue-timeout.ami")]
    lines = (TRACES / "k-queue-timeout.queue_log").read_text(encoding="utf-8").splitlines()
    queue_log, bad = parse_queue_log(lines)
    assert bad == 0
    calls = {c["call_ref"]: c["uniqueid"] for c in truth("k-queue-timeout")["calls"]}
    for ref, trail in [
        ("k-001", [Joined, TimedOut]),
        ("k-003", [Joined, Connected, Completed]),
        ("k-004", [Joined, Abandoned]),
    ]:
        assert _queue_trail(queue_log, calls[ref]) == trail
        live = _queue_trail(ami, calls[ref])
        # the live stream reports a timeout as an abandon first, then the timeout itself
        assert [kind for kind in live if kind is not Abandoned or ref == "k-004"] == trail


def test_queue_log_figures_match_the_lines():
    lines = [
        "1796292159|1796292155.263|borgerservice|Anne Sørensen|CONNECT|3|1796292156.268|3",
        "1796292165|1796292155.263|borgerservice|Anne Sørensen|COMPLETEAGENT|3|6|1",
        "1796292170|1.2|jobcenter|Sofie|BLINDTRANSFER|7000|internal|4|21|1",
        "1796292163|1796292152.257|jobcenter|NONE|EXITWITHTIMEOUT|1|1|10",
        "1796292165|1796292158.271|borgerservice|NONE|ABANDON|1|1|5",
        "1796292166|3.4|jobcenter|NONE|EXITWITHKEY|5|1|1|12",
        "1796292167|5.6|jobcenter|NONE|EXITEMPTY|1|1|0",
        "1796292153|1796292152.257|jobcenter|NONE|ENTERQUEUE||+4525460619|1",
    ]
    events, bad = parse_queue_log(lines)
    assert bad == 0
    figures = [
        (type(e).__name__, getattr(e, "wait_s", None), getattr(e, "talk_s", None)) for e in events
    ]
    assert figures == [
        ("Connected", 3, None),
        ("Completed", 3, 6),
        ("Completed", 4, 21),
        ("TimedOut", 10, None),
        ("Abandoned", 5, None),
        ("LeftUnanswered", 12, None),
        ("LeftUnanswered", 0, None),
        ("Joined", None, None),
    ]
    assert events[-1].channel.caller_number == "+4525460619"
    assert all(isinstance(e, QueueEvent) and e.at is not None for e in events)


@pytest.mark.parametrize(
    ("line", "bad"),
    [
        ("1796292153|NONE|jobcenter|Anne|AGENTLOGIN|PJSIP/anne", 0),  # not about a call
        ("1796292153|1.2|jobcenter|Anne|PAUSE|", 0),
        ("garbage", 1),
        ("99999999999999999999|1.2|q|a|ABANDON|1|1|5", 1),  # no PBX clock reads so
        ("", 0),
    ],
)
def test_queue_log_lines_about_no_call_are_skipped_and_unreadable_ones_counted(line, bad):
    assert parse_queue_log([line]) == ([], bad)


def _string_constants(path: Path) -> set[str]:
    """The string literals of a module (docstrings too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    }


def test_ami_header_names_live_only_in_the_pbx_adapter():
    """The tracker, the watch, the call log and the worker read events, not AMI headers.

    The call path is checked (domain, use cases, worker, composition root): pages and
    reports may well say "Timeout" or "Queue" in their own words.
    """
    headers = {
        name
        for name in _string_constants(ROOT / "pbx" / "translate.py")
        if name.isidentifier() and name[0].isupper() and not name.isupper() and name != "Success"
    }
    assert {"Uniqueid", "Linkedid", "HoldTime", "TalkTime", "CallerIDNum"} <= headers
    call_path = [ROOT / "bootstrap.py"]
    for layer in ("domain", "services", "worker"):
        call_path += (ROOT / layer).rglob("*.py")
    outside = {
        str(path.relative_to(ROOT)): sorted(_string_constants(path) & headers) for path in call_path
    }
    assert {path: names for path, names in outside.items() if names} == {}


# ----------------------------------------------------------- dropping unread events


KEEP = wanted("__PHONE_HOURS")
FRAMES = (
    b"Event: Cdr\r\nUniqueid: 1.1\r\nTimestamp: 1.0\r\n\r\n"
    b"Response: Success\r\nActionID: w-1\r\nMessage: Pong\r\n\r\n"
    b"Event: CoreShowChannel\r\nActionID: w-2\r\nUniqueid: 1.1\r\n\r\n"
    b"Event: DBGetResponse\r\nActionID: w-3\r\nVal: BUSY\r\n\r\n"
    b"Event: Hangup\r\nUniqueid: 1.1\r\n\r\n"
    b"Event: CEL\r\nEventName: HANGUP\r\n\r\n"
    b"Event: VarSet\r\nVariable: BRIDGEPEER\r\nValue: PJSIP/x\r\n\r\n"
    b"Event: VarSet\r\nVariable: __PHONE_HOURS\r\nValue: open\r\n\r\n"
    b"Event: VarSet\r\nVariable: QUEUESTATUS\r\nValue: TIMEOUT\r\n\r\n"
)


def test_the_framer_drops_unread_events_but_never_an_answer_or_a_list_item():
    framer = Framer(keep=KEEP)
    kept = [m.get("Event") or m.get("Response") for m in framer.feed(FRAMES)]
    assert kept == ["Success", "CoreShowChannel", "DBGetResponse", "Hangup", "VarSet", "VarSet"]
    assert framer.framed == 9  # the dropped ones were framed: a sign of life
    assert [m.get("Event") for m in Framer().feed(FRAMES)][::5] == ["Cdr", "CEL"]


@pytest.mark.parametrize(
    "recording",
    sorted(
        p.name for p in TRACES.glob("*.ami") if "part" not in p.name and "callback" not in p.name
    ),
)
def test_dropping_unread_events_changes_no_stored_call(recording):
    """Every recording logs the same calls whether the framer drops what no one reads."""

    def logged(keep):
        registry = parse_registry(LAB_REGISTRY, "lab.toml", TODAY)
        stored: list = []
        call_log = build_call_log(registry, "lab", lambda r, _s: stored.extend(r) or len(r))
        _banner, rest = parse_banner((TRACES / recording).read_bytes())
        for headers in Framer(rest, keep=keep).feed_dicts():
            call_log.message(headers)
        call_log.finish(call_log.last_seen or AT)
        call_log.flush(final=True)
        return sorted(stored, key=lambda r: r.uniqueid)

    everything = logged(None)
    assert everything, "the recording logs no call: nothing was compared"
    assert logged(KEEP) == everything


def test_dropping_unread_events_keeps_every_callback_outcome():
    """f-callback: the originate watch decides the four attempts from the kept events alone."""
    plans = truth("f-callback")["callbacks"]
    watch, translate = OriginateWatch(), Translator()
    for plan in plans:
        watch.expect(plan["action_id"])
    _banner, rest = parse_banner((TRACES / "f-callback.ami").read_bytes())
    results = [watch.feed(translate(h)) for h in Framer(rest, keep=KEEP).feed_dicts()]
    decided = {r.action_id: r.outcome for r in results if r is not None}
    assert sorted(decided) == sorted(p["action_id"] for p in plans)
