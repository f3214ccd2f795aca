"""Callback deadlines end to end: a recorded abandoned call, re-timed to a hard date,
through the real pipeline (tracker, storage, callbacks) to its task's due_at."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from phoneservice.bootstrap import build_call_log
from phoneservice.services.callbacks import CallbackService
from phoneservice.services.calls import CallService
from phoneservice.storage.engine import create_engine_for, session_factory
from tests.conftest import BORGERSERVICE, TZ, registry_from
from tests.domain.test_call_tracker import recorded_events, truth

CASES = [
    ("ascension", "2026-05-13T14:00", "2026-05-18T15:00:00+02:00"),
    ("christmas-week", "2026-12-23T14:00", "2027-01-04T15:00:00+01:00"),
    ("half-day", "2026-06-04T10:00", "2026-06-05T12:00:00+02:00"),
    ("saturday-night", "2026-11-28T22:30", "2026-11-30T15:00:00+01:00"),
    ("sunday-before-midnight", "2026-11-29T23:59", "2026-11-30T15:00:00+01:00"),
]


def retimed(events, arrival: datetime) -> list[dict[str, str]]:
    """The recording's events moved so that its first timestamped event is at ``arrival``."""
    first = next(float(e["Timestamp"]) for e in events if "Timestamp" in e)
    shift = arrival.timestamp() - first
    moved = []
    for event in events:
        copy = dict(event)
        if "Timestamp" in copy:
            copy["Timestamp"] = f"{float(copy['Timestamp']) + shift:.6f}"
        moved.append(copy)
    return moved


@pytest.mark.parametrize(("arrival", "due"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_an_abandoned_call_is_due_by_the_working_day_rule(database_url, arrival, due):
    registry = registry_from(BORGERSERVICE)
    sessions = session_factory(create_engine_for(database_url))
    callbacks = CallbackService(sessions, registry, lambda: datetime.now(UTC))
    service = CallService(sessions, callbacks)
    call_log = build_call_log(registry, "lab", service.store_for("lab"))
    at = datetime.fromisoformat(arrival).replace(tzinfo=TZ)
    for event in retimed(recorded_events("b-abandoned.ami"), at):
        call_log.message(event)
    call_log.finish(at)
    call_log.flush(final=True)
    [task] = callbacks.list()
    assert task.callback.unit == "borgerservice"
    assert task.callback.caller_number == truth("b-abandoned")["calls"][0]["caller_number"]
    assert task.callback.due_at.astimezone(TZ).isoformat() == due
    assert task.callback.missed_calls == 1
