"""The callback roll-up against the tasks it counts, on SQLite and PostgreSQL.

Tasks across both DST changes of 2026 go through the repositories as production moves
them: inserted open (a few already closed), attempted, closed every way, attempts
decided after the closing, reopened, expired by the purge. After each step the report's
callbacks pass (roll-up plus open tasks) must give the same cells as the pass computed
from every task and its first attempt (``DirectReportRepository.callbacks_direct``), and
each median must be within its buckets of the exact one. Rebuilding, and the backfill of
migration 0012, must give the roll-up the writes kept.
"""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from time import sleep
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from phoneservice.domain.callbacks.rules import (
    CALLED_BACK,
    CALLER_REACHED_US,
    CANCELLED,
    DONE,
    NO_ANSWER,
    OPEN,
    REACHED,
    REQUESTED,
    RESOLVED,
    UNREACHABLE,
    Attempt,
    Callback,
)
from phoneservice.domain.reports.buckets import bucket_width
from phoneservice.domain.reports.percentiles import percentile
from phoneservice.domain.reports.periods import periods
from phoneservice.domain.reports.report import ReportRequest
from phoneservice.storage.callback_repository import CallbackRepository
from phoneservice.storage.callback_rollup import CALLBACK_CELLS
from phoneservice.storage.callbacks import RetentionRepository
from phoneservice.storage.engine import create_engine_for, session_factory
from phoneservice.storage.migrate import alembic_config, upgrade
from phoneservice.storage.rollup import RollupRepository
from tests.storage.direct_reports import DirectReportRepository, Histograms

