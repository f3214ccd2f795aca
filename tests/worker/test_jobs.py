"""The scheduler: the next-change trigger (named DST cases), the job functions, and the
jobs persisted in the application database (one contract over SQLite and PostgreSQL)."""

from __future__ import annotations

import logging
import pickle
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from phoneservice.domain.errors import DomainError
from phoneservice.domain.hours.status import Override, earliest_change, next_change, status
from phoneservice.storage.engine import create_engine_for
from phoneservice.worker.jobs import tasks as task_functions
from phoneservice.worker.jobs.scheduler import (
    JOB_TABLE,
    OVERDUE,
    PURGE,
    RECONCILE,
    UNIT_STATE,
    VOLATILE,
    JobScheduler,
    build_scheduler,
)
from phoneservice.worker.jobs.tasks import MARK_OVERDUE, Tasks
from phoneservice.worker.jobs.tasks import PURGE as PURGE_TASK
from phoneservice.worker.jobs.tasks import RECONCILE as RECONCILE_TASK
from phoneservice.worker.jobs.triggers import RECHECK, FirstPassCronTrigger, NextChangeTrigger
from tests.conftest import BORGERSERVICE, TZ, at, registry_from

WAIT = 20.0  # seconds: an upper bound for "the job ran", never a timing assertion

NIGHT_OWL = """
[[unit]]
id = "night-owl"
name = "Natlinje 02-03"
kind = "authority"
phone = "1"
calendar = "none"
hours = { daily = ["02:00-03:00"] }
"""

ROUND_THE_CLOCK = """
[[unit]]
id = "round-the-clock"
name = "Døgnåben"
kind = "authority"
phone = "2"
calendar = "none"
hours = { daily = ["00:00-24:00"] }
"""

EARLY_BIRD = """
[[unit]]
id = "early-bird"
name = "Natlinje 01-02:45"
kind = "authority"
phone = "3"
calendar = "none"
hours = { daily = ["01:00-02:45"] }
"""

REGISTRY = registry_from(BORGERSERVICE + NIGHT_OWL + ROUND_THE_CLOCK + EARLY_BIRD)
FIRE_ALARM = Override(
    "borgerservice", at("2026-11-23T11:00"), at("2026-11-23T12:30"), False, "Brandalarm", "ib"
)
# Opens Borgerservice through the repeated hour: it ends at 02:15 of the second pass.
NIGHT_SHIFT = Override(
    "borgerservice",
    at("2026-10-25T01:00+02:00"),
    at("2026-10-25T02:15+01:00"),
    True,
    "Stormberedskab",
    "ib",
)


def utc(moment: datetime) -> datetime:
    """The same instant in UTC: equality across zones is unreliable in a repeated hour."""
    return moment.astimezone(UTC)


def schedules(*ids: str) -> dict:
    """The schedules of some units of the test registry."""
    return {unit_id: REGISTRY.unit(unit_id).schedule for unit_id in ids}


