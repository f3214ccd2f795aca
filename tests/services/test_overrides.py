"""Manual overrides (SPEC §4.4): the service on SQLite and PostgreSQL, the cache, the
worker's view (the call tracker and the unit-state trigger)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from phoneservice.bootstrap import build_tracker
from phoneservice.domain.hours.status import Override, earliest_change
from phoneservice.registry import Registry, UnknownUnitError
from phoneservice.services.audit import AuditService
from phoneservice.services.hours import HoursService
from phoneservice.services.override_cache import OverrideCache
from phoneservice.services.overrides import (
    MAX_REASON,
    OverrideError,
    OverrideNotFound,
    OverrideService,
    Until,
)
from phoneservice.storage.engine import create_engine_for, session_factory
from phoneservice.worker.follower import watch_overrides
from tests.conftest import BORGERSERVICE, Clock, at, registry_from
from tests.domain.test_call_tracker import feed_all

MONDAY_1100 = at("2026-11-23T11:00")  # Borgerservice: Monday 10:00-14:00


@pytest.fixture(scope="module")
def registry() -> Registry:
    return registry_from(BORGERSERVICE, closures=False)


@pytest.fixture
def clock() -> Clock:
    return Clock(MONDAY_1100)


@pytest.fixture
def service(database_url: str, registry: Registry, clock: Clock) -> OverrideService:
    return OverrideService(session_factory(create_engine_for(database_url)), registry, clock)


@pytest.fixture
def hours(service: OverrideService, registry: Registry, clock: Clock) -> HoursService:
    """The hours service reading the stored overrides directly (no cache)."""
    return HoursService(registry, clock, service.in_force)


def state(hours: HoursService):
    """Borgerservice's status now."""
    return hours.status(("borgerservice",))[0].status


def close(service: OverrideService, until: Until, reason: str = "Brandalarm"):
    """Close Borgerservice now, by Ib."""
    return service.create("borgerservice", open=False, reason=reason, until=until, author="ib")


# --- the service ---------------------------------------------------------------------------


def test_closing_for_30_minutes_closes_the_unit_until_then(service, hours, clock):
    record = close(service, Until(minutes=30))
    assert (record.start, record.end) == (MONDAY_1100, at("2026-11-23T11:30"))
    now = state(hours)
    assert not now.open
    assert now.reason == "Brandalarm"
    assert now.next_open == at("2026-11-23T11:30")
    assert now.override is not None and now.override.author == "ib"
    clock.advance(minutes=30)
    after = state(hours)
    assert after.open and after.override is None
    assert after.closes_at == at("2026-11-23T14:00")
    assert service.active() == []  # it ended by itself: nothing ran


def test_until_the_next_change_ends_when_the_unit_would_close(service, hours):
    record = close(service, Until(next_change=True))
    assert record.end == at("2026-11-23T14:00")
    now = state(hours)
    assert not now.open
    assert now.next_open == at("2026-11-24T10:00")


def test_until_a_time_past_the_closing(service, hours):
    record = close(service, Until(at=at("2026-11-23T14:30")))
    assert record.end == at("2026-11-23T14:30")
    assert state(hours).next_open == at("2026-11-24T10:00")


def test_ending_early_reopens_at_once_and_is_kept(service, hours, clock):
    record = close(service, Until(minutes=60))
    clock.advance(minutes=10)
    ended = service.end(record.id, actor="anne")
    assert ended.ended_at == at("2026-11-23T11:10")
    assert ended.effective_end == at("2026-11-23T11:10")
    assert (ended.end, ended.ended_by) == (at("2026-11-23T12:00"), "anne")
    assert state(hours).open
    assert service.active() == []
    assert [r.id for r in service.recent()] == [record.id]
    with pytest.raises(OverrideError) as over:
        service.end(record.id, actor="anne")
    assert over.value.code == "over"


def test_opening_outside_hours(service, hours, clock):
    clock.now = at("2026-11-23T18:00")
    assert not state(hours).open
    record = service.create(
        "borgerservice", open=True, reason="Stormberedskab", until=Until(minutes=90), author="ib"
    )
    now = state(hours)
    assert now.open and now.override is not None
    assert now.closes_at == record.end == at("2026-11-23T19:30")