WINDOWS = (datetime(2026, 3, 26, tzinfo=UTC), datetime(2026, 10, 22, tzinfo=UTC))
UNITS = ("jobcenter", "borgerservice")
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
ZONES = ("Europe/Copenhagen", "America/St_Johns")
REQUESTS = (
    ReportRequest(date(2026, 3, 1), date(2026, 11, 30)),
    ReportRequest(date(2026, 3, 1), date(2026, 11, 30), by="month"),
    ReportRequest(date(2026, 10, 22), date(2026, 10, 29), by="day"),
    ReportRequest(date(2026, 3, 23), date(2026, 4, 5), unit="jobcenter", by="week"),
)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on the migrated, empty test database."""
    engine = create_engine_for(database_url)
    yield engine
    engine.dispose()


def first_calls(rng: random.Random, count: int, tz: ZoneInfo) -> list[datetime]:
    """Random instants in both DST weeks, and each local midnight (and 1 s before it)."""
    found = [
        rng.choice(WINDOWS) + timedelta(seconds=rng.randrange(7 * 86400)) for _ in range(count)
    ]
    for start in WINDOWS:
        for days in range(8):
            midnight = datetime.combine(start.date() + timedelta(days=days), time(), tz)
            found += [midnight, midnight - timedelta(seconds=1)]
    return found


def open_tasks(engine: Engine, tz: ZoneInfo, rng: random.Random, count: int) -> list[int]:
    """Insert open tasks (and a few closed already, as a late-stored missed call makes)."""
    ids = []
    with session_factory(engine)() as session:
        repo = CallbackRepository(session, tz)
        for n, first in enumerate(first_calls(rng, count, tz)):
            task = Callback(
                unit=rng.choice(UNITS),
                caller_number=f"+4520{n:06d}",
                created_at=first,
                due_at=first + timedelta(hours=rng.choice((4, 24, 30))),
                first_call_at=first,
            )
            if rng.random() < 0.05:
                closed = first + timedelta(seconds=rng.randrange(3 * 86400))
                task = replace(task, state=DONE, resolution=CALLER_REACHED_US, closed_at=closed)
            found = repo.insert(task)
            assert found is not None
            ids.append(found)
        session.commit()
    return ids


def change(engine: Engine, tz: ZoneInfo, ids: list[int], how: Any) -> None:
    """Apply ``how(task, repo)`` to each stored task, through the repository, and commit."""
    with session_factory(engine)() as session:
        repo = CallbackRepository(session, tz)
        for task_id in ids:
            task = repo.get(task_id)
            assert task is not None
            how(task, repo)
        session.commit()


def attempted(rng: random.Random) -> Any:
    """Add an attempt: decided (no answer, reached) or a placed call still without outcome."""

    def how(task: Callback, repo: CallbackRepository) -> None:
        if task.state != OPEN:
            return
        at = task.first_call_at + timedelta(seconds=rng.randrange(1, 80 * 3600))
        outcome = rng.choice((NO_ANSWER, REACHED, None))
        status = REQUESTED if outcome is None else None
        attempt = Attempt(at=at, by="anne", outcome=outcome, status=status)
        repo.save(replace(task, attempts=(*task.attempts, attempt)))

    return how


def closed(rng: random.Random) -> Any:
    """Close an open task: done (on time or late), unreachable or cancelled."""

    def how(task: Callback, repo: CallbackRepository) -> None:
        if task.state != OPEN:
            return
        state, resolution = rng.choice(
            ((DONE, CALLED_BACK), (DONE, CALLER_REACHED_US), (UNREACHABLE,) * 2, (CANCELLED,) * 2)
        )
        at = task.first_call_at + timedelta(seconds=rng.randrange(0, 100 * 3600))
        repo.save(replace(task, state=state, resolution=resolution, closed_at=at, closed_by="a"))

    return how


def decided(task: Callback, repo: CallbackRepository) -> None:
    """The placed calls of a task get their outcome (after the task closed, perhaps)."""
    for attempt in task.attempts:
        if attempt.outcome is None:
            repo.update_attempt(replace(attempt, outcome=NO_ANSWER, status=RESOLVED))


def reopened(task: Callback, repo: CallbackRepository) -> None:
    """A closed task opened again (as a correction would)."""
    if task.state != OPEN and task.caller_number is not None:
        opened = replace(task, state=OPEN, resolution=None, closed_at=None, closed_by=None)
        repo.save(opened)


def cells(session: Session) -> list[tuple[Any, ...]]:
    """Every row of the callback roll-up, in key order."""
    query = select(CALLBACK_CELLS).order_by(*CALLBACK_CELLS.c)
    return [tuple(row) for row in session.execute(query)]


def assert_report_matches(engine: Engine, tz: ZoneInfo) -> None:
    """Every request's callbacks pass: the same cells, medians within their buckets."""
    with session_factory(engine)() as session:
        repo = DirectReportRepository(session)
        for request in REQUESTS:
            parts = periods(request.first, request.last, request.by, tz)
            rolled, medians = repo.callbacks(parts, request.unit, NOW)
            direct, histograms = repo.callbacks_direct(parts, request.unit, NOW)
            assert sorted(rolled, key=_key) == sorted(direct, key=_key), request
            assert_medians_within(medians, histograms)


def _key(cell: Any) -> tuple[int, str]:
    """A callback cell's period and unit."""
    return cell.period, cell.unit


def assert_medians_within(medians: dict[Any, float], histograms: Histograms) -> None:
    """Each bucketed median is the exact one give or take its middle values' buckets."""
    assert set(medians) == set(histograms)
    for key, bucketed in medians.items():
        histogram = histograms[key]
        exact = percentile([(float(s), n) for s, n in histogram], 0.5)
        assert exact is not None
        values = sorted(s for s, n in histogram for _ in range(n))
        rank = (len(values) - 1) / 2
        low, high = values[math.floor(rank)], values[math.ceil(rank)]
        share = rank - math.floor(rank)
        bound = (1 - share) * bucket_width(low) + share * bucket_width(high)
        assert abs(bucketed - exact) <= bound + 1e-6, (key, bucketed, exact)


