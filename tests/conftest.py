"""Shared fixtures: registries written as TOML text, a fixed clock and migrated databases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest

from phoneservice.registry import Registry, load_registry, parse_registry

if TYPE_CHECKING:
    from sqlalchemy import Engine

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_CONFIG = ROOT / "config" / "opening_hours.toml"
DATA = Path(__file__).resolve().parent / "data"
TZ = ZoneInfo("Europe/Copenhagen")
TODAY = date(2026, 11, 23)
FIXED_NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

TESTKOMMUNE = """
[registry]
name = "Testkommune"
timezone = "Europe/Copenhagen"
"""

HEADER = (
    TESTKOMMUNE
    + """
[calendar]
country = "DK"
closed = ["12-24", "12-31"]
closes_early = { "05-01" = "12:00", "06-05" = "12:00" }
rules = ["day-after-ascension"]
workday_end = "15:00"
"""
)

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

# The laboratory: units open around the clock on no holiday calendar, so a recorded call
# is in phone hours whenever it is replayed; the PBX settings the recordings need.
LAB_HEADER = """
[registry]
name = "Laboratoriet"
timezone = "Europe/Copenhagen"
"""

LAB_PBX = """
[pbx]
hours_variable = "PHONE_HOURS"
inbound_contexts = ["inbound"]
"""

ROUND_THE_CLOCK = '{ daily = ["00:00-24:00"] }'


def lab_unit(
    unit: str, name: str, phone: str, *, did: str | None = None, hours: str = ROUND_THE_CLOCK
) -> str:
    """A ``[[unit]]`` of the laboratory: one queue named after it, no holiday calendar."""
    dids = f'dids = ["{did}"]\n' if did else ""
    return f"""
[[unit]]
id = "{unit}"
name = "{name}"
kind = "centre"
phone = "{phone}"
queues = ["{unit}"]
{dids}calendar = "none"
hours = {hours}
"""


LAB_REGISTRY = (
    LAB_HEADER
    + LAB_PBX
    + lab_unit("borgerservice", "Borgerservice", "+45 70 10 10 10", did="70101010")
    + lab_unit("jobcenter", "Jobcenter", "+45 70 10 10 20", did="70101020")
    + lab_unit("boern-laering", "Børn & Læring", "+45 70 10 10 30", did="70101030")
)


class Clock:
    """A clock the test sets and advances: the services' ``now()``."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


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
# Every suite that runs on both backends takes its ids and marks from here, so that
# `-m postgres` selects exactly the PostgreSQL half and `-m "not postgres"` the SQLite one.
BACKENDS = (
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
)


