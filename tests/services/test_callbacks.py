"""The callback queue over storage (SPEC §6, §8, §11), on SQLite and PostgreSQL.

Calls reach the queue the way production stores them: through ``CallService.store``
(or ``phoneservice ingest``), in the transaction that inserts them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.exc import IntegrityError

from phoneservice.cli import main
from phoneservice.domain.callbacks import rules as cb
from phoneservice.domain.callbacks.rules import (
    CallbackError,
    ClaimConflict,
    InvalidTransition,
)
from phoneservice.domain.calls.records import CallRecord
from phoneservice.registry import Registry, parse_registry
from phoneservice.services.accounts import AccountService, cheap_hasher
from phoneservice.services.callbacks import CallbackNotFound, CallbackService
from phoneservice.services.calls import CallService
from phoneservice.storage.callback_repository import CallbackRepository
from phoneservice.storage.callbacks import ATTEMPTS, CALLBACKS, CALLS, EVIDENCE
from phoneservice.storage.engine import create_engine_for, session_factory
from phoneservice.storage.personal import ERASED_AT, PERSONAL_COLUMNS
from phoneservice.storage.repositories import SEGMENTS
from tests.conftest import TODAY, TZ, Clock, at
from tests.domain.test_call_tracker import TRACES, truth
from tests.domain.test_callbacks_domain import call as citizen_call
from tests.services.test_ingest import LAB_REGISTRY, lab, run  # noqa: F401 (lab: a fixture)

NUMBER, OTHER = "+4523119993", "+4540404040"
# Friday 2026-11-20 10:00 local: due Monday 2026-11-23 15:00 on Monday-Friday working days.
FRIDAY = at("2026-11-20T10:00")
MONDAY_DUE = at("2026-11-23T15:00")


@dataclass
class Queue:
    """The services of one test, on one database."""

    calls: CallService
    callbacks: CallbackService
    clock: Clock
    engine: Engine
    _next: int = 0

    def store(self, *records: CallRecord) -> int:
        return self.calls.store(list(records))

    def call(self, at_: datetime, outcome: str = "abandoned", **changes: Any) -> CallRecord:
        """A call of ``NUMBER`` to the jobcenter arriving at ``at_``, with a fresh uniqueid."""
        self._next += 1
        uid, ended = f"1790000000.{self._next}", at_ + timedelta(minutes=1)
        record = citizen_call(outcome, uniqueid=uid, linkedid=uid, arrived_at=at_, ended_at=ended)
        return replace(record, **changes)

    def phone(self, username: str, device: str | None) -> None:
        """An agent account ``username`` whose own phone (rung first by its calls) is ``device``."""
        service = AccountService(
            session_factory(self.engine), self.clock, cheap_hasher(), registry=self.callbacks.holder
        )
        service.add_user(username, "a password for tests", "agent", actor="test")
        if device is not None:
            service.set_device(username, device, actor="test")

    def rows(self, table: Any) -> list[dict[str, Any]]:
        with self.engine.connect() as connection:
            query = select(table).order_by(*table.primary_key.columns)
            return [dict(row) for row in connection.execute(query).mappings()]

    def count(self, table: Any) -> int:
        with self.engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(table)).scalar_one()


def lab_registry(callbacks: str = "") -> Registry:
    """The lab registry (three units open around the clock, Monday-Friday working days)."""
    text = LAB_REGISTRY + (f"\n[callbacks]\n{callbacks}\n" if callbacks else "")
    return parse_registry(text, "lab.toml", TODAY)


def build_queue(database_url: str, registry: Registry, now: datetime) -> Iterator[Queue]:
    engine = create_engine_for(database_url)
    sessions = session_factory(engine)
    clock = Clock(now)
    callbacks = CallbackService(sessions, registry, clock)
    yield Queue(CallService(sessions, callbacks), callbacks, clock, engine)
    engine.dispose()


@pytest.fixture
def queue(database_url: str) -> Iterator[Queue]:
    """The lab registry with its default ``[callbacks]`` on an empty database."""
    yield from build_queue(database_url, lab_registry(), FRIDAY + timedelta(minutes=5))


def only(queue: Queue) -> cb.Callback:
    tasks = queue.callbacks.list()
    assert len(tasks) == 1, tasks
    return tasks[0].callback


# ---------------------------------------------------------------- opening and joining


def test_a_missed_call_opens_a_task_due_the_next_working_day(queue):
    queue.store(queue.call(FRIDAY, short_abandon=True))
    task = only(queue)
    assert (task.unit, task.caller_number, task.state) == ("jobcenter", NUMBER, "open")
    assert (task.due_at, task.first_call_at, task.created_at) == (
        MONDAY_DUE,
        FRIDAY,
        queue.clock.now,
    )
    assert (task.missed_calls, task.short_abandons, task.attempts) == (1, 1, ())


def test_a_second_missed_call_joins_and_the_deadline_does_not_move(queue):
    queue.store(queue.call(FRIDAY))
    queue.store(queue.call(at("2026-11-23T09:00")))  # Monday: alone it would be due Tuesday
    task = only(queue)
    assert (task.missed_calls, task.due_at, task.first_call_at) == (2, MONDAY_DUE, FRIDAY)
    assert queue.count(EVIDENCE) == 2


def test_storing_the_same_calls_twice_changes_nothing(queue):
    calls = [queue.call(FRIDAY), queue.call(FRIDAY + timedelta(minutes=1))]
    assert queue.store(*calls) == 2
    before = (queue.rows(CALLBACKS), queue.rows(EVIDENCE))
    assert queue.store(*calls) == 0
    assert (queue.rows(CALLBACKS), queue.rows(EVIDENCE)) == before
    assert only(queue).missed_calls == 2


def test_one_task_per_number_and_unit(queue):
    queue.store(
        queue.call(FRIDAY),
        queue.call(FRIDAY, caller_number=OTHER),
        queue.call(FRIDAY, unit="borgerservice", queue="borgerservice"),
    )
    pairs = {(v.callback.caller_number, v.callback.unit) for v in queue.callbacks.list()}
    assert pairs == {(NUMBER, "jobcenter"), (OTHER, "jobcenter"), (NUMBER, "borgerservice")}


OUTCOMES = [
    ("abandoned", "abandoned", 1),
    ("timeout", "timeout", 1),
    ("unanswered", "unanswered", 1),
    ("unknown", "unknown", 1),
    ("closed", "closed", 1),
    ("answered", "answered", 0),
]


@pytest.mark.parametrize(
    ("outcome", "tasks"), [o[1:] for o in OUTCOMES], ids=[o[0] for o in OUTCOMES]
)
def test_every_missed_outcome_opens_a_task_and_answered_none(queue, outcome, tasks):
    queue.store(queue.call(FRIDAY, outcome))
    assert len(queue.callbacks.list()) == tasks


def test_a_call_without_unit_opens_nothing(queue):
    queue.store(queue.call(FRIDAY, unit=None, queue=None))
    assert queue.callbacks.list() == []


# ---------------------------------------------------------------- the caller reaches us

REACHED = [
    ("answered-later-closes", timedelta(hours=2), "jobcenter", NUMBER, "done"),
    ("answered-earlier-does-not", -timedelta(hours=2), "jobcenter", NUMBER, "open"),
    ("answered-at-other-unit", timedelta(hours=2), "borgerservice", NUMBER, "open"),
    ("answered-from-other-number", timedelta(hours=2), "jobcenter", OTHER, "open"),
]


@pytest.mark.parametrize(
    ("offset", "unit", "number", "state"), [r[1:] for r in REACHED], ids=[r[0] for r in REACHED]
)
def test_an_answered_call_closes_the_open_task_of_its_pair(queue, offset, unit, number, state):
    queue.store(queue.call(FRIDAY))
    answered = queue.call(FRIDAY + offset, "answered", unit=unit, caller_number=number, wait_s=30)
    queue.store(answered)
    task = next(v.callback for v in queue.callbacks.list() if v.callback.caller_number == NUMBER)
    assert task.state == state
    if state == "done":
        assert (task.resolution, task.closed_at, task.closed_by) == (
            "caller_reached_us",
            FRIDAY + offset + timedelta(seconds=30),
            None,
        )
        assert task.on_time() is True


def test_missed_and_answered_in_one_batch_are_taken_in_arrival_order(queue):
    answered = queue.call(FRIDAY + timedelta(hours=1), "answered")
    queue.store(answered, queue.call(FRIDAY))  # the batch lists the later call first
    assert (only(queue).state, only(queue).resolution) == ("done", "caller_reached_us")


def test_a_missed_call_stored_after_the_answer_that_followed_it_opens_done(queue):
    queue.store(queue.call(FRIDAY + timedelta(hours=1), "answered"))
    queue.store(queue.call(FRIDAY))  # reconciled late, from queue_log
    task = only(queue)
    assert (task.state, task.resolution, task.missed_calls) == ("done", "caller_reached_us", 1)


def test_after_a_task_closes_a_new_missed_call_opens_a_new_one(queue):
    queue.store(queue.call(FRIDAY), queue.call(FRIDAY + timedelta(hours=1), "answered"))
    queue.store(queue.call(FRIDAY + timedelta(hours=2)))
    states = sorted(v.callback.state for v in queue.callbacks.list())
    assert states == ["done", "open"]


# ---------------------------------------------------------------- withheld and closed hours


def test_withheld_numbers_open_nothing_and_are_counted(queue):
    queue.store(
        queue.call(FRIDAY, caller_number=None, caller_name=None),
        queue.call(FRIDAY, "closed", caller_number=None, caller_name=None),
        queue.call(FRIDAY, "answered", caller_number=None, caller_name=None),
        queue.call(FRIDAY, caller_number=None, unit="borgerservice", queue="borgerservice"),
    )
    assert queue.callbacks.list() == []
    day = (FRIDAY - timedelta(hours=10), FRIDAY + timedelta(hours=10))
    assert queue.callbacks.unacknowledgeable("jobcenter", *day) == 2
    assert queue.callbacks.unacknowledgeable(None, *day) == 3
    assert queue.callbacks.unacknowledgeable("jobcenter", FRIDAY + timedelta(hours=1), day[1]) == 0


# (id, outside_hours, outcome, tasks, withheld closed calls counted)
OUTSIDE_HOURS = [
    ("callback-closed", "callback", "closed", 1, 1),
    ("log-closed", "log", "closed", 0, 0),
    ("log-abandoned", "log", "abandoned", 1, 1),
    ("callback-abandoned", "callback", "abandoned", 1, 1),
]


@pytest.mark.parametrize(
    ("mode", "outcome", "tasks", "withheld"),
    [o[1:] for o in OUTSIDE_HOURS],
    ids=[o[0] for o in OUTSIDE_HOURS],
)
def test_calls_while_closed_open_tasks_only_with_outside_hours_callback(
    database_url, mode, outcome, tasks, withheld
):
    for queue in build_queue(database_url, lab_registry(f'outside_hours = "{mode}"'), FRIDAY):
        queue.store(queue.call(FRIDAY, outcome), queue.call(FRIDAY, outcome, caller_number=None))
        assert len(queue.callbacks.list()) == tasks
        day = (FRIDAY - timedelta(hours=1), FRIDAY + timedelta(hours=1))
        assert queue.callbacks.unacknowledgeable("jobcenter", *day) == withheld


# ---------------------------------------------------------------- staff actions


@pytest.fixture
def task_id(queue) -> int:
    queue.store(queue.call(FRIDAY))
    return int(only(queue).id)


def test_max_failed_attempts_make_the_task_unreachable(database_url):
    for queue in build_queue(database_url, lab_registry("max_attempts = 2"), FRIDAY):
        queue.store(queue.call(FRIDAY))
        task_id = only(queue).id
        queue.clock.now = FRIDAY + timedelta(hours=1)
        first = queue.callbacks.attempt(task_id, "anne", "no_answer", note="ingen svar")
        assert first.callback.state == "open"
        queue.clock.now = FRIDAY + timedelta(hours=2)
        second = queue.callbacks.attempt(task_id, "anne", "voicemail").callback
        assert (second.state, second.resolution, second.closed_at, second.closed_by) == (
            "unreachable",
            "unreachable",
            FRIDAY + timedelta(hours=2),
            "anne",
        )
        assert [(a.outcome, a.note, a.by) for a in second.attempts] == [
            ("no_answer", "ingen svar", "anne"),
            ("voicemail", None, "anne"),
        ]
        with pytest.raises(InvalidTransition, match="it is unreachable"):
            queue.callbacks.attempt(task_id, "anne", "reached")


def test_a_reached_attempt_closes_as_called_back_on_time(queue, task_id):
    view = queue.callbacks.attempt(task_id, "anne", "reached", channel_id="cb-7-1")
    task = view.callback
    assert (task.state, task.resolution, task.on_time()) == ("done", "called_back", True)
    assert task.attempts[0].channel_id == "cb-7-1"


def test_claim_by_another_user_is_refused_until_released(queue, task_id):
    assert queue.callbacks.claim(task_id, "anne").callback.claimed_by == "anne"
    with pytest.raises(ClaimConflict, match="claimed by anne"):
        queue.callbacks.claim(task_id, "bo")
    with pytest.raises(ClaimConflict, match="claimed by anne"):
        queue.callbacks.attempt(task_id, "bo", "busy")
    assert queue.callbacks.get(task_id).callback.attempts == ()  # nothing was stored
    queue.callbacks.release(task_id, "anne")
    assert queue.callbacks.claim(task_id, "bo").callback.claimed_by == "bo"
    assert queue.callbacks.claim(task_id, "admin", force=True).callback.claimed_by == "admin"


def test_note_and_cancel(queue, task_id):
    assert queue.callbacks.note(task_id, "anne", "ring efter kl. 12").callback.note == (
        "ring efter kl. 12"
    )
    with pytest.raises(CallbackError, match="at most 280"):
        queue.callbacks.note(task_id, "anne", "x" * 281)
    with pytest.raises(CallbackError, match="needs a reason"):
        queue.callbacks.cancel(task_id, "anne", "")
    task = queue.callbacks.cancel(task_id, "anne", "dublet").callback
    assert (task.state, task.resolution, task.cancel_reason, task.closed_by) == (
        "cancelled",
        "cancelled",
        "dublet",
        "anne",
    )


UNKNOWN_ID = [
    ("get", lambda s: s.get(999)),
    ("claim", lambda s: s.claim(999, "anne")),
    ("attempt", lambda s: s.attempt(999, "anne", "busy")),
    ("cancel", lambda s: s.cancel(999, "anne", "x")),
]


@pytest.mark.parametrize("action", [u[1] for u in UNKNOWN_ID], ids=[u[0] for u in UNKNOWN_ID])
def test_an_unknown_callback_is_not_found(queue, action):
    with pytest.raises(CallbackNotFound, match="no callback with id 999"):
        action(queue.callbacks)


# ---------------------------------------------------------------- overdue and the list


def test_overdue_tasks_come_first_and_are_marked_once(queue):
    queue.store(queue.call(FRIDAY))  # due Monday 15:00
    queue.store(queue.call(at("2026-11-23T10:00"), caller_number=OTHER))  # due Tuesday 15:00
    queue.clock.now = at("2026-11-23T16:00")
    assert [v.callback.caller_number for v in queue.callbacks.list()] == [NUMBER, OTHER]
    assert [v.overdue for v in queue.callbacks.list()] == [True, False]
    assert queue.callbacks.overdue_count() == queue.callbacks.overdue_count("jobcenter") == 1
    assert queue.callbacks.overdue_count("borgerservice") == 0
    marked = queue.callbacks.mark_overdue()
    assert [v.callback.overdue_at for v in marked] == [queue.clock.now]
    assert queue.callbacks.mark_overdue(at("2026-11-23T17:00")) == []
    later = at("2026-11-24T15:00:01")
    assert queue.callbacks.overdue_count(now=later) == 2
    assert len(queue.callbacks.mark_overdue(later)) == 1


def test_list_filters_by_unit_units_and_state(queue):
    queue.store(
        queue.call(FRIDAY),
        queue.call(FRIDAY, unit="borgerservice", queue="borgerservice"),
        queue.call(FRIDAY, caller_number=OTHER),
    )
    other = next(v.callback.id for v in queue.callbacks.list() if v.callback.caller_number == OTHER)
    queue.callbacks.cancel(other, "anne", "dublet")
    units = lambda views: sorted(v.callback.unit for v in views)  # noqa: E731
    assert units(queue.callbacks.list(unit="jobcenter")) == ["jobcenter", "jobcenter"]
    assert units(queue.callbacks.list(state="open")) == ["borgerservice", "jobcenter"]
    assert units(queue.callbacks.list(units={"borgerservice"})) == ["borgerservice"]
    assert queue.callbacks.list(unit="jobcenter", units={"borgerservice"}) == []


# ---------------------------------------------------------------- one open task per pair


def test_the_database_refuses_a_second_open_task_for_a_pair(queue):
    row = {
        "unit": "jobcenter",
        "caller_number": NUMBER,
        "created_at": FRIDAY,
        "due_at": MONDAY_DUE,
        "first_call_at": FRIDAY,
    }
    with queue.engine.begin() as connection:
        connection.execute(insert(CALLBACKS).values(state="open", **row))
        closed = {"resolution": "cancelled", "closed_at": FRIDAY}
        connection.execute(insert(CALLBACKS).values(state="cancelled", **row, **closed))
        connection.execute(insert(CALLBACKS).values(state="cancelled", **row, **closed))
    with pytest.raises(IntegrityError), queue.engine.begin() as connection:
        connection.execute(insert(CALLBACKS).values(state="open", **row))
    assert queue.count(CALLBACKS) == 3


def test_an_open_task_without_a_number_is_refused(queue):
    row = {"unit": "jobcenter", "created_at": FRIDAY, "due_at": MONDAY_DUE}
    with pytest.raises(IntegrityError), queue.engine.begin() as connection:
        connection.execute(insert(CALLBACKS).values(state="open", first_call_at=FRIDAY, **row))


def test_two_concurrent_opens_make_one_task(queue):
    fresh = cb.open_callback(
        queue.call(FRIDAY), lab_registry().unit("jobcenter").schedule.calendar, TZ, FRIDAY
    )
    sessions = session_factory(queue.engine)
    results: list[int | None] = []
    with sessions() as first:
        assert CallbackRepository(first).insert(fresh) is not None  # not committed yet

        def second_writer() -> None:
            with sessions() as second:
                results.append(CallbackRepository(second).insert(fresh))
                second.commit()

        racer = threading.Thread(target=second_writer)
        racer.start()
        racer.join(0.5)
        assert racer.is_alive()  # it waits for the first transaction to end
        first.commit()
    racer.join(10)
    assert results == [None]
    assert queue.count(CALLBACKS) == 1


def test_a_lost_race_joins_the_winners_task(queue, monkeypatch):
    queue.store(queue.call(FRIDAY))
    real = CallbackRepository.open_for
    misses = [None]  # the first lookup misses the task, as a racing writer's would

    def stale_once(self, number, unit):
        return misses.pop() if misses else real(self, number, unit)

    monkeypatch.setattr(CallbackRepository, "open_for", stale_once)
    queue.store(queue.call(FRIDAY + timedelta(minutes=1)))
    assert only(queue).missed_calls == 2


# ---------------------------------------------------------------- the deadline end to end

DEADLINES = [
    ("ascension", "2026-05-13T14:00", "abandoned", "2026-05-18T15:00:00+02:00"),
    ("christmas-week", "2026-12-23T10:00", "abandoned", "2027-01-04T15:00:00+01:00"),
    ("half-day", "2026-06-04T11:00", "abandoned", "2026-06-05T12:00:00+02:00"),
    ("saturday-night", "2026-11-21T23:30", "closed", "2026-11-23T15:00:00+01:00"),
    ("saturday-night-dst-ends", "2026-10-24T23:30", "closed", "2026-10-26T15:00:00+01:00"),
    ("friday-after-hours", "2026-11-20T16:00", "closed", "2026-11-23T15:00:00+01:00"),
]


@pytest.mark.parametrize(
    ("arrived", "outcome", "due"), [d[1:] for d in DEADLINES], ids=[d[0] for d in DEADLINES]
)
def test_due_at_from_stored_calls_on_the_municipal_calendar(
    database_url, spec_registry, arrived, outcome, due
):
    for queue in build_queue(database_url, spec_registry, at(arrived)):
        queue.store(queue.call(at(arrived), outcome, unit="borgerservice", queue="borgerservice"))
        assert only(queue).due_at == datetime.fromisoformat(due)


# ---------------------------------------------------------------- retention purge

TABLES = {"calls": CALLS, "call_segments": SEGMENTS, "callbacks": CALLBACKS}
TABLES |= {"callback_calls": EVIDENCE, "callback_attempts": ATTEMPTS}
# What the purge may change: the declared personal columns, and when they were erased.
PERSONAL = {
    table: {*columns, *({ERASED_AT} & set(TABLES[table].columns.keys()))}
    for table, columns in PERSONAL_COLUMNS.items()
}


@pytest.fixture
def history(queue) -> dict[str, Any]:
    """Tasks and calls of several ages around a 90-day retention, purged at NOW."""
    now = at("2026-11-20T12:00")
    old, recent = now - timedelta(days=200), now - timedelta(days=10)
    ids = {}
    queue.clock.now = old
    queue.store(queue.call(old, caller_number="+4511000001"))  # closed 100 days ago
    queue.store(queue.call(old, caller_number="+4511000003"))  # closed 10 days ago
    queue.clock.now = recent  # stored late (a backfill): a young task still open
    queue.store(queue.call(old, caller_number="+4511000002"))
    queue.clock.now = old
    queue.store(queue.call(old, "answered", caller_number="+4511000004"))  # no task
    queue.store(queue.call(recent, "answered", caller_number="+4511000005"))  # recent, no task
    for task in queue.callbacks.list():
        ids[task.callback.caller_number] = task.callback.id
    queue.clock.now = now - timedelta(days=100)
    queue.callbacks.note(ids["+4511000001"], "anne", "ring efter kl. 12")
    queue.callbacks.attempt(ids["+4511000001"], "anne", "busy", note="optaget")
    queue.callbacks.attempt(ids["+4511000001"], "anne", "reached")
    queue.clock.now = recent
    queue.callbacks.cancel(ids["+4511000003"], "anne", "dublet")
    queue.clock.now = now
    return {"now": now, "ids": ids}


def snapshot(queue) -> dict[str, dict[tuple, dict[str, Any]]]:
    """Every row of every table, by primary key."""
    found = {}
    for name, table in TABLES.items():
        keys = [c.name for c in table.primary_key.columns]
        found[name] = {tuple(r[k] for k in keys): r for r in queue.rows(table)}
    return found


def test_purge_erases_numbers_and_touches_nothing_else(queue, history):
    before = snapshot(queue)
    report = queue.callbacks.purge()
    after = snapshot(queue)
    assert (report.callbacks, report.calls) == (1, 3)
    assert report.cutoff == history["now"] - timedelta(days=90)
    changed = {
        (table, key, column)
        for table, rows in before.items()
        for key, row in rows.items()
        for column, value in row.items()
        if after[table][key][column] != value
    }
    assert {t: set(after[t]) for t in after} == {t: set(before[t]) for t in before}
    assert {(t, c) for t, _k, c in changed} <= {(t, c) for t, cs in PERSONAL.items() for c in cs}
    erased_calls = {before["calls"][k]["caller_number"] for t, k, _c in changed if t == "calls"}
    # the closed task's call, and old calls of no open task (a recently closed one's too)
    assert erased_calls == {"+4511000001", "+4511000003", "+4511000004"}
    erased_tasks = {
        before["callbacks"][k]["caller_number"] for t, k, _ in changed if t == "callbacks"
    }
    assert erased_tasks == {"+4511000001"}
    for table, columns in PERSONAL.items():
        for key, row in after[table].items():
            if any((table, key, column) in changed for column in columns):
                assert all(row[c] is None for c in columns if c != ERASED_AT)
                if ERASED_AT in columns:
                    assert row[ERASED_AT] == history["now"]


def test_purge_keeps_statistics_and_counts(queue, history):
    task_id = history["ids"]["+4511000001"]
    before = queue.callbacks.get(task_id).callback
    calls_before = [(r["outcome"], r["arrived_at"], r["wait_s"]) for r in queue.rows(CALLS)]
    queue.callbacks.purge()
    after = queue.callbacks.get(task_id).callback
    assert (after.caller_number, after.note, after.number_erased_at) == (None, None, history["now"])
    assert replace(after, number_erased_at=None) == replace(
        before,
        caller_number=None,
        note=None,
        attempts=tuple(replace(a, note=None) for a in before.attempts),
    )
    assert (after.missed_calls, after.on_time(), len(after.attempts)) == (1, False, 2)  # late
    assert [(r["outcome"], r["arrived_at"], r["wait_s"]) for r in queue.rows(CALLS)] == calls_before


def test_purge_twice_erases_nothing_more(queue, history):
    queue.callbacks.purge()
    again = queue.callbacks.purge(history["now"] + timedelta(minutes=1))
    assert (again.callbacks, again.calls) == (0, 0)


def test_erased_numbers_are_not_counted_as_withheld(queue, history):
    old = history["now"] - timedelta(days=201)
    assert queue.callbacks.unacknowledgeable("jobcenter", old, history["now"]) == 0
    queue.callbacks.purge()
    assert queue.callbacks.unacknowledgeable("jobcenter", old, history["now"]) == 0


# ---------------------------------------------------------------- the command line

SPEC_FIELDS = {
    "id": int,
    "unit": str,
    "caller_number": str,
    "state": str,
    "created_at": str,
    "due_at": str,
    "missed_calls": int,
    "attempts": list,
    "resolution": type(None),
}
CLI_NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)  # the clock of tests.services.test_ingest.run


@pytest.mark.usefixtures("lab")
def test_ingesting_e_burst_opens_one_task_per_missed_caller_and_unit(database_url, capsys):
    calls = truth("e-burst")["calls"]
    missed = {
        (c["caller_number"], c["queue"]) for c in calls if c["observed_outcome"] != "answered"
    }
    answered = {c["caller_number"] for c in calls if c["observed_outcome"] == "answered"}
    run(capsys, "ingest", str(TRACES / "e-burst.ami"))
    run(capsys, "ingest", str(TRACES / "e-burst.ami"))
    tasks = run(capsys, "callbacks", "--json")
    assert len(missed) == 13
    assert sorted((t["caller_number"], t["unit"]) for t in tasks) == sorted(missed)
    assert not {t["caller_number"] for t in tasks} & answered
    assert {t["due_at"] for t in tasks} == {"2026-11-23T15:00:00+01:00"}  # Sunday → Monday
    assert {(t["state"], t["missed_calls"], t["overdue"]) for t in tasks} == {("open", 1, False)}
    engine = create_engine_for(database_url)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(EVIDENCE)).scalar_one() == 13
    engine.dispose()


@pytest.mark.usefixtures("lab")
def test_callbacks_json_has_the_spec_shape(capsys):
    run(capsys, "ingest", str(TRACES / "b-abandoned.ami"))
    tasks = run(capsys, "callbacks", "--json")
    assert tasks
    for task in tasks:
        assert {k: type(task[k]) for k in SPEC_FIELDS} == SPEC_FIELDS
        assert list(task)[: len(SPEC_FIELDS)] == list(SPEC_FIELDS)
        assert datetime.fromisoformat(task["due_at"]).utcoffset() == timedelta(hours=1)
        assert task["created_at"] == "2026-11-23T13:00:00+01:00"


@pytest.mark.usefixtures("lab")
def test_callbacks_filters_and_text(capsys):
    run(capsys, "ingest", str(TRACES / "e-burst.ami"))
    jobcenter = run(capsys, "callbacks", "--unit", "jobcenter", "--json")
    assert len(jobcenter) == 4 and {t["unit"] for t in jobcenter} == {"jobcenter"}
    assert run(capsys, "callbacks", "--state", "done", "--json") == []
    text = run(capsys, "callbacks", "--unit", "jobcenter")
    assert len(text.splitlines()) == 4 and "2026-11-23T15:00:00+01:00" in text


@pytest.mark.usefixtures("lab")
def test_callbacks_of_an_unknown_unit_is_invalid_input(capsys):
    assert main(["callbacks", "--unit", "nowhere"], clock=lambda: CLI_NOW) == 2
    assert "nowhere" in capsys.readouterr().err


@pytest.mark.usefixtures("lab")
def test_purge_command_reports_what_it_erased(capsys):
    run(capsys, "ingest", str(TRACES / "e-burst.ami"))
    report = run(capsys, "purge", "--json")
    assert report == {
        "purged_at": "2026-11-23T13:00:00+01:00",
        "retention_days": 90,
        "cutoff": "2026-08-25T14:00:00+02:00",
        "callbacks": 0,
        "calls": 0,
        "expired": 0,
        "login_attempts": 0,
        "audit_entries": 0,
    }
    assert "0 callback(s) and 0 call(s)" in run(capsys, "purge")
