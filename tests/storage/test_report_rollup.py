"""The daily roll-up against the calls it counts, on SQLite and PostgreSQL.

The report read from the roll-up must equal the report computed directly from ``calls``
(``DirectReportRepository.call_cells_direct`` and ``closed_hours_direct``, the passes used
before the roll-up) on generated calls that span both DST changes of 2026, stored
through ``CallRepository.add_many`` in batches, one of them twice. Ingesting a call
again must not count it again, and the backfill of migration 0007 must give the same
roll-up as the inserts did.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from phoneservice.domain.calls.records import ABANDONED, ANSWERED, OUTCOMES, CallRecord
from phoneservice.domain.reports.cells import ReportData
from phoneservice.domain.reports.figures import ReportParameters
from phoneservice.domain.reports.periods import periods
from phoneservice.domain.reports.report import Report, ReportRequest, build_report, row_names
from phoneservice.domain.reports.rollup import rolled_up
from phoneservice.present.reports import report_shape
from phoneservice.services.calls import CallService
from phoneservice.services.reports import ReportService
from phoneservice.storage.engine import create_engine_for, session_factory
from phoneservice.storage.migrate import alembic_config, upgrade
from phoneservice.storage.repositories import CallRepository
from phoneservice.storage.rollup import DAY_CELLS, HOUR_CELLS, RollupRepository
from tests.conftest import LAB_REGISTRY, TZ, Clock, run_cli
from tests.domain.test_callbacks_domain import call as citizen_call
from tests.services.test_callbacks import lab_registry
from tests.storage.direct_reports import DirectReportRepository, offset_changes

# Both DST changes of 2026 in Europe: 29 March (02:00 → 03:00) and 25 October
# (03:00 → 02:00: the hour from 02:00 occurs twice).
WINDOWS = (datetime(2026, 3, 26, tzinfo=UTC), datetime(2026, 10, 22, tzinfo=UTC))
WINDOW = timedelta(days=7)
UNITS = ("jobcenter", "borgerservice", "retired-unit", None)  # one the registry lacks
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
ZONES = ("Europe/Copenhagen", "America/St_Johns")  # St. John's: -3:30 / -2:30
REQUESTS = (
    ReportRequest(date(2026, 3, 1), date(2026, 11, 30)),
    ReportRequest(date(2026, 3, 1), date(2026, 11, 30), by="month"),
    ReportRequest(date(2026, 3, 23), date(2026, 4, 5), by="week"),
    ReportRequest(date(2026, 10, 22), date(2026, 10, 29), by="day"),
    ReportRequest(date(2026, 3, 29), date(2026, 3, 29), unit="jobcenter"),
    ReportRequest(date(2026, 10, 20), date(2026, 10, 31), unit="jobcenter", by="day"),
)


def generated_calls(seed: int, count: int, tz: ZoneInfo) -> list[CallRecord]:
    """Random calls in both DST weeks, plus calls on the local midnights and around them."""
    rng = random.Random(seed)
    instants = [
        rng.choice(WINDOWS) + timedelta(seconds=rng.uniform(0, WINDOW.total_seconds()))
        for _ in range(count)
    ]
    for start in WINDOWS:
        for days in range(8):
            midnight = datetime.combine(start.date() + timedelta(days=days), time(), tz)
            # 1 ms before: SQLite's strftime (in the direct query) rounds to milliseconds
            instants += [midnight, midnight - timedelta(milliseconds=1)]
    return [random_call(rng, f"{seed}.{n}", at) for n, at in enumerate(instants)]


def random_call(rng: random.Random, uniqueid: str, arrived_at: datetime) -> CallRecord:
    """A call with a random unit, outcome, wait and hours."""
    outcome = rng.choice(OUTCOMES)
    unit = rng.choice(UNITS)
    wait = None if rng.random() < 0.1 else rng.randrange(0, 180)
    found = citizen_call(outcome, uniqueid=uniqueid, linkedid=uniqueid, arrived_at=arrived_at)
    return replace(
        found,
        unit=unit,
        queue=unit,
        caller_number=None if rng.random() < 0.1 else f"+4520{rng.randrange(10**6):06d}",
        during_hours=rng.random() < 0.7,
        short_abandon=outcome == ABANDONED and rng.random() < 0.3,
        wait_s=wait,
        ended_at=arrived_at + timedelta(seconds=(wait or 0) + 30),
    )


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on the migrated, empty test database."""
    engine = create_engine_for(database_url)
    yield engine
    engine.dispose()


def store_in_batches(engine: Engine, calls: Sequence[CallRecord], tz: ZoneInfo) -> int:
    """``add_many`` in five batches, each committed, the second one twice."""
    size = len(calls) // 5 + 1
    batches = [calls[n : n + size] for n in range(0, len(calls), size)]
    added = 0
    for batch in [batches[0], batches[1], batches[1], *batches[2:]]:
        with session_factory(engine)() as session:
            added += CallRepository(session, tz).add_many(batch)
            session.commit()
    return added


def rollup(session: Session) -> tuple[list[Any], list[Any]]:
    """Every row of both roll-up tables, in key order."""
    return (
        [tuple(row) for row in session.execute(select(DAY_CELLS).order_by(*DAY_CELLS.c))],
        [tuple(row) for row in session.execute(select(HOUR_CELLS).order_by(*HOUR_CELLS.c))],
    )


