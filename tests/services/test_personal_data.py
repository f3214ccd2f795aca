"""Personal data as a declared list (SPEC §11): after a purge no table keeps any of it.

The purge erases the columns of ``PERSONAL_COLUMNS``; these tests check that list against
the schema, and walk every text column of every table after a purge far ahead for the
numbers, names, notes and reasons the seeded data brought in.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, MetaData, String, select

from phoneservice.present.reports import report_shape
from phoneservice.storage.callbacks import CALLBACKS, CALLS
from phoneservice.storage.personal import ERASED_AT, PERSONAL_COLUMNS
from tests.conftest import at
from tests.services.test_callbacks import Queue, build_queue, lab_registry
from tests.services.test_reports import REPORTED_AT, build_office, fill_week, rows_by_unit

START = at("2026-03-02T10:00")  # a Monday
AHEAD = timedelta(days=400)  # far past the default 90-day retention

# What citizens and staff brought in: every one must be gone after the purge.
CPR = "010180-1234"
NUMBERS = ("+4511220001", "+4511220002", "+4511220003", "+4511220004", "+4511220005")
NAMES = ("Karen Blixen", "Niels Bohr", "Tove Ditlevsen", "Piet Hein", "Inger Christensen")
RAWS = tuple(f"00{number[1:]}" for number in NUMBERS)  # caller_raw: as the PBX sent them
OPEN_NOTE = "Inger: ring ikke før 10"
NOTE = "Karen vil ringes op efter kl. 12"
ATTEMPT_NOTE = "optaget; prøv Karens mobil 29998877"
REACHED_NOTE = "talt med Karen"
REASON = f"borgeren er død, CPR {CPR}"
SEEDED = (
    *NUMBERS,
    *NAMES,
    *RAWS,
    NOTE,
    ATTEMPT_NOTE,
    REACHED_NOTE,
    REASON,
    CPR,
    "29998877",
    OPEN_NOTE,
)


@pytest.fixture
def queue(database_url: str) -> Iterator[Queue]:
    """The lab registry with its default ``[callbacks]`` (90 days' retention)."""
    yield from build_queue(database_url, lab_registry(), START)


def seed(queue: Queue) -> None:
    """Calls with names; a task reached after notes and attempts, a cancelled one, an open one."""
    outcomes = ("abandoned", "abandoned", "answered", "answered", "abandoned")
    for number, name, raw, outcome in zip(NUMBERS, NAMES, RAWS, outcomes, strict=True):
        call = queue.call(START, outcome, caller_number=number, caller_name=name, caller_raw=raw)
        queue.store(call)
    tasks = {view.callback.caller_number: view.callback.id for view in queue.callbacks.list()}
    reached, cancelled = tasks[NUMBERS[0]], tasks[NUMBERS[1]]
    queue.clock.now = START + timedelta(hours=1)
    queue.callbacks.note(reached, "anne", NOTE)
    queue.callbacks.attempt(reached, "anne", "busy", note=ATTEMPT_NOTE)
    queue.callbacks.attempt(reached, "anne", "reached", note=REACHED_NOTE)
    queue.callbacks.cancel(cancelled, "anne", REASON)
    waiting = tasks[NUMBERS[4]]
    queue.callbacks.note(waiting, "anne", OPEN_NOTE)
    queue.callbacks.attempt(waiting, "anne", "no_answer", note=ATTEMPT_NOTE)
    assert [v.callback.id for v in queue.callbacks.list(state="open")] == [waiting]


def text_values(engine: Engine) -> Iterator[tuple[str, str, str]]:
    """``(table, column, value)`` of every non-null text value in the database."""
    schema = MetaData()
    schema.reflect(engine)
    with engine.connect() as connection:
        for table in schema.sorted_tables:
            texts = [c for c in table.columns if isinstance(c.type, String)]
            if not texts:
                continue
            for row in connection.execute(select(*texts)).mappings():
                for column, value in row.items():
                    if value is not None:
                        yield table.name, column, str(value)


def leftovers(engine: Engine) -> set[tuple[str, str, str]]:
    """Which seeded value is still found, in which table and column."""
    return {
        (table, column, needle)
        for table, column, value in text_values(engine)
        for needle in SEEDED
        if needle.casefold() in value.casefold()
    }


def test_every_personal_column_is_a_nullable_text_column(queue):
    schema = MetaData()
    schema.reflect(queue.engine)
    for table, columns in PERSONAL_COLUMNS.items():
        for name in columns:
            column = schema.tables[table].c[name]
            assert isinstance(column.type, String), (table, name)
            assert column.nullable, (table, name)


def test_the_seeded_data_is_there_before_the_purge(queue):
    seed(queue)
    found = leftovers(queue.engine)
    assert {needle for _t, _c, needle in found} == set(SEEDED)
    assert {(t, c) for t, c, _n in found} <= {
        (t, c) for t, cs in PERSONAL_COLUMNS.items() for c in cs
    }


def test_after_a_purge_far_ahead_no_text_column_holds_personal_data(queue):
    seed(queue)
    report = queue.callbacks.purge(queue.clock.now + AHEAD)
    assert (report.callbacks, report.calls, report.expired) == (3, 5, 1)
    assert leftovers(queue.engine) == set()


def test_the_purge_marks_what_it_erased(queue):
    seed(queue)
    now: datetime = queue.clock.now + AHEAD
    queue.callbacks.purge(now)
    for table in (CALLS, CALLBACKS):
        assert {row[ERASED_AT] for row in queue.rows(table)} == {now}, table.name


def test_a_task_open_past_retention_is_closed_as_expired_and_erased(queue):
    seed(queue)
    waiting = queue.callbacks.list(state="open")[0].callback
    young = queue.callbacks.purge(waiting.created_at + timedelta(days=89))
    assert (young.callbacks, young.expired) == (0, 0)
    assert queue.callbacks.get(waiting.id).callback.caller_number == NUMBERS[4]
    now = waiting.created_at + timedelta(days=90)  # the cutoff is inclusive, as for closing
    report = queue.callbacks.purge(now)
    assert (report.callbacks, report.expired) == (1, 1)  # the others closed an hour later
    task = queue.callbacks.get(waiting.id).callback
    assert (task.state, task.resolution, task.closed_at) == ("unreachable", "expired", now)
    assert (task.caller_number, task.note, task.number_erased_at) == (None, None, now)
    assert [a.note for a in task.attempts] == [None]
    assert (task.missed_calls, task.on_time()) == (1, False)


def test_expiring_moves_tasks_to_unreachable_and_acknowledges_nothing(database_url):
    for office in build_office(database_url):
        fill_week(office)
        before = rows_by_unit(report_shape(office.report()))
        office.callbacks.purge(REPORTED_AT + AHEAD)
        after = rows_by_unit(report_shape(office.report()))
    moved = {"overdue": -1, "pending": -1, "unreachable": +1}  # #6 was overdue, #5 pending
    for unit, was in (("jobcenter", "overdue"), ("borgerservice", "pending")):
        expected = dict(before[unit]["callbacks"])
        expected |= {k: expected[k] + moved[k] for k in (was, "unreachable")}
        # the same on-time rate and acknowledgements: the purge's closing is not an answer
        assert after[unit]["callbacks"] == expected, unit
        assert after[unit]["calls"] == before[unit]["calls"], unit
