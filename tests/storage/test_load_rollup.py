"""The staffing roll-up (``call_load_cells``, ``call_agent_hours``), on SQLite and PostgreSQL.

A hand-counted week end across the autumn DST change (02:00-03:00 local occurs twice
on 2026-10-25: both occurrences are one hour of the day), and generated calls across
both DST weeks, where the roll-up the inserts kept must equal the one counted from the
calls directly, the rebuild's and migration 0012's backfill.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from phoneservice.domain.calls.records import ABANDONED, ANSWERED, TIMEOUT, CallRecord
from phoneservice.domain.evaluation.model import LoadCell
from phoneservice.domain.reports.rollup import LoadKey, loads_of
from phoneservice.storage.engine import create_engine_for, session_factory
from phoneservice.storage.loads import LoadRepository
from phoneservice.storage.migrate import alembic_config, upgrade
from phoneservice.storage.repositories import CallRepository
from phoneservice.storage.rollup import AGENT_HOURS, LOAD_CELLS, RollupRepository
from tests.conftest import TZ
from tests.domain.test_callbacks_domain import call as citizen_call
from tests.storage.test_report_rollup import ZONES, generated_calls, store_in_batches

SUNDAY = 6 * 24  # the hour of the week of Sunday 00:00


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on the migrated, empty test database."""
    engine = create_engine_for(database_url)
    yield engine
    engine.dispose()


def queued(n: int, utc: str, outcome: str, **changes: Any) -> CallRecord:
    """Call ``n`` to the jobcenter's queue in phone hours, arriving at ``utc`` (UTC)."""
    arrived = datetime.fromisoformat(utc).replace(tzinfo=UTC)
    record = citizen_call(
        outcome, uniqueid=f"9.{n}", linkedid=f"9.{n}", arrived_at=arrived, ended_at=arrived
    )
    return replace(record, **{"during_hours": True, **changes})


# 2026-10-25 (Sunday) in Copenhagen: 00:xx UTC is 02:xx CEST, 01:xx UTC is 02:xx CET.
HAND_COUNTED = (
    queued(1, "2026-10-25T00:30", ANSWERED, wait_s=10, talk_s=100, agent="a1"),
    queued(2, "2026-10-25T01:30", ANSWERED, wait_s=20, talk_s=None, agent="a2"),
    queued(3, "2026-10-25T01:45", ABANDONED, wait_s=30),
    queued(4, "2026-10-25T01:50", TIMEOUT, wait_s=40),
    queued(5, "2026-10-25T00:40", ANSWERED, wait_s=None, talk_s=20, agent="a1"),
    queued(6, "2026-10-25T02:10", ANSWERED, wait_s=5, talk_s=50, agent="a1"),  # 03:10 CET
    queued(7, "2026-10-26T07:15", ANSWERED, wait_s=15, talk_s=60, agent="a3", unit="borger"),
    queued(8, "2026-11-01T01:20", ANSWERED, wait_s=1, talk_s=9, agent="a2"),  # Sunday 02:20
    # Not counted: outside phone hours, no unit, never in a queue.
    queued(9, "2026-10-25T01:55", ABANDONED, during_hours=False),
    queued(10, "2026-10-25T01:56", ABANDONED, unit=None),
    queued(11, "2026-10-25T01:57", "unanswered", queue=None),
)


def test_hand_counted_load_cells_across_the_autumn_dst_change(engine: Engine) -> None:
    with session_factory(engine)() as session:
        CallRepository(session, TZ).add_many(HAND_COUNTED)
        session.commit()
        loads = LoadRepository(session)
        assert loads.cells(date(2026, 10, 25), date(2026, 10, 26), None) == [
            LoadCell("borger", 8, 1, 1, 1, 1, 60, 15, 0, 1),  # Monday 08:15 CET,
            # calls 1-5: both 02:xx hours are one hour; a1 and a2 answered in it
            LoadCell("jobcenter", SUNDAY + 2, 1, 5, 3, 2, 120, 100, 2, 2),
            LoadCell("jobcenter", SUNDAY + 3, 1, 1, 1, 1, 50, 5, 0, 1),
        ]
        assert loads.cells(date(2026, 10, 25), date(2026, 11, 1), "jobcenter") == [
            LoadCell("jobcenter", SUNDAY + 2, 2, 6, 4, 3, 129, 101, 2, 3),
            LoadCell("jobcenter", SUNDAY + 3, 1, 1, 1, 1, 50, 5, 0, 1),
        ]
        assert loads.cells(date(2026, 10, 27), date(2026, 10, 31), None) == []


def test_storing_a_call_again_adds_nothing(engine: Engine) -> None:
    with session_factory(engine)() as session:
        repo = CallRepository(session, TZ)
        repo.add_many(HAND_COUNTED)
        assert repo.add_many(HAND_COUNTED) == 0
        cells = LoadRepository(session).cells(date(2026, 10, 25), date(2026, 10, 25), None)
        assert [(c.calls, c.agent_hours) for c in cells] == [(5, 2), (1, 1)]


def with_agents(calls: Sequence[CallRecord], seed: int) -> list[CallRecord]:
    """The generated calls, answered ones with an agent and mostly a talk time."""
    rng = random.Random(seed)
    return [
        replace(
            c,
            agent=rng.choice(("a1", "a2", "a3", None)),
            talk_s=None if rng.random() < 0.2 else rng.randrange(600),
        )
        if c.outcome == ANSWERED
        else c
        for c in calls
    ]


def rollup(session: Session) -> tuple[list[Any], list[Any]]:
    """Every row of both staffing tables, in key order."""
    return (
        [tuple(row) for row in session.execute(select(LOAD_CELLS).order_by(*LOAD_CELLS.c))],
        [tuple(row) for row in session.execute(select(AGENT_HOURS).order_by(*AGENT_HOURS.c))],
    )


def counted(calls: Sequence[CallRecord], tz: ZoneInfo) -> tuple[list[Any], list[Any]]:
    """The staffing roll-up counted from the calls themselves, as rows."""
    loads, agents = loads_of(calls, tz)
    per_hour = Counter(LoadKey(*agent[:3]) for agent in agents)
    return (
        sorted((*k, *v, per_hour[k]) for k, v in loads.items()),
        sorted(tuple(a) for a in agents),
    )


@pytest.mark.parametrize("zone", ZONES)
def test_inserts_rebuild_and_backfill_agree_with_the_calls(
    engine: Engine, database_url: str, zone: str
) -> None:
    tz = ZoneInfo(zone)
    calls = with_agents(generated_calls(29, 900, tz), 29)
    store_in_batches(engine, calls, tz)
    with session_factory(engine)() as session:
        kept = rollup(session)
        assert kept == counted(calls, tz) and kept[0] and kept[1]
        RollupRepository(session, tz).rebuild()
        assert rollup(session) == kept
        session.commit()
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0011")
    upgrade(database_url, timezone=zone)
    with session_factory(engine)() as session:
        assert rollup(session) == kept
        days = LoadRepository(session).cells(date(2026, 3, 1), date(2026, 11, 30), None)
    assert sum(c.calls for c in days) == sum(row[3] for row in kept[0])
    assert sum(c.agent_hours for c in days) == len(kept[1]) == sum(r[-1] for r in kept[0])
    assert sum(c.hours for c in days) == len(kept[0])