# name, units, previous fire, now, overrides, expected fire
TRIGGER_CASES = [
    (
        "dst-spring-night-owl-gap-skipped",
        ("night-owl",),
        None,
        "2026-03-29T01:30+01:00",
        (),
        "2026-03-30T02:00+02:00",
    ),
    (
        "dst-spring-night-owl-day-before",
        ("night-owl",),
        None,
        "2026-03-28T02:30+01:00",
        (),
        "2026-03-28T03:00+01:00",
    ),
    (
        "dst-fall-night-owl-opens-first-pass",
        ("night-owl",),
        None,
        "2026-10-25T01:30+02:00",
        (),
        "2026-10-25T02:00+02:00",
    ),
    (
        "dst-fall-night-owl-fired-at-opening",
        ("night-owl",),
        "2026-10-25T02:00+02:00",
        "2026-10-25T02:00:00.2+02:00",
        (),
        "2026-10-25T03:00+01:00",
    ),
    (
        "dst-fall-night-owl-second-pass-still-open",
        ("night-owl",),
        None,
        "2026-10-25T02:30+01:00",
        (),
        "2026-10-25T03:00+01:00",
    ),
    (
        "dst-fall-two-units-ordered-as-instants",
        ("borgerservice", "early-bird"),
        None,
        "2026-10-25T02:00+02:00",
        (NIGHT_SHIFT,),
        "2026-10-25T02:45+02:00",
    ),
    (
        "dst-fall-override-ends-in-second-pass",
        ("borgerservice", "early-bird"),
        "2026-10-25T02:45+02:00",
        "2026-10-25T02:45:00.1+02:00",
        (NIGHT_SHIFT,),
        "2026-10-25T02:15+01:00",
    ),
    (
        "christmas-last-closing-of-the-year",
        ("borgerservice",),
        None,
        "2026-12-23T11:00",
        (),
        "2026-12-23T14:00+01:00",
    ),
    (
        "christmas-next-opening-after-new-year",
        ("borgerservice",),
        "2026-12-23T14:00",
        "2026-12-23T14:00:01",
        (),
        "2027-01-04T10:00+01:00",
    ),
    (
        "earliest-of-two-units",
        ("borgerservice", "night-owl"),
        None,
        "2026-11-23T15:00",
        (),
        "2026-11-24T02:00+01:00",
    ),
    (
        "late-fire-asks-from-now",
        ("borgerservice",),
        "2026-11-23T10:00",
        "2026-11-23T12:00",
        (),
        "2026-11-23T14:00+01:00",
    ),
    (
        "override-end-is-a-change",
        ("borgerservice",),
        None,
        "2026-11-23T11:30",
        (FIRE_ALARM,),
        "2026-11-23T12:30+01:00",
    ),
    (
        "override-of-another-unit-ignored",
        ("night-owl",),
        None,
        "2026-11-23T11:30",
        (FIRE_ALARM,),
        "2026-11-24T02:00+01:00",
    ),
    (
        "utc-now-answers-in-local-time",
        ("borgerservice",),
        None,
        "2026-06-30T06:00+00:00",
        (),
        "2026-06-30T10:00+02:00",
    ),
]


@pytest.mark.parametrize(
    ("units", "previous", "now", "overrides", "expected"),
    [case[1:] for case in TRIGGER_CASES],
    ids=[case[0] for case in TRIGGER_CASES],
)
def test_trigger_fires_at_the_next_change(units, previous, now, overrides, expected):
    trigger = NextChangeTrigger.over(schedules(*units), overrides, TZ)
    since = at(now) if previous is None else max(at(previous), at(now))
    fire = trigger.get_next_fire_time(None if previous is None else at(previous), at(now))
    direct = min(
        (
            next_change(REGISTRY.unit(u).schedule, since, [o for o in overrides if o.unit == u])
            for u in units
        ),
        key=lambda moment: moment.timestamp(),
    )
    assert utc(fire) == utc(at(expected)) == utc(direct)
    assert fire.tzinfo is TZ
    assert fire.isoformat() == at(expected).isoformat()  # the offset, too


def test_trigger_on_a_line_that_never_changes_asks_again_a_day_later():
    trigger = NextChangeTrigger.over(schedules("round-the-clock"), tz=TZ)
    now = at("2026-10-25T02:30+01:00")
    assert next_change(REGISTRY.unit("round-the-clock").schedule, now) is None
    assert utc(trigger.get_next_fire_time(None, now)) == utc(now) + RECHECK


def test_trigger_walk_over_a_year_fires_only_and_exactly_at_changes():
    """From one fire to the next, every fire is a change and no change is skipped."""
    units = schedules("borgerservice", "night-owl")
    trigger = NextChangeTrigger.over(units, tz=TZ)
    previous, now = None, at("2026-01-01T00:00")
    for _ in range(800):
        fire = trigger.get_next_fire_time(previous, now)
        assert fire is not None and utc(fire) > utc(now)
        assert utc(fire) == utc(earliest_change(units, now))
        before = fire - timedelta(microseconds=1)
        flipped = [s for s in units.values() if status(s, before).open != status(s, fire).open]
        assert flipped, f"nothing opens or closes at {fire.isoformat()}"
        previous = now = fire


