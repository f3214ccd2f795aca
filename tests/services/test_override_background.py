"""The PBX listener's override cache: a stale answer is read again behind the caller."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from phoneservice.domain.hours.override import Override
from phoneservice.services.override_cache import OverrideCache

START = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def override(reason: str) -> Override:
    """A closure of one hour."""
    return Override("borgerservice", START, START + timedelta(hours=1), False, reason, "anne")


class SlowSource:
    """A database that answers only when told to, as one busy with reports does."""

    def __init__(self) -> None:
        self.found: tuple[Override, ...] = (override("first"),)
        self.gate = threading.Event()
        self.gate.set()
        self.reads = 0

    def __call__(self) -> tuple[Override, ...]:
        self.reads += 1
        assert self.gate.wait(10)
        return self.found


def test_a_stale_answer_is_given_at_once_and_read_again_behind() -> None:
    source, ticks = SlowSource(), [0.0]
    cache = OverrideCache(source, ttl=2.0, monotonic=lambda: ticks[0], background=True)
    assert cache() == (override("first"),)  # the first load waits: nothing is held yet
    source.gate.clear()
    source.found = (override("second"),)
    ticks[0] = 2.5
    assert cache() == (override("first"),)  # the database is busy: the caller does not wait
    assert cache() == (override("first"),)  # one load under way, not one per request
    source.gate.set()
    for thread in threading.enumerate():
        if thread.name == "override-refresh":
            thread.join(10)
    assert cache() == (override("second"),)
    assert source.reads == 2


def test_without_background_a_stale_answer_waits_for_the_load() -> None:
    source, ticks = SlowSource(), [0.0]
    cache = OverrideCache(source, ttl=2.0, monotonic=lambda: ticks[0])
    assert cache() == (override("first"),)
    source.found = (override("second"),)
    ticks[0] = 2.5
    assert cache() == (override("second"),)
