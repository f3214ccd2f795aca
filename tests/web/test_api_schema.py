"""Schemathesis against ``/api/v1/openapi.json``: generated requests, no 500, answers as documented.

Bounded: 25 examples per operation, so the run takes seconds, not minutes. A request the
document allows may still be refused with a documented 400 (a 30 February, a year outside
the engine's range): the check that every schema-valid request is accepted is left out,
every other check runs. The
authenticated routes are called with a token that has every scope, on a throwaway
SQLite database.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from phoneservice.registry import load_registry
from phoneservice.services.tokens import SCOPES
from phoneservice.storage.migrate import upgrade
from tests.conftest import SHIPPED_CONFIG, TODAY
from tests.staff import staff_app, tokens

NOW = datetime(2026, 11, 23, 11, 30, tzinfo=UTC)
TOKEN: dict[str, str] = {}


def clock() -> datetime:
    return NOW


def _app_and_schema() -> tuple[object, object]:
    """The app on a throwaway database, and its own OpenAPI document loaded through it."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="phoneservice-schema-"))
    url = f"sqlite:///{folder / 'db.sqlite3'}"
    upgrade(url)
    _, secret = tokens(url, clock).issue_token("schemathesis", SCOPES, actor="test")
    TOKEN["Authorization"] = f"Bearer {secret}"
    app = staff_app(url, load_registry(SHIPPED_CONFIG, TODAY), clock)
    return app, schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


pytestmark = pytest.mark.slow
APP, SCHEMA = _app_and_schema()
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]  # type: ignore[attr-defined]


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.label)
def test_the_api_keeps_its_documented_promises(operation) -> None:
    """Every generated request: never a 500, and the answer matches the document."""

    @given(case=operation.as_strategy())
    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=dict(TOKEN), excluded_checks=[positive_data_acceptance])

    check()