def test_opening_until_the_next_change_joins_the_next_opening(service, hours, clock):
    clock.now = at("2026-11-23T18:00")
    record = service.create(
        "borgerservice",
        open=True,
        reason="Stormberedskab",
        until=Until(next_change=True),
        author="x",
    )
    assert record.end == at("2026-11-24T10:00")
    assert state(hours).closes_at == at("2026-11-24T14:00")  # adjacent periods merge


@pytest.mark.parametrize(
    ("when", "is_open", "code"),
    [("2026-11-23T18:00", False, "already_closed"), ("2026-11-23T11:00", True, "already_open")],
    ids=["close-a-closed-unit", "open-an-open-unit"],
)
def test_until_the_next_change_must_change_something(service, clock, when, is_open, code):
    clock.now = at(when)
    with pytest.raises(OverrideError) as refused:
        service.create(
            "borgerservice", open=is_open, reason="x", until=Until(next_change=True), author="ib"
        )
    assert refused.value.code == code


@pytest.mark.parametrize(
    ("reason", "until", "code"),
    [
        ("   ", Until(minutes=5), "reason"),
        ("x" * (MAX_REASON + 1), Until(minutes=5), "reason_long"),
        ("Brandalarm", Until(at=at("2026-11-23T10:59")), "past"),
        ("Brandalarm", Until(at=at("2026-11-23T11:00")), "past"),
        ("Brandalarm", Until(at=at("2027-12-01T10:00")), "far"),
    ],
    ids=["blank-reason", "long-reason", "end-in-the-past", "end-now", "end-beyond-a-year"],
)
def test_bad_overrides_are_refused_and_nothing_is_stored(service, reason, until, code):
    with pytest.raises(OverrideError) as refused:
        close(service, until, reason)
    assert refused.value.code == code
    assert service.recent() == []


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"minutes": 5, "next_change": True}, {"minutes": 0}, {"at": datetime(2026, 11, 23, 12)}],
    ids=["none", "two", "zero-minutes", "naive-time"],
)
def test_an_end_is_exactly_one_valid_choice(kwargs):
    with pytest.raises(OverrideError):
        Until(**kwargs)


def test_an_unknown_unit_or_id_is_refused(service):
    with pytest.raises(UnknownUnitError):
        service.create("nope", open=False, reason="x", until=Until(minutes=5), author="ib")
    for missing in (9999, 0, 2**40):
        with pytest.raises(OverrideNotFound):
            service.end(missing, actor="ib")


def test_every_create_and_end_is_audited(service, database_url, clock):
    record = close(service, Until(minutes=30))
    service.end(record.id, actor="anne")
    log = AuditService(session_factory(create_engine_for(database_url)), clock).audit_log()
    assert [(e.action, e.actor, e.subject) for e in log] == [
        ("override.end", "anne", "borgerservice"),
        ("override.create", "ib", "borgerservice"),
    ]
    assert "Brandalarm" in (log[1].detail or "")


def test_recent_lists_the_last_30_days_newest_first(service, clock):
    old = close(service, Until(minutes=5), "Gammel")
    clock.advance(days=31)
    newer = close(service, Until(minutes=5), "Ny")
    assert [r.id for r in service.recent()] == [newer.id]
    assert [r.id for r in service.recent(days=40)] == [newer.id, old.id]


def test_in_force_with_a_lookback_keeps_recently_ended_ones(service, clock):
    close(service, Until(minutes=5))
    clock.advance(minutes=10)
    assert service.in_force() == ()
    assert len(service.in_force(timedelta(hours=2))) == 1


# --- the cache -----------------------------------------------------------------------------

FIRE = Override("borgerservice", MONDAY_1100, at("2026-11-23T11:30"), False, "Brandalarm", "ib")


class Source:
    """An override source that counts its reads and can fail."""

    def __init__(self) -> None:
        self.found: tuple[Override, ...] = ()
        self.reads = 0
        self.broken = False

    def __call__(self) -> tuple[Override, ...]:
        self.reads += 1
        if self.broken:
            raise OSError("database gone")
        return self.found


