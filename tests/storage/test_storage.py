"""The storage contract, run over SQLite and PostgreSQL alike (as APScheduler tests its stores).

The schema always comes from the Alembic migration, never from ``create_all``. The
PostgreSQL half needs ``PHONESERVICE_TEST_DATABASE_URL`` and carries the ``postgres``
mark; its tests share one migrated schema (via ``search_path``, so Alembic's version table
goes there too), emptied after each test and rebuilt when a test changed its shape.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, delete, func, select, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session
from sqlmodel import SQLModel

from phoneservice.domain.calls.records import OUTCOMES, CallRecord, Segment
from phoneservice.storage.engine import (
    create_engine_for,
    database_url,
    default_database_url,
    session_factory,
)
from phoneservice.storage.migrate import include_object, upgrade
from phoneservice.storage.models import CALL_SOURCES
from phoneservice.storage.repositories import CALLS, SEGMENTS, CallRepository
from phoneservice.storage.types import NaiveDatetimeError

POSTGRES_ENV = "PHONESERVICE_TEST_DATABASE_URL"
CET = timezone(timedelta(hours=1))
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def segment(queue: str = "borgerservice", **changes: object) -> Segment:
    """A queue visit with every field filled."""
    visit = Segment(
        queue=queue,
        unit="borgerservice",
        joined_at=T0,
        left_at=T0 + timedelta(seconds=40),
        outcome="answered",
        wait_s=40,
        ring_attempts=2,
        ring_no_answers=1,
        agent="Anne",
        talk_s=180,
    )
    return replace(visit, **changes)  # type: ignore[arg-type]


def call(uniqueid: str = "1700000000.1", **changes: object) -> CallRecord:
    """A finished call with every field filled and one segment."""
    record = CallRecord(
        pbx="pbx1",
        uniqueid=uniqueid,
        linkedid=uniqueid,
        unit="borgerservice",
        queue="borgerservice",
        caller_number="+4512345678",
        caller_name="Jens Hansen",
        caller_raw="12345678",
        arrived_at=T0,
        during_hours=True,
        pbx_hours="open",
        hours_disagree=False,
        outcome="answered",
        short_abandon=False,
        wait_s=40,
        ring_attempts=2,
        talk_s=180,
        agent="Anne",
        ended_at=T0 + timedelta(minutes=4),
        segments=(segment(),),
    )
    return replace(record, **changes)  # type: ignore[arg-type]


@pytest.fixture
def database(database_url: str) -> str:
    """The URL of an empty database of each backend, migrated to the latest revision."""
    return database_url


@pytest.fixture
def engine(database: str) -> Iterator[Engine]:
    """An engine on the migrated test database."""
    engine = create_engine_for(database)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session; what a test commits, it commits itself, as a service would."""
    with session_factory(engine)() as session:
        yield session


@pytest.fixture
def repo(session: Session) -> CallRepository:
    """The call repository on the test session (the roll-up counts UTC days)."""
    return CallRepository(session, ZoneInfo("UTC"))


def test_round_trip_keeps_every_field(repo: CallRepository, session: Session) -> None:
    transferred = call(
        segments=(
            segment("borgerservice", outcome="timeout", agent=None, talk_s=None),
            segment("sundhed", unit="sundhed", joined_at=T0 + timedelta(minutes=1)),
        )
    )
    assert repo.add(transferred)
    session.commit()
    assert repo.get("pbx1", transferred.uniqueid) == transferred


def test_round_trip_keeps_nulls(repo: CallRepository) -> None:
    withheld = call(
        unit=None, queue=None, caller_number=None, caller_name=None, pbx_hours=None,
        wait_s=None, talk_s=None, agent=None, outcome="unknown", source="queue_log",
        segments=(segment(left_at=None, wait_s=None, agent=None, talk_s=None, unit=None),),
    )  # fmt: skip
    repo.add(withheld)
    assert repo.get("pbx1", withheld.uniqueid) == withheld


def test_times_come_back_as_the_same_instant_in_utc(repo: CallRepository, session: Session) -> None:
    local = datetime(2026, 11, 23, 10, 0, tzinfo=CET)
    repo.add(call(arrived_at=local, ended_at=local, segments=(segment(joined_at=local),)))
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET TIME ZONE 'Asia/Tokyo'"))  # the reader's zone must not leak
    stored = repo.get("pbx1", "1700000000.1")
    assert stored is not None
    assert stored.arrived_at == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert stored.arrived_at.tzinfo is UTC
    assert stored.ended_at.tzinfo is UTC
    assert stored.segments[0].joined_at.utcoffset() == timedelta(0)


def test_get_of_an_unknown_call_is_none(repo: CallRepository) -> None:
    assert repo.get("pbx1", "nope") is None


def test_add_is_idempotent(repo: CallRepository, session: Session) -> None:
    assert repo.add(call()) is True
    session.commit()
    assert repo.add(call(outcome="abandoned")) is False
    session.commit()
    assert repo.count() == 1
    assert _segment_count(session) == 1
    stored = repo.get("pbx1", "1700000000.1")
    assert stored is not None and stored.outcome == "answered"


def test_add_many_twice_adds_each_call_once(repo: CallRepository, session: Session) -> None:
    batch = [call(f"1700000000.{n}") for n in range(50)]
    assert repo.add_many(batch) == 50
    session.commit()
    assert repo.add_many(batch) == 0
    assert repo.add_many([*batch[:10], call("1700000001.0")]) == 1
    session.commit()
    assert repo.count() == 51
    assert _segment_count(session) == 51


