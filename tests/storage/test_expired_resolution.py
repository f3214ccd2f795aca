"""The resolution ``expired`` (SPEC §13) in the schema, and migration 0008 that allows it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, func, insert, select, text
from sqlalchemy.exc import IntegrityError

from phoneservice.storage.callbacks import ATTEMPTS, CALLBACKS, CALLS, EVIDENCE
from phoneservice.storage.engine import create_engine_for
from phoneservice.storage.migrate import upgrade
from tests.conftest import at

OPENED = at("2026-01-05T10:00")
TASK = {
    "id": 1,
    "unit": "jobcenter",
    "caller_number": "+4511220001",
    "state": "open",
    "created_at": OPENED,
    "due_at": OPENED,
    "first_call_at": OPENED,
}
CALL = {
    "id": 1,
    "pbx": "pbx",
    "uniqueid": "1.1",
    "linkedid": "1.1",
    "arrived_at": OPENED,
    "during_hours": True,
    "hours_disagree": False,
    "outcome": "abandoned",
    "short_abandon": False,
    "ring_attempts": 0,
    "ended_at": OPENED,
    "source": "ami",
}


def seed(engine: Engine) -> None:
    """An open task with its evidence call and one attempt."""
    with engine.begin() as connection:
        connection.execute(insert(CALLS).values(CALL))
        connection.execute(insert(CALLBACKS).values(TASK))
        connection.execute(insert(EVIDENCE).values(callback_id=1, call_id=1))
        connection.execute(insert(ATTEMPTS).values(callback_id=1, at=OPENED, by="anne"))


def close(engine: Engine, state: str, resolution: str) -> None:
    """Close the seeded task with ``state`` and ``resolution``."""
    with engine.begin() as connection:
        values = {"state": state, "resolution": resolution, "closed_at": OPENED}
        connection.execute(CALLBACKS.update().values(values))


def counts(engine: Engine) -> list[int]:
    """Rows of the task, its evidence and its attempts."""
    with engine.connect() as connection:
        tables = (CALLBACKS, EVIDENCE, ATTEMPTS)
        return [
            connection.execute(select(func.count()).select_from(t)).scalar_one() for t in tables
        ]


def test_an_unreachable_task_may_have_expired_and_no_other_state_may(database_url):
    engine = create_engine_for(database_url)
    seed(engine)
    for state in ("done", "cancelled"):
        with pytest.raises(IntegrityError):
            close(engine, state, "expired")
    close(engine, "unreachable", "expired")
    engine.dispose()


def test_migration_0008_keeps_every_task_evidence_and_attempt_on_sqlite(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'phoneservice.sqlite3'}"
    upgrade(url, "0007")
    engine = create_engine_for(url)
    seed(engine)
    with pytest.raises(IntegrityError):  # not allowed before 0008
        close(engine, "unreachable", "expired")
    upgrade(url)
    assert counts(engine) == [1, 1, 1]
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA foreign_key_check")).all() == []
    close(engine, "unreachable", "expired")
    engine.dispose()
