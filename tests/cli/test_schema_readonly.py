"""Commands other than ``db upgrade``, ``run`` and ``demo`` never migrate a database.

A database whose schema is behind is refused with exit code 1 and a message that says
what to do; the schema stays as it was. A SQLite file that does not exist yet holds
nothing to protect: it is made at the latest schema.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from phoneservice import bootstrap
from phoneservice.services.overrides import Until
from phoneservice.settings import Settings
from phoneservice.storage.migrate import revisions, upgrade
from tests.conftest import BACKENDS, FIXED_NOW, SHIPPED_CONFIG, postgres_schema_url, run_cli

OLDER = "0006"  # a revision before the latest
READ_ONLY = [
    ["calls"],
    ["callbacks"],
    ["report", "--from", "2026-11-16", "--to", "2026-11-22"],
    ["user", "list"],
]


@pytest.fixture(params=BACKENDS)
def behind(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch) -> Iterator[str]:
    """A database migrated to an older revision, named by ``PHONESERVICE_DATABASE_URL``."""
    if request.param == "sqlite":
        urls: Iterator[str] = iter([f"sqlite:///{tmp_path / 'old.sqlite3'}"])
    else:
        urls = postgres_schema_url()
    for url in urls:
        upgrade(url, OLDER)
        monkeypatch.setenv("PHONESERVICE_DATABASE_URL", url)
        monkeypatch.setenv("PHONESERVICE_CONFIG", str(SHIPPED_CONFIG))
        yield url


@pytest.mark.parametrize("argv", READ_ONLY, ids=lambda argv: argv[0])
def test_a_read_only_command_refuses_a_schema_behind_and_leaves_it(behind, argv):
    code, out, err = run_cli(argv)
    assert code == 1, err
    assert "run `phoneservice db upgrade`" in err
    assert "Traceback" not in err and out == ""
    assert revisions(behind)[0] == OLDER


def test_db_upgrade_brings_it_to_the_latest_and_the_commands_answer(behind):
    assert run_cli(["db", "upgrade"])[0] == 0
    found, latest = revisions(behind)
    assert found == latest
    code, out, err = run_cli(["calls"])
    assert (code, out.strip()) == (0, "no calls"), err


def test_a_sqlite_file_not_made_yet_is_made_at_the_latest_schema(tmp_path, monkeypatch):
    monkeypatch.setenv("PHONESERVICE_INSTANCE", str(tmp_path))
    monkeypatch.setenv("PHONESERVICE_CONFIG", str(SHIPPED_CONFIG))
    monkeypatch.delenv("PHONESERVICE_DATABASE_URL", raising=False)
    code, out, err = run_cli(["calls"])
    assert (code, out.strip()) == (0, "no calls"), err
    found, latest = revisions(f"sqlite:///{tmp_path / 'phoneservice.sqlite3'}")
    assert found == latest


def test_status_makes_no_database(tmp_path, monkeypatch):
    monkeypatch.setenv("PHONESERVICE_INSTANCE", str(tmp_path))
    monkeypatch.delenv("PHONESERVICE_DATABASE_URL", raising=False)
    code, _, err = run_cli(["status", "--config", str(SHIPPED_CONFIG)])
    assert code == 0, err
    assert list(tmp_path.iterdir()) == []


def test_status_honours_an_override_stored_in_the_database(database_url, monkeypatch):
    monkeypatch.setenv("PHONESERVICE_DATABASE_URL", database_url)
    settings = Settings(config=str(SHIPPED_CONFIG), database_url=database_url)
    services = bootstrap.build(settings, lambda: FIXED_NOW)  # Monday 13:00, open by the hours
    until = Until(minutes=60)
    services.overrides.create(
        "borgerservice", open=False, reason="Brandalarm", until=until, author="t"
    )
    services.close()
    code, out, err = run_cli(["status", "borgerservice", "--json", "--config", str(SHIPPED_CONFIG)])
    assert code == 0, err
    assert json.loads(out)[0]["open"] is False
