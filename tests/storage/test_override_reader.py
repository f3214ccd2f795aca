"""The driver-level override reader of the registry commands gives the answer of the
repository (``OverrideService.in_force``), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from phoneservice.services.overrides import OverrideService, Until
from phoneservice.storage.engine import create_engine_for, session_factory
from phoneservice.storage.override_reader import in_force
from tests.conftest import BORGERSERVICE, Clock, at, registry_from


@pytest.fixture
def stored(database_url: str) -> tuple[OverrideService, Clock]:
    """Overrides of every kind, stored through the service over an hour and a half."""
    registry = registry_from(BORGERSERVICE, closures=False)
    clock = Clock(at("2026-11-23T10:00:30.250"))
    engine = create_engine_for(database_url)
    service = OverrideService(session_factory(engine), registry, clock)

    def make(reason: str, *, open: bool = False, **until: object) -> int:
        made = service.create(
            "borgerservice", open=open, reason=reason, until=Until(**until), author="ib"
        )
        return made.id

    make("Brandalarm", minutes=30)
    ended = make("Systemnedbrud", minutes=120)
    clock.advance(minutes=10)
    service.end(ended, actor="ib")  # ended early
    make("Beredskab", open=True, at=at("2026-11-23T20:00"))
    gone = make("Kort", minutes=5)
    service.end(gone, actor="ib")  # ended the second it began: never in force
    clock.advance(minutes=80)  # the first two are over now
    make("Personalemøde", minutes=45)
    yield service, clock
    engine.dispose()


@pytest.mark.parametrize("lookback_minutes", [0, 30, 90, 600], ids=lambda m: f"lookback-{m}m")
def test_the_reader_and_the_repository_agree(database_url, stored, lookback_minutes):
    service, clock = stored
    lookback = timedelta(minutes=lookback_minutes)
    expected = service.in_force(lookback)
    found = in_force(database_url, clock() - lookback, service.hours.registry.timezone)
    assert found == expected
    assert {o.reason for o in found} >= {"Beredskab", "Personalemøde"}


def test_the_reader_never_creates_a_database(tmp_path):
    missing = tmp_path / "none.sqlite3"
    with pytest.raises(Exception, match="unable to open"):
        in_force(f"sqlite:///{missing}", at("2026-11-23T10:00"), at("2026-11-23T10:00").tzinfo)
    assert not missing.exists()
