"""Schemathesis against ``/api/v1/openapi.json``: generated requests, no 500, answers as documented.

Bounded: 25 examples per operation, so the run takes seconds, not minutes. A request the
document allows may still be refused with a documented 400 (a 30 February, a year outside
the engine's range): the check that every schema-valid request is accepted is left out,
every other check runs. The authenticated routes are called with a token that has every
scope, on a throwaway SQLite database and, when ``PHONESERVICE_TEST_DATABASE_URL`` is
set, on a throwaway PostgreSQL schema too (it stores what SQLite lets through: NUL
bytes, integers past 32 bits, long text).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from phoneservice.registry import load_registry
from phoneservice.services.tokens import SCOPES
from phoneservice.storage.migrate import upgrade
from tests.conftest import BACKENDS, SHIPPED_CONFIG, TODAY, postgres_schema_url
from tests.staff import staff_app, tokens

NOW = datetime(2026, 11, 23, 11, 30, tzinfo=UTC)


def clock() -> datetime:
    return NOW


@dataclass(frozen=True)
class Target:
    """The app on one database, its own OpenAPI document, and a token with every scope."""

    schema: Any
    headers: dict[str, str]

    @classmethod
    def on(cls, url: str) -> Target:
        """Migrate ``url``, issue the token, load the document through the app."""
        upgrade(url)
        _, secret = tokens(url, clock).issue_token("schemathesis", SCOPES, actor="test")
        app = staff_app(url, load_registry(SHIPPED_CONFIG, TODAY), clock)
        schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
        return cls(schema, {"Authorization": f"Bearer {secret}"})


def sqlite_target() -> Target:
    """The target on a SQLite file in a fresh temporary folder."""
    folder = Path(tempfile.mkdtemp(prefix="phoneservice-schema-"))
    return Target.on(f"sqlite:///{folder / 'db.sqlite3'}")


pytestmark = pytest.mark.slow
SQLITE = sqlite_target()
OPERATIONS = [result.ok() for result in SQLITE.schema.get_all_operations()]


@pytest.fixture(scope="module", params=BACKENDS)
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    """The SQLite target, or one on a PostgreSQL schema (skipped when none is configured)."""
    if request.param == "sqlite":
        yield SQLITE
        return
    schema = postgres_schema_url()
    url = next(schema)  # skips when PHONESERVICE_TEST_DATABASE_URL is not set
    try:
        yield Target.on(url)
    finally:
        for _ in schema:  # drops the schema
            pass


@pytest.mark.parametrize("documented", OPERATIONS, ids=lambda op: op.label)
def test_the_api_keeps_its_documented_promises(target: Target, documented: Any) -> None:
    """Every generated request: never a 500, and the answer matches the document."""
    operation = target.schema[documented.path][documented.method.upper()]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(
            headers=dict(target.headers), excluded_checks=[positive_data_acceptance]
        )

    check()