# The web suites' PostgreSQL half belongs to the full run: the quick tier keeps every
# storage and service contract on both backends, and the pages and the API on SQLite.
SLOW_ON_POSTGRES = ("tests/web/", "tests/services/", "tests/worker/", "tests/e2e/", "tests/cli/")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the PostgreSQL half of the suites in :data:`SLOW_ON_POSTGRES` ``slow`` too."""
    for item in items:
        backend = getattr(item, "callspec", None)
        on_postgres = backend is not None and backend.params.get("database_url") == "postgresql"
        if on_postgres and item.nodeid.startswith(SLOW_ON_POSTGRES):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, migrated: MigratedDatabases
) -> Iterator[str]:
    """The URL of an empty, migrated database: a SQLite file, or a PostgreSQL schema."""
    if request.param == "sqlite":
        yield migrated.sqlite_copy(tmp_path / "phoneservice.sqlite3")
    else:
        yield from migrated.postgres_schema()


class MigratedDatabases:
    """Migrates once per session and hands each test an empty copy of the result.

    Running the Alembic migration for every test costs 0.1 s on SQLite and 0.5 s on
    PostgreSQL, most of the quick tier's time. A SQLite test gets a byte copy of a file
    migrated once; PostgreSQL tests share one migrated schema, emptied after each test,
    and rebuilt when a test changed its tables or revision (or could not be emptied).
    """

    def __init__(self, folder: Path) -> None:
        """Templates live in ``folder`` (SQLite) and on the test server (PostgreSQL)."""
        self._folder = folder
        self._sqlite: Path | None = None
        self._schema: Iterator[str] | None = None
        self._url = ""
        self._shape: tuple[frozenset[str], str | None] | None = None
        self._admin: Engine | None = None
        self._script: str | None = None

    def sqlite_copy(self, target: Path) -> str:
        """A byte copy of the migrated SQLite file at ``target``; its URL."""
        import shutil

        from phoneservice.storage.migrate import upgrade

        if self._sqlite is None:
            self._sqlite = self._folder / "template.sqlite3"
            upgrade(f"sqlite:///{self._sqlite}")
            # The last connection's close checkpoints WAL: the main file holds everything.
            assert not self._sqlite.with_name("template.sqlite3-wal").exists()
        shutil.copyfile(self._sqlite, target)
        return f"sqlite:///{target}"

    def postgres_schema(self) -> Iterator[str]:
        """The shared migrated schema's URL, emptied (or dropped) after the test."""
        from phoneservice.storage.migrate import upgrade

        if self._schema is None:
            schema = postgres_schema_url()
            url = next(schema)  # skips the test when no server is configured
            self._schema, self._url = schema, url
            try:
                upgrade(url)
                self._shape = self._postgres_shape()
            except BaseException:
                self.close_postgres()
                raise
            if self._has_rows():  # a migration that seeds rows: emptying would lose them
                self._shape = None
        yield self._url
        if self._shape is None or not self._empty_if_unchanged():
            self.close_postgres()

    def close_postgres(self) -> None:
        """Drop the shared schema; the next PostgreSQL test migrates a new one."""
        schema, self._schema = self._schema, None
        if self._admin is not None:
            self._admin.dispose()
            self._admin = None
        self._script = None
        if schema is not None:
            for _ in schema:  # runs the DROP SCHEMA after the yield
                pass

    def _postgres_shape(self) -> tuple[frozenset[str], str | None]:
        """The schema's table names and Alembic revision, in one round trip."""
        from sqlalchemy import text

        with self._engine().connect() as connection:
            tables, revision = connection.execute(text(_SHAPE_SQL)).one()
            return frozenset(tables or ()), revision

    def _has_rows(self) -> bool:
        """Whether any table but Alembic's holds rows right after migrating."""
        from sqlalchemy import text

        with self._engine().connect() as connection:
            return any(
                connection.execute(text(f'SELECT 1 FROM "{name}" LIMIT 1')).first()
                for name in self._emptied_tables()
            )

    def _emptied_tables(self) -> list[str]:
        """Every table but Alembic's, children before parents (so deletes obey the keys)."""
        from sqlalchemy import MetaData

        metadata = MetaData()
        metadata.reflect(self._engine())
        ordered = reversed(metadata.sorted_tables)
        return [table.name for table in ordered if table.name != "alembic_version"]

    def _emptying_script(self) -> str:
        """DELETE from every table and restart every sequence, as one statement list.

        DELETE, not TRUNCATE: on tables this small TRUNCATE's new files cost 0.4 s a test;
        one round trip, as the test server may be busy serving other tests.
        """
        from sqlalchemy import text

        with self._engine().connect() as connection:
            sequences = connection.execute(text(_SEQUENCES_SQL)).scalars().all()
        deletes = [f'DELETE FROM "{name}"' for name in self._emptied_tables()]
        restarts = [f'ALTER SEQUENCE "{name}" RESTART' for name in sequences]
        return ";\n".join(deletes + restarts)

    def _empty_if_unchanged(self) -> bool:
        """Empty every table if the test left the schema's shape alone; whether it did."""
        from sqlalchemy import text
        from sqlalchemy.exc import SQLAlchemyError

        try:
            if self._postgres_shape() != self._shape:
                return False
            if self._script is None:
                self._script = self._emptying_script()
            with self._engine().begin() as connection:
                # A connection the test left open must not hang the run: give up and drop.
                connection.execute(text("SET LOCAL lock_timeout = '5s'"))
                connection.execute(text(self._script))
        except SQLAlchemyError:
            return False
        return True

    def _engine(self) -> Engine:
        """An engine on the shared schema, kept until the schema is dropped."""
        from phoneservice.storage.engine import create_engine_for

        if self._admin is None:
            self._admin = create_engine_for(self._url)
        return self._admin


_SHAPE_SQL = """
SELECT (SELECT array_agg(tablename::text) FROM pg_tables WHERE schemaname = current_schema()),
       (SELECT version_num FROM alembic_version)
"""
_SEQUENCES_SQL = """
SELECT sequence_name FROM information_schema.sequences WHERE sequence_schema = current_schema()
"""


@pytest.fixture(scope="session")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MigratedDatabases]:
    """Migrated templates shared by every test of the session."""
    databases = MigratedDatabases(tmp_path_factory.mktemp("migrated"))
    yield databases
    databases.close_postgres()


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