def test_trigger_rejects_a_naive_now():
    trigger = NextChangeTrigger.over(schedules("borgerservice"), tz=TZ)
    with pytest.raises(DomainError):
        trigger.get_next_fire_time(None, datetime(2026, 11, 23, 12, 0))


def test_trigger_needs_a_unit():
    with pytest.raises(ValueError, match="at least one schedule"):
        NextChangeTrigger.over({}, tz=TZ)


def test_trigger_refuses_to_be_pickled():
    """It holds the live registry; the job store for it is the memory one."""
    with pytest.raises(TypeError, match="memory job store"):
        pickle.dumps(NextChangeTrigger.over(schedules("borgerservice"), tz=TZ))


PURGE_CASES = [
    ("ordinary-night", "2026-11-23T12:00", ["2026-11-24T02:30+01:00", "2026-11-25T02:30+01:00"]),
    # 02:30 does not exist on the spring night: it runs once, an hour later in wall time
    ("dst-spring-night", "2026-03-28T12:00", ["2026-03-29T03:30+02:00", "2026-03-30T02:30+02:00"]),
    # 02:30 happens twice on the fall night: it runs once, at the first pass
    ("dst-fall-night", "2026-10-24T12:00", ["2026-10-25T02:30+02:00", "2026-10-26T02:30+01:00"]),
]


@pytest.mark.parametrize(
    ("now", "expected"), [c[1:] for c in PURGE_CASES], ids=[c[0] for c in PURGE_CASES]
)
def test_nightly_trigger_runs_once_a_night(now, expected):
    trigger = pickle.loads(pickle.dumps(FirstPassCronTrigger(hour=2, minute=30, timezone=TZ)))
    fires, previous, moment = [], None, at(now)
    for _ in expected:
        previous = moment = trigger.get_next_fire_time(previous, moment)
        fires.append(moment)
    assert [f.isoformat() for f in fires] == [at(e).isoformat() for e in expected]


# -- the job functions -----------------------------------------------------------------


class FakeCallbacks:
    """Records what the scheduler asks of the callback service."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, datetime]] = []

    def mark_overdue(self, now: datetime) -> int:
        self.calls.append(("mark_overdue", now))
        return 0

    def purge(self, now: datetime) -> int:
        self.calls.append(("purge", now))
        return 0


NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
def installed() -> Iterator[Tasks]:
    """Tasks with a fixed clock, installed for the job functions; uninstalled after."""
    tasks = Tasks(lambda: NOW)
    task_functions.install(tasks)
    yield tasks
    task_functions._installed.clear()


def test_job_functions_call_the_registered_service_with_the_clock(installed):
    service = FakeCallbacks()
    installed.register_callbacks(service)
    task_functions.mark_overdue()
    task_functions.purge()
    assert service.calls == [("mark_overdue", NOW), ("purge", NOW)]


def test_a_job_with_nothing_registered_logs_once_and_does_not_fail(installed, caplog):
    with caplog.at_level(logging.INFO, logger="phoneservice.worker.jobs.tasks"):
        task_functions.reconcile()
        task_functions.reconcile()
    said = [r for r in caplog.records if RECONCILE_TASK in r.getMessage()]
    assert len(said) == 1 and "nothing is registered" in said[0].getMessage()
    assert installed.run(RECONCILE_TASK) is False


def test_a_failing_action_is_logged_not_raised(installed, caplog):
    def broken(now: datetime) -> None:
        raise RuntimeError("database away")

    installed.register(MARK_OVERDUE, broken)
    with caplog.at_level(logging.ERROR, logger="phoneservice.worker.jobs.tasks"):
        task_functions.mark_overdue()
    assert "job callbacks.mark_overdue failed" in caplog.text


def test_a_job_before_install_is_skipped(caplog):
    task_functions._installed.clear()
    with caplog.at_level(logging.WARNING, logger="phoneservice.worker.jobs.tasks"):
        task_functions.purge()
    assert "before the worker installed" in caplog.text


def test_unknown_task_names_are_refused():
    with pytest.raises(ValueError, match="unknown task"):
        Tasks().register("callbacks.mark_overdeu", print)


# -- the scheduler on both backends ------------------------------------------------------


def stored_ids(url: str) -> list[str]:
    """The ids of the jobs in the job store's table, duplicates included."""
    engine = create_engine_for(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text(f"SELECT id FROM {JOB_TABLE} ORDER BY id"))
            return [row.id for row in rows]
    finally:
        engine.dispose()