@pytest.mark.parametrize("zone", ZONES)
def test_the_rollup_follows_every_change_of_the_tasks(engine: Engine, zone: str) -> None:
    tz, rng = ZoneInfo(zone), random.Random(5)
    ids = open_tasks(engine, tz, rng, 160)
    assert_report_matches(engine, tz)
    change(engine, tz, ids[::2], attempted(rng))
    change(engine, tz, ids[::3], attempted(rng))
    assert_report_matches(engine, tz)
    change(engine, tz, [i for i in ids if i % 5], closed(rng))
    assert_report_matches(engine, tz)
    change(engine, tz, ids, decided)
    assert_report_matches(engine, tz)
    change(engine, tz, ids[::7], reopened)
    assert_report_matches(engine, tz)
    with session_factory(engine)() as session:
        cutoff = WINDOWS[0] + timedelta(days=4)
        assert RetentionRepository(session, tz).expire_open(cutoff, NOW) > 0
        session.commit()
    assert_report_matches(engine, tz)
    with session_factory(engine)() as session:
        kept = cells(session)
        assert 0 not in [row[-1] for row in kept]  # cells emptied by a change are gone
        assert {row[2] for row in kept} == {"on_time", "late", "unreachable", "cancelled"}
        RollupRepository(session, tz).rebuild()
        assert cells(session) == kept


@pytest.mark.parametrize("zone", ZONES)
def test_migration_backfill_gives_the_rollup_the_writes_kept(
    engine: Engine, database_url: str, zone: str
) -> None:
    tz, rng = ZoneInfo(zone), random.Random(9)
    ids = open_tasks(engine, tz, rng, 120)
    change(engine, tz, ids[::2], attempted(rng))
    change(engine, tz, ids[1:], closed(rng))
    with session_factory(engine)() as session:
        kept = cells(session)
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0011")
    upgrade(database_url, timezone=zone)
    with session_factory(engine)() as session:
        assert cells(session) == kept and kept


def test_a_write_that_changes_a_task_needs_the_time_zone(engine: Engine) -> None:
    with session_factory(engine)() as session:
        with pytest.raises(ValueError, match="time zone"):
            RetentionRepository(session).expire_open(NOW, NOW)
        task = Callback("jobcenter", "+4520000001", NOW, NOW, NOW, state=DONE)
        task = replace(task, resolution=CALLED_BACK, closed_at=NOW)
        with pytest.raises(ValueError, match="time zone"):
            CallbackRepository(session).insert(task)


def test_a_task_changed_by_two_transactions_at_once_counts_once(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer: a second transaction cannot change a task meanwhile")
    (task_id, *_) = open_tasks(engine, ZoneInfo(ZONES[0]), random.Random(3), 1)
    tz, sessions = ZoneInfo(ZONES[0]), session_factory(engine)
    with sessions() as first:
        repo = CallbackRepository(first, tz)
        task = repo.get(task_id)
        assert task is not None
        done = replace(task, state=DONE, resolution=CALLED_BACK, closed_at=NOW, closed_by="a")
        repo.save(done)  # not committed: the task's row stays locked
        started = threading.Event()

        def second_writer() -> None:
            with sessions() as second:
                cancelled = replace(done, state=CANCELLED, resolution=CANCELLED, closed_by="b")
                started.set()
                CallbackRepository(second, tz).save(cancelled)  # waits for the first
                second.commit()

        racer = threading.Thread(target=second_writer)
        racer.start()
        started.wait()
        sleep(0.3)  # let the second reach the lock (the result holds either way)
        first.commit()
        racer.join()
    with sessions() as session:
        kept = cells(session)
        assert [
            (row[2], row[-1])
            for row in kept
            if row[1] == task.unit and row[0] == task.first_call_at.astimezone(tz).date()
        ] == [("cancelled", 1)]
        RollupRepository(session, tz).rebuild()
        assert cells(session) == kept
