"""Caller numbers: E.164 through ``phonenumbers`` in the registry's region, the raw value kept.

The l-ivr-and-callerid recording carries a withheld caller, a national ``5xxxxxxx``
number, a ``0045…`` number and a Swedish ``+46…`` mobile, as a real Asterisk 22 sent them.
"""

from __future__ import annotations

from typing import Any

import pytest

from phoneservice.domain.calls.numbers import as_received, caller_number
from phoneservice.domain.calls.queuelog import QueueLogCalls
from phoneservice.pbx.queue_log import parse_queue_log
from phoneservice.pbx.translate import Translator
from tests.domain.test_call_tracker import (
    LAB_DIDS,
    LAB_QUEUES,
    TRACES,
    AmiTracker,
    arrival,
    by_uniqueid,
    ev,
    feed_all,
    lab_is_open,
    make_tracker,
    only,
    recorded_events,
    truth,
)

SCENARIO = "l-ivr-and-callerid"
CALLS = truth(SCENARIO)["calls"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+4523119993", "+4523119993"),
        ("004523119993", "+4523119993"),
        ("23119993", "+4523119993"),
        ("23 11 99 93", "+4523119993"),
        ("4523119993", "+4523119993"),
        ("55193292", "+4555193292"),
        ("004535456134", "+4535456134"),
        ("+46 8-123 456 78", "+46812345678"),
        ("0046812345678", "+46812345678"),
        ("+46707027751", "+46707027751"),
        ("", None),
        (None, None),
        ("<unknown>", None),
        ("anonymous", None),
        ("Anonymous", None),
        ("Restricted", None),
        ("1234", None),
        ("+45abc", None),
        ("+1 800 FLOWERS", None),  # letters are never a number to call back
        ("+1234567890123456", None),
        ("+4523029451", "+4523029451"),  # a range phonenumbers does not list yet
        ("+999123456789", None),  # no such country code
        ("+4512345", None),  # too short for Denmark
    ],
    ids=lambda value: repr(value),
)
def test_caller_numbers_become_e164_or_null(raw: str | None, expected: str | None) -> None:
    assert caller_number(raw) == expected


def test_national_numbers_are_read_in_the_registrys_region() -> None:
    assert caller_number("0707027751", "SE") == "+46707027751"
    assert caller_number("+4555193292", "SE") == "+4555193292"
    assert caller_number("55193292", "SE") == "+4655193292"  # a Swedish landline there
    assert caller_number("55193292", "DK") == "+4555193292"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("anonymous", "anonymous"),
        (" 55193292 ", "55193292"),
        ("004535456134", "004535456134"),
        ("<unknown>", None),
        ("", None),
        (None, None),
    ],
)
def test_the_raw_value_is_kept_as_received_but_asterisks_no_number(
    value: str | None, expected: str | None
) -> None:
    assert as_received(value) == expected


@pytest.mark.parametrize("call", CALLS, ids=[c["call_ref"] for c in CALLS])
def test_the_tracker_logs_every_caller_of_the_recording_as_the_ground_truth(
    call: dict[str, Any],
) -> None:
    records = by_uniqueid(feed_all(make_tracker(), recorded_events(f"{SCENARIO}.ami")))
    record = records[call["uniqueid"]]
    assert (record.caller_number, record.caller_raw) == (
        call["caller_number"],
        call["caller_raw"],
    )
    assert (record.outcome, record.queue) == (call["observed_outcome"], call["queue"])
    assert record.unit == LAB_DIDS[call["did"]]
    assert (record.wait_s, record.talk_s or 0) == (call["wait_s"], call["talk_s"])
    assert abs(record.arrived_at.timestamp() - call["times"]["channel_created"]) <= 1


def test_a_hang_up_in_the_welcome_is_unanswered_by_did_without_an_hours_decision() -> None:
    """l-001: no queue event, no PHONE_HOURS; the unit comes from the DID it dialled."""
    (call,) = [c for c in CALLS if c["call_ref"] == "l-001"]
    records = by_uniqueid(feed_all(make_tracker(), recorded_events(f"{SCENARIO}.ami")))
    record = records[call["uniqueid"]]
    assert (record.outcome, record.unit, record.queue) == ("unanswered", "borgerservice", None)
    assert (record.pbx_hours, call["during_hours"]) == (None, None)  # the PBX never decided
    assert record.segments == ()


def test_a_region_given_to_the_tracker_reads_national_numbers() -> None:
    tracker = make_tracker()
    swedish = AmiTracker(
        Translator("PHONE_HOURS"),
        pbx="lab",
        unit_for_queue=LAB_QUEUES.get,
        unit_for_did=LAB_DIDS.get,
        is_open=lab_is_open,
        inbound_contexts=frozenset({"inbound"}),
        short_abandon_seconds=5,
        caller_region="SE",
    )
    events = recorded_events(f"{SCENARIO}.ami")
    national = next(c for c in CALLS if c["caller_raw"] == "55193292")["uniqueid"]
    assert by_uniqueid(feed_all(tracker, events))[national].caller_number == "+4555193292"
    assert by_uniqueid(feed_all(swedish, events))[national].caller_number == "+4655193292"


def test_queue_log_keeps_the_enterqueue_caller_raw_and_normalises_it_the_same_way() -> None:
    with (TRACES / f"{SCENARIO}.queue_log").open(encoding="utf-8") as lines:
        entries, bad = parse_queue_log(lines)
    rebuild = QueueLogCalls(
        pbx="lab", unit_for_queue=LAB_QUEUES.get, is_open=lab_is_open, short_abandon_seconds=5
    )
    records = by_uniqueid(rebuild.calls(entries)[0])
    queued = [c for c in CALLS if c["queue"] is not None]
    assert bad == 0 and set(records) == {c["uniqueid"] for c in queued}
    for call in queued:
        record = records[call["uniqueid"]]
        assert record.caller_raw == call["caller_raw_queue_log"], call["call_ref"]
        assert record.caller_number == call["caller_number"], call["call_ref"]


def test_a_prohibited_presentation_keeps_neither_number_nor_raw() -> None:
    stream = [
        *arrival(),
        ev("NewCallerid", 1, **{"CID-CallingPres": "32 (Presentation Prohibited)"}),
        ev("Hangup", 9, Cause="16"),
    ]
    record = only(feed_all(make_tracker(), stream))
    assert (record.caller_number, record.caller_raw, record.caller_name) == (None, None, None)