def make_due(url: str, job_id: str, when: datetime) -> None:
    """Set a stored job's next run as if it had come while no worker ran."""
    engine = create_engine_for(url)
    try:
        with engine.begin() as connection:
            select = text(f"SELECT job_state FROM {JOB_TABLE} WHERE id = :id")
            state = pickle.loads(connection.execute(select, {"id": job_id}).scalar_one())
            state["next_run_time"] = when
            connection.execute(
                text(f"UPDATE {JOB_TABLE} SET job_state = :s, next_run_time = :t WHERE id = :id"),
                {"s": pickle.dumps(state), "t": when.timestamp(), "id": job_id},
            )
    finally:
        engine.dispose()


def started(url: str, tasks: Tasks) -> JobScheduler:
    """A started scheduler on ``url`` for the test registry."""
    scheduler = build_scheduler(create_engine_for(url), REGISTRY, tasks, lambda: NOW)
    scheduler.start()
    return scheduler


def signal_on(tasks: Tasks, name: str) -> threading.Event:
    """An event set when the action ``name`` runs."""
    ran = threading.Event()
    tasks.register(name, lambda now: ran.set())
    return ran


def test_jobs_are_persisted_with_stable_ids(database_url):
    scheduler = started(database_url, Tasks())
    try:
        jobs = {job.id: job for job in scheduler.scheduler.get_jobs()}
        assert set(jobs) == {OVERDUE, PURGE, RECONCILE, UNIT_STATE}
        assert str(jobs[PURGE].trigger) == "cron[hour='2', minute='30']"
        assert str(jobs[OVERDUE].trigger) == "interval[0:01:00]"
        assert str(jobs[RECONCILE].trigger) == "interval[0:05:00]"
        assert jobs[UNIT_STATE]._jobstore_alias == VOLATILE
        assert jobs[UNIT_STATE].next_run_time is not None
    finally:
        scheduler.shutdown()
    assert stored_ids(database_url) == [OVERDUE, PURGE, RECONCILE]


def test_restarts_replace_jobs_without_duplicates(database_url):
    for _ in range(3):
        started(database_url, Tasks()).shutdown()
    assert stored_ids(database_url) == [OVERDUE, PURGE, RECONCILE]


def test_a_job_runs_in_the_scheduler(database_url):
    tasks = Tasks(lambda: NOW)
    ran = signal_on(tasks, RECONCILE_TASK)
    scheduler = started(database_url, tasks)
    try:
        scheduler.scheduler.modify_job(RECONCILE, next_run_time=datetime.now(TZ))
        assert ran.wait(WAIT), "the reconcile job did not run"
    finally:
        scheduler.shutdown()


def test_a_purge_missed_while_no_worker_ran_happens_at_start(database_url):
    started(database_url, Tasks()).shutdown()
    make_due(database_url, PURGE, datetime.now(TZ) - timedelta(hours=5))
    tasks = Tasks(lambda: NOW)
    ran = signal_on(tasks, PURGE_TASK)
    second = started(database_url, tasks)
    try:
        assert ran.wait(WAIT), "the missed purge did not run at start"
    finally:
        second.shutdown()


def test_wake_unit_state_recomputes_its_next_run(database_url):
    scheduler = started(database_url, Tasks())
    try:
        before = scheduler.scheduler.get_job(UNIT_STATE).next_run_time
        scheduler.wake_unit_state()
        after = scheduler.scheduler.get_job(UNIT_STATE).next_run_time
        assert after is not None and after <= before
    finally:
        scheduler.shutdown()
