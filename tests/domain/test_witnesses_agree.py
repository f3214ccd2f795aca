"""One call, two witnesses: AMI and queue_log give every recorded call the same verdict.

For each recording in ``tests/data/ami-traces/`` that has the PBX's queue_log beside it,
the AMI stream goes through the tracker and the queue_log lines through the rebuild, with
a registry that is always open and one that is always closed, so that both of the
classifier's paths are compared. Calls are matched by the inbound ``Uniqueid`` (the
queue_log callid), the key reconciliation uses.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from phoneservice.domain.calls.queuelog import QueueLogCalls
from phoneservice.domain.calls.records import CallRecord
from phoneservice.pbx.queue_log import parse_queue_log
from tests.domain.test_call_tracker import (
    LAB_QUEUES,
    SHORT_ABANDON_S,
    T0,
    TRACES,
    UID,
    arrival,
    by_uniqueid,
    ev,
    feed_all,
    make_tracker,
    recorded_events,
)

REGISTRIES: dict[str, Callable[[str, datetime], bool]] = {
    "always-open": lambda unit, at: True,
    "always-closed": lambda unit, at: False,
}


def ami_recording(scenario: str) -> str:
    """The scenario's uninterrupted AMI recording (the reference one when it was split)."""
    names = [f"{scenario}.ami", f"{scenario}.reference.ami"]
    return next(name for name in names if (TRACES / name).exists())


RECORDINGS = sorted(ami_recording(path.stem) for path in TRACES.glob("*.queue_log"))


def from_ami(recording: str, is_open: Callable[[str, datetime], bool]) -> dict[str, CallRecord]:
    """The calls the tracker logs from the recording, nothing left in flight."""
    tracker = make_tracker(is_open)
    records = by_uniqueid(feed_all(tracker, recorded_events(recording)))
    assert (tracker.in_flight(), tracker.rejected) == ((), 0)
    return records


def from_queue_log(
    scenario: str, is_open: Callable[[str, datetime], bool]
) -> dict[str, CallRecord]:
    """The calls rebuilt from the scenario's queue_log, none still pending."""
    entries, bad = parse_queue_log((TRACES / f"{scenario}.queue_log").read_text().splitlines())
    rebuild = QueueLogCalls(
        pbx="lab",
        unit_for_queue=LAB_QUEUES.get,
        is_open=is_open,
        short_abandon_seconds=SHORT_ABANDON_S,
    )
    records, pending = rebuild.calls(entries)
    assert (bad, pending) == (0, [])
    return by_uniqueid(records)


def verdict(record: CallRecord) -> tuple[str, bool, bool]:
    """What the classifier decided for a call."""
    return (record.outcome, record.during_hours, record.short_abandon)


def test_every_recording_with_a_queue_log_is_compared() -> None:
    """The comparison below runs over the recordings, not over an empty list."""
    assert "a-answered.ami" in RECORDINGS
    assert "g-reconnect.reference.ami" in RECORDINGS


@pytest.mark.parametrize("registry", REGISTRIES)
@pytest.mark.parametrize("recording", RECORDINGS)
def test_ami_and_queue_log_classify_every_call_alike(recording: str, registry: str) -> None:
    """Same outcome, during_hours and short_abandon for each call both witnesses saw."""
    is_open = REGISTRIES[registry]
    ami = from_ami(recording, is_open)
    queue_log = from_queue_log(recording.split(".")[0], is_open)
    assert set(queue_log) <= set(ami)
    # queue_log starts at the queue: the only calls it lacks are the ones that never queued
    assert all(not ami[uid].segments for uid in set(ami) - set(queue_log))
    assert {uid: verdict(ami[uid]) for uid in queue_log} == {
        uid: verdict(record) for uid, record in queue_log.items()
    }


@pytest.mark.parametrize("registry", REGISTRIES)
def test_an_abandon_whose_wait_neither_witness_read_is_not_short(registry: str) -> None:
    """No readable wait: an abandon of unknown length is a full abandon from either witness."""
    is_open = REGISTRIES[registry]
    queue = {"Queue": "borgerservice"}
    stream = [
        *arrival(),
        ev("QueueCallerJoin", 2, **queue),
        ev("QueueCallerAbandon", 4, **queue),  # no HoldTime
        ev("QueueCallerLeave", 4, **queue),
        ev("Hangup", 4),
    ]
    lines = [
        f"{int(T0) + 2}|{UID}|borgerservice|NONE|ENTERQUEUE||+4523119993|1",
        f"{int(T0) + 4}|{UID}|borgerservice|NONE|ABANDON|1|1|",  # no waittime
    ]
    ami = feed_all(make_tracker(is_open), stream)
    rebuild = QueueLogCalls(
        pbx="lab", unit_for_queue=LAB_QUEUES.get, is_open=is_open, short_abandon_seconds=5
    )
    queue_log, _ = rebuild.calls(parse_queue_log(lines)[0])
    assert [(r.uniqueid, r.wait_s) for r in ami + queue_log] == [(UID, None)] * 2
    assert verdict(ami[0]) == verdict(queue_log[0])
    assert ami[0].short_abandon is False