def test_add_many_keeps_the_first_of_duplicates_in_one_batch(repo: CallRepository) -> None:
    assert repo.add_many([call(), call(outcome="abandoned"), call("2")]) == 2
    stored = repo.get("pbx1", "1700000000.1")
    assert stored is not None and stored.outcome == "answered"


def test_same_uniqueid_on_another_pbx_is_another_call(repo: CallRepository) -> None:
    assert repo.add_many([call(), call(pbx="pbx2")]) == 2


def test_add_many_of_nothing(repo: CallRepository) -> None:
    assert repo.add_many([]) == 0


def test_every_outcome_and_source_is_storable(repo: CallRepository) -> None:
    kinds = [(outcome, source) for outcome in OUTCOMES for source in CALL_SOURCES]
    batch = [call(f"{o}-{s}", outcome=o, source=s) for o, s in kinds]
    assert repo.add_many(batch) == len(kinds)


def test_an_unknown_outcome_is_refused(repo: CallRepository) -> None:
    with pytest.raises(IntegrityError):
        repo.add(call(outcome="lost"))


def test_list_filters_by_unit_and_half_open_range(repo: CallRepository) -> None:
    hour = timedelta(hours=1)
    repo.add_many(
        [
            call("a", arrived_at=T0),
            call("b", arrived_at=T0 + hour),
            call("c", arrived_at=T0 + 2 * hour),
            call("d", arrived_at=T0 + hour, unit="sundhed"),
        ]
    )
    assert _ids(repo.list()) == ["a", "b", "d", "c"]
    assert _ids(repo.list(unit="borgerservice")) == ["a", "b", "c"]
    assert _ids(repo.list(unit="borgerservice", start=T0 + hour)) == ["b", "c"]
    assert _ids(repo.list(start=T0, end=T0 + 2 * hour)) == ["a", "b", "d"]
    assert _ids(repo.list(start=(T0 + hour).astimezone(CET), end=T0 + 2 * hour)) == ["b", "d"]
    assert _ids(repo.list(limit=2)) == ["a", "b"]
    assert repo.count(unit="sundhed") == 1
    assert repo.count(start=T0 + hour) == 3


def test_list_returns_segments_in_order(repo: CallRepository) -> None:
    visits = tuple(segment(f"q{n}") for n in range(3))
    repo.add_many([call("a", segments=visits), call("b", segments=())])
    listed = {record.uniqueid: record for record in repo.list()}
    assert [s.queue for s in listed["a"].segments] == ["q0", "q1", "q2"]
    assert listed["b"].segments == ()


@pytest.mark.parametrize(
    "record",
    [
        call(arrived_at=datetime(2026, 11, 23, 9, 0)),
        call(segments=(segment(left_at=datetime(2026, 11, 23, 9, 1)),)),
    ],
    ids=["call", "segment"],
)
def test_naive_datetime_is_rejected(repo: CallRepository, record: CallRecord) -> None:
    with pytest.raises(StatementError) as caught:
        repo.add(record)
    assert isinstance(caught.value.orig, NaiveDatetimeError)


def test_naive_range_is_rejected(repo: CallRepository) -> None:
    with pytest.raises(NaiveDatetimeError):
        repo.list(start=datetime(2026, 11, 23, 9, 0))


def test_nothing_is_kept_without_commit(repo: CallRepository, engine: Engine) -> None:
    repo.add(call())
    with session_factory(engine)() as other:
        assert CallRepository(other).count() == 0


def test_deleting_a_call_deletes_its_segments(repo: CallRepository, session: Session) -> None:
    repo.add(call(segments=(segment("q0"), segment("q1"))))
    session.commit()
    session.execute(delete(CALLS))
    session.commit()
    assert _segment_count(session) == 0


def test_migration_matches_the_models(engine: Engine) -> None:
    with engine.begin() as connection:  # a worker has run: the job store has its table
        connection.execute(text("CREATE TABLE apscheduler_jobs (id VARCHAR(191) PRIMARY KEY)"))
    with engine.connect() as connection:
        opts = {"compare_type": True, "include_object": include_object}
        context = MigrationContext.configure(connection, opts=opts)
        assert compare_metadata(context, SQLModel.metadata) == []


def test_migrating_again_changes_nothing(
    database: str, repo: CallRepository, session: Session
) -> None:
    repo.add(call())
    session.commit()
    upgrade(database)
    assert repo.count() == 1


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    url = default_database_url(tmp_path)
    upgrade(url)
    engine = create_engine_for(url)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
    engine.dispose()


def test_postgresql_urls_use_psycopg_3() -> None:
    assert database_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert database_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    assert database_url("sqlite:///x.sqlite3").drivername == "sqlite"


def test_default_database_is_a_file_in_the_instance_folder(tmp_path: Path) -> None:
    assert default_database_url(tmp_path) == f"sqlite:///{tmp_path}/phoneservice.sqlite3"


def _ids(records: list[CallRecord]) -> list[str]:
    """The uniqueids, in the order given."""
    return [record.uniqueid for record in records]


def _segment_count(session: Session) -> int:
    """How many segment rows there are."""
    return int(session.execute(select(func.count()).select_from(SEGMENTS)).scalar_one())
