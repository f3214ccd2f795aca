"""Shared fixtures: registries written as TOML text and a fixed clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from phoneservice.registry import Registry, load_registry, parse_registry

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_CONFIG = ROOT / "config" / "opening_hours.toml"
DATA = Path(__file__).resolve().parent / "data"
TZ = ZoneInfo("Europe/Copenhagen")
TODAY = date(2026, 11, 23)
FIXED_NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

HEADER = """
[registry]
name = "Testkommune"
timezone = "Europe/Copenhagen"

[calendar]
country = "DK"
closed = ["12-24", "12-31"]
closes_early = { "05-01" = "12:00", "06-05" = "12:00" }
rules = ["day-after-ascension"]
workday_end = "15:00"
"""

CHRISTMAS_CLOSURES = """
[[calendar.closure]]
from = 2025-12-29
to = 2025-12-30
reason = "Juleferie"

[[calendar.closure]]
from = 2026-12-28
to = 2026-12-30
reason = "Juleferie"

[[calendar.closure]]
from = 2027-12-27
to = 2027-12-30
reason = "Juleferie"
"""

BORGERSERVICE = """
[[unit]]
id = "borgerservice"
name = "Borgerservice"
kind = "centre"
phone = "+45 56 57 57 57"
queues = ["borgerservice"]
dids = ["70101010"]

[unit.hours]
"mon-wed" = ["10:00-14:00"]
thu = ["10:00-17:00"]
fri = ["10:00-13:00"]

[[unit.season]]
name = "Sommertelefontid"
from = "07-01"
to = "07-31"
hours = { "mon-thu" = ["10:00-13:00"], fri = ["10:00-12:00"] }
"""


def registry_from(units: str, *, closures: bool = True, header: str = HEADER) -> Registry:
    """A registry built from TOML text through the real loader."""
    text = header + (CHRISTMAS_CLOSURES if closures else "") + units
    return parse_registry(text, "test.toml", TODAY)


def at(text: str) -> datetime:
    """An ISO time; naive ones are Copenhagen wall-clock (first occurrence)."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=TZ)


@pytest.fixture(scope="session")
def shipped() -> Registry:
    """The registry file the project ships."""
    return load_registry(SHIPPED_CONFIG, TODAY)


@pytest.fixture(scope="session")
def spec_registry() -> Registry:
    """Borgerservice as in the SPEC, on the municipal calendar with Christmas closures."""
    return registry_from(BORGERSERVICE)


POSTGRES_ENV = "PHONESERVICE_TEST_DATABASE_URL"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty, migrated database: a SQLite file, or a fresh PostgreSQL schema."""
    from phoneservice.storage.migrate import upgrade

    urls = _sqlite_url(tmp_path) if request.param == "sqlite" else postgres_schema_url()
    for url in urls:
        upgrade(url)
        yield url


def _sqlite_url(tmp_path: Path) -> Iterator[str]:
    """A SQLite file in the test's folder."""
    yield f"sqlite:///{tmp_path / 'phoneservice.sqlite3'}"


def postgres_schema_url() -> Iterator[str]:
    """A fresh schema on the test server (``PHONESERVICE_TEST_DATABASE_URL``), dropped after."""
    import os
    import uuid

    from sqlalchemy import make_url, text

    from phoneservice.storage.engine import create_engine_for

    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} is not set: PostgreSQL half skipped")
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine_for(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        options = {"options": f"-csearch_path={schema}"}
        yield make_url(base).update_query_dict(options).render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def run_cli(argv: list[str], clock=lambda: FIXED_NOW) -> tuple[int, str, str]:
    """``phoneservice.cli.main`` in-process, with stdout and stderr captured."""
    import contextlib
    import io

    from phoneservice.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv, clock=clock)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def at_repository_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Paths in messages are the paths given on the command line: run from the root."""
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("PHONESERVICE_CONFIG", raising=False)