def both_reports(session: Session, request: ReportRequest, tz: ZoneInfo) -> tuple[Report, Report]:
    """The report from the roll-up and the report from ``calls`` directly."""
    parts = periods(request.first, request.last, request.by, tz)
    repo = DirectReportRepository(session)
    rolled = repo.data(parts, request.unit, NOW)
    offsets = offset_changes(parts[0].start, parts[-1].end, tz)
    direct = replace(
        rolled,
        calls=repo.call_cells_direct(parts, request.unit),
        closed_hours=repo.closed_hours_direct(parts, request.unit, offsets),
    )
    params = ReportParameters(tz, 5, {"jobcenter": 30})
    names = {"jobcenter": "Jobcenter", "borgerservice": "Borgerservice"}
    return (
        _report(request, parts, names, rolled, params),
        _report(request, parts, names, direct, params),
    )


def _report(
    request: ReportRequest,
    parts: Any,
    names: dict[str, str],
    data: ReportData,
    params: ReportParameters,
) -> Report:
    """The report the domain folds from ``data``."""
    rows = row_names(names, data, request.unit)
    return build_report(request, parts, rows, data, params, NOW.astimezone(params.timezone))


@pytest.mark.parametrize("zone", ZONES)
def test_report_from_the_rollup_equals_the_report_from_calls(engine: Engine, zone: str) -> None:
    tz = ZoneInfo(zone)
    calls = generated_calls(7, 1500, tz)
    assert store_in_batches(engine, calls, tz) == len(calls)
    with session_factory(engine)() as session:
        for request in REQUESTS:
            rolled, direct = both_reports(session, request, tz)
            assert rolled == direct, request
        repo = DirectReportRepository(session)
        parts = periods(date(2026, 3, 1), date(2026, 11, 30), "day", tz)
        assert Counter(repo.call_cells(parts, None)) == Counter(repo.call_cells_direct(parts, None))
        assert sum(cell.count for cell in repo.call_cells(parts, None)) == len(calls)


def test_the_data_set_reaches_every_kind_of_cell(engine: Engine) -> None:
    calls = generated_calls(7, 1500, TZ)
    store_in_batches(engine, calls, TZ)
    with session_factory(engine)() as session:
        rolled, _ = both_reports(session, REQUESTS[0], TZ)
    units = {row.unit: row.calls for row in rolled.whole.units}
    assert set(units) == {"jobcenter", "borgerservice", "retired-unit", None}
    total = rolled.whole.total.calls
    assert min(total.short_abandons, total.closed, total.unknown, total.unanswered) > 0
    assert total.wait_p90_s is not None and sum(total.closed_by_hour_of_week) > 0
    assert total.answered_with_wait < total.answered  # some answered without a known wait


def test_ingesting_the_same_calls_twice_counts_them_once(engine: Engine) -> None:
    service = CallService(session_factory(engine), timezone=TZ)
    calls = generated_calls(11, 200, TZ)
    assert service.store(calls) == len(calls)
    assert service.store(calls) == 0
    assert service.store([*calls[:50], *calls[:50]]) == 0
    with session_factory(engine)() as session:
        days, hours = rollup(session)
    assert sum(row[-1] for row in days) == len(calls)
    assert sum(row[-1] for row in hours) == sum(not c.during_hours for c in calls)


def test_report_service_reads_the_rollup_of_stored_calls(engine: Engine) -> None:
    sessions = session_factory(engine)
    calls = generated_calls(13, 300, TZ)
    CallService(sessions, timezone=TZ).store(calls)
    reports = ReportService(sessions, lab_registry(), Clock(NOW))
    request = REQUESTS[1]
    with sessions() as session:
        _, direct = both_reports(session, request, TZ)
    shown = report_shape(reports.report(request))
    assert shown["total"]["calls"]["calls"] == direct.whole.total.calls.calls
    answered = sum(c.outcome == ANSWERED for c in calls)
    assert shown["total"]["calls"]["answered"] == answered


@pytest.mark.parametrize("zone", ZONES)
def test_rebuilding_gives_the_rollup_the_inserts_kept(engine: Engine, zone: str) -> None:
    tz = ZoneInfo(zone)
    store_in_batches(engine, generated_calls(17, 800, tz), tz)
    with session_factory(engine)() as session:
        kept = rollup(session)
        RollupRepository(session, tz).rebuild()
        assert rollup(session) == kept
        assert kept[0] and kept[1]


@pytest.mark.parametrize("zone", ZONES)
def test_migration_backfill_gives_the_rollup_the_inserts_kept(
    engine: Engine, database_url: str, zone: str
) -> None:
    tz = ZoneInfo(zone)
    store_in_batches(engine, generated_calls(19, 800, tz), tz)
    with session_factory(engine)() as session:
        kept = rollup(session)
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0006")
    upgrade(database_url, timezone=zone)
    with session_factory(engine)() as session:
        assert rollup(session) == kept


def test_rebuild_rollup_recounts_in_the_registry_zone(
    engine: Engine, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = generated_calls(23, 300, TZ)
    CallService(session_factory(engine), timezone=ZoneInfo(ZONES[1])).store(calls)
    config = tmp_path / "lab.toml"
    config.write_text(LAB_REGISTRY, encoding="utf-8")  # Europe/Copenhagen
    monkeypatch.setenv("PHONESERVICE_CONFIG", str(config))
    monkeypatch.setenv("PHONESERVICE_DATABASE_URL", database_url)
    code, out, _ = run_cli(["db", "rebuild-rollup", "--json"])
    assert code == 0
    assert json.loads(out) == {"rollup": "rebuilt", "timezone": "Europe/Copenhagen"}
    days, hours = rolled_up(calls, TZ)
    with session_factory(engine)() as session:
        assert rollup(session) == (
            sorted((*key, n) for key, n in days.items()),
            sorted((*key, n) for key, n in hours.items()),
        )
