"""The hours service is the one answer to "is this unit open at T": a stored override
(closed, 60 min) closes the unit for ``is_open``, ``status`` and ``place_call`` alike, on
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from phoneservice.services.callbacks import CallbackService, UnitClosed
from phoneservice.services.hours import HoursService
from phoneservice.services.overrides import OverrideError, OverrideService, Until
from phoneservice.storage.engine import session_factory
from tests.services.test_callbacks import FRIDAY, Queue, build_queue, lab_registry

DEVICE = "PJSIP/anne"  # anne's own phone, set on her account
NOW = FRIDAY + timedelta(minutes=5)  # the lab's units are open around the clock
HOUR = timedelta(minutes=60)


def _task(queue: Queue) -> int:
    """A callback task for a call to the jobcenter missed on Friday morning (anne has a phone)."""
    queue.phone("anne", DEVICE)
    queue.store(queue.call(FRIDAY))
    (view,) = queue.callbacks.list()
    return view.callback.id


def _wired(queue: Queue, hours: HoursService, wiring: str) -> CallbackService:
    """The callback queue as the composition root builds it, or with its default hours."""
    if wiring == "default":  # asks the overrides stored in its own database
        return queue.callbacks
    sessions = session_factory(queue.engine)
    if wiring == "hours":
        return CallbackService(sessions, queue.callbacks.holder, queue.clock, hours=hours)
    return CallbackService(sessions, queue.callbacks.holder, queue.clock, hours.is_open)


@pytest.mark.parametrize("wiring", ["hours", "is-open", "default"])
def test_a_closing_override_closes_the_unit_for_every_question(database_url, wiring):
    registry = lab_registry()
    for queue in build_queue(database_url, registry, NOW):
        task = _task(queue)
        overrides = OverrideService(session_factory(queue.engine), registry, queue.clock)
        hours = HoursService(registry, queue.clock, overrides.in_force)
        callbacks = _wired(queue, hours, wiring)
        assert hours.is_open("jobcenter", NOW)
        overrides.create(
            "jobcenter", open=False, reason="Brandalarm", until=Until(minutes=60), author="ib"
        )

        assert not hours.is_open("jobcenter", NOW)
        (found,) = hours.status(("jobcenter",))
        state = found.status
        assert (state.open, state.reason, state.next_open) == (False, "Brandalarm", NOW + HOUR)
        assert state.override is not None and state.override.author == "ib"
        assert hours.is_open("borgerservice", NOW)  # only the overridden unit closes
        assert not hours.is_open("no-such-unit", NOW)
        with pytest.raises(UnitClosed, match="closed"):
            callbacks.place_call(task, "anne")
        assert callbacks.get(task).callback.attempts == ()

        queue.clock.now = NOW + HOUR  # the override has ended by itself
        assert hours.is_open("jobcenter", queue.clock.now)
        assert callbacks.place_call(task, "anne").view.callback.claimed_by == "anne"


def test_confirming_places_the_call_while_an_override_closes_the_unit(database_url):
    registry = lab_registry()
    for queue in build_queue(database_url, registry, NOW):
        task = _task(queue)
        overrides = OverrideService(session_factory(queue.engine), registry, queue.clock)
        overrides.create(
            "jobcenter", open=False, reason="Brandalarm", until=Until(minutes=60), author="ib"
        )
        placed = queue.callbacks.place_call(task, "anne", confirm_closed=True)
        (attempt,) = queue.callbacks.get(task).callback.attempts
        assert attempt.channel_id == placed.channel_id


def test_until_the_next_change_counts_the_overrides_in_force(database_url):
    """A unit an override has closed is closed already: the board and this agree."""
    registry = lab_registry()
    for queue in build_queue(database_url, registry, NOW):
        overrides = OverrideService(session_factory(queue.engine), registry, queue.clock)
        overrides.create(
            "jobcenter", open=False, reason="Brandalarm", until=Until(minutes=60), author="ib"
        )
        with pytest.raises(OverrideError, match="closed already") as refused:
            overrides.create(
                "jobcenter", open=False, reason="x", until=Until(next_change=True), author="ib"
            )
        assert refused.value.code == "already_closed"