def test_the_cache_reads_at_most_once_per_ttl_and_at_once_after_a_write():
    source, ticks = Source(), [0.0]
    cache = OverrideCache(source, ttl=2.0, monotonic=lambda: ticks[0])
    assert cache() == () and cache() == ()
    assert source.reads == 1
    source.found = (FIRE,)
    ticks[0] = 1.9
    assert cache() == ()
    ticks[0] = 2.0
    assert cache() == (FIRE,)
    source.found = ()
    cache.invalidate()
    assert cache() == ()
    assert source.reads == 3


def test_a_failing_source_keeps_the_last_overrides(caplog):
    source, ticks = Source(), [0.0]
    source.found = (FIRE,)
    cache = OverrideCache(source, ttl=2.0, monotonic=lambda: ticks[0])
    assert cache() == (FIRE,)
    source.broken = True
    for tick in (5.0, 10.0):
        ticks[0] = tick
        assert cache() == (FIRE,)
    assert caplog.text.count("overrides could not be read") == 1  # once per outage


def test_without_a_ttl_only_refresh_reads_and_says_whether_they_changed():
    source = Source()
    cache = OverrideCache(source, ttl=None)
    assert cache() == () and source.reads == 0
    source.found = (FIRE,)
    assert cache.refresh() is True
    assert cache.refresh() is False
    assert cache() == (FIRE,)


# --- the worker's view ---------------------------------------------------------------------


def call_at(moment: datetime) -> list[dict[str, str]]:
    """A citizen's call to Borgerservice's number at ``moment``, hung up 20 s later."""
    base = {"Uniqueid": "1.1", "Linkedid": "1.1", "Context": "inbound", "Exten": "70101010"}
    base |= {"CallerIDNum": "+4523119993", "CallerIDName": "Mette"}
    t = moment.timestamp()
    return [
        {**base, "Event": "Newexten", "Timestamp": f"{t:.6f}", "Application": "NoOp"},
        {**base, "Event": "Hangup", "Timestamp": f"{t + 20:.6f}", "Cause": "16"},
    ]


@pytest.mark.parametrize(("closed", "during_hours"), [(True, False), (False, True)])
def test_the_tracker_logs_a_call_during_a_closure_as_outside_hours(
    service, registry, clock, closed, during_hours
):
    if closed:
        close(service, Until(minutes=30))
    cache = OverrideCache(lambda: service.in_force(timedelta(hours=2)), ttl=None)
    cache.refresh()  # as the worker's poller does
    tracker = build_tracker(registry, "pbx1", overrides=cache)
    records = feed_all(tracker, call_at(at("2026-11-23T11:10")))
    records += tracker.flush_unknown(at("2026-11-23T11:20"))
    assert [r.during_hours for r in records] == [during_hours]


def test_the_unit_state_trigger_fires_when_an_override_ends_outside_hours(registry):
    """Closed 13:00-16:00: the state changes at 16:00 only in words, but it is a change."""
    late = Override(
        "borgerservice", at("2026-11-23T13:00"), at("2026-11-23T16:00"), False, "x", "ib"
    )
    schedules = {"borgerservice": registry.unit("borgerservice").schedule}
    assert earliest_change(schedules, at("2026-11-23T13:30"), [late]) == at("2026-11-23T16:00")
    assert earliest_change(schedules, at("2026-11-23T12:00"), [late]) == at("2026-11-23T13:00")
    assert earliest_change(schedules, at("2026-11-23T16:00"), [late]) == at("2026-11-24T10:00")


def test_the_worker_polls_the_overrides_and_replans_only_on_a_change():
    """``watch_overrides``: reads off the loop every few seconds, re-plans when they change."""
    answers, replans = [False, True, False], []

    async def run() -> None:
        stop = asyncio.Event()

        def refresh() -> bool:
            changed = answers.pop(0)
            if not answers:
                stop.set()
            return changed

        await watch_overrides(refresh, lambda: replans.append(len(answers)), stop, every=0.01)

    asyncio.run(run())
    assert replans == [1]  # only the second read found a change
    assert answers == []
