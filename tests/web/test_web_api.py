"""The JSON API, health checks and OpenAPI document, through the app built by its factory."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import icalendar
import pytest
from flask import Flask
from flask.testing import FlaskClient

from phoneservice.registry import ConfigError, Registry
from phoneservice.settings import Settings
from phoneservice.web import create_app
from phoneservice.web.openapi.document import document
from tests.conftest import BORGERSERVICE, FIXED_NOW, ROOT, SHIPPED_CONFIG, registry_from

API = "/api/v1"
BS = f"{API}/units/borgerservice"
MONDAY_1300 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # Copenhagen 13:00, hours 10-14


def app_for(registry: Registry, now: datetime = FIXED_NOW, **settings: Any) -> Flask:
    """The app over ``registry`` with the clock stopped at ``now``."""
    return create_app(Settings(**settings), registry=registry, clock=lambda: now)


@pytest.fixture(scope="module")
def plain() -> Registry:
    """Borgerservice without the Christmas closures, as in the SPEC's status example."""
    return registry_from(BORGERSERVICE, closures=False)


@pytest.fixture(scope="module")
def client(plain: Registry) -> FlaskClient:
    """A test client at Monday 2026-11-23 13:00 Copenhagen."""
    return app_for(plain).test_client()


# --- a small OpenAPI schema check (jsonschema is not a dependency) ---------------------

DOC = document()
_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "null": lambda v: v is None,
}


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    """Follow a local ``$ref``."""
    while "$ref" in schema:
        node: Any = DOC
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def check(value: Any, schema: dict[str, Any], where: str = "$") -> None:
    """Assert that ``value`` matches the subset of JSON Schema the document uses."""
    schema = resolve(schema)
    for part in schema.get("allOf", []):
        check(value, part, where)
    types = schema.get("type")
    if types is not None:
        names = [types] if isinstance(types, str) else types
        assert any(_TYPES[t](value) for t in names), f"{where}: {value!r} is not {types}"
    if "enum" in schema:
        assert value in schema["enum"], f"{where}: {value!r} not in {schema['enum']}"
    if isinstance(value, str) and "pattern" in schema:
        assert re.search(schema["pattern"], value), f"{where}: {value!r} !~ {schema['pattern']}"
    if isinstance(value, dict):
        missing = set(schema.get("required", [])) - set(value)
        assert not missing, f"{where}: missing {sorted(missing)}"
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                check(value[key], sub, f"{where}.{key}")
    if isinstance(value, list) and "items" in schema:
        for n, item in enumerate(value):
            check(item, schema["items"], f"{where}[{n}]")


def template_of(path: str) -> str:
    """The OpenAPI path template that ``path`` matches."""
    for template in DOC["paths"]:
        pattern = re.sub(r"\\{[a-z_]+\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path):
            return str(template)
    raise AssertionError(f"{path} is not in the OpenAPI document")


def conforms(url: str, response: Any) -> None:
    """Assert that a response matches what the document declares for its path and status."""
    operation = DOC["paths"][template_of(url.split("?")[0])]["get"]
    declared = operation["responses"][str(response.status_code)]
    media = response.mimetype
    assert media in declared["content"], f"{url}: {media} not declared"
    schema = declared["content"][media]["schema"]
    if media.endswith("json"):
        check(json.loads(response.get_data(as_text=True)), schema)
    else:
        check(response.get_data(as_text=True), schema)


# --- happy paths with exact shapes ------------------------------------------------------

UNIT = {
    "id": "borgerservice",
    "name": "Borgerservice",
    "kind": "centre",
    "phone": "+45 56 57 57 57",
    "menu": None,
    "email": None,
    "url": None,
    "notes": None,
    "after_hours": None,
    "tags": [],
    "queues": ["borgerservice"],
    "dids": ["70101010"],
    "calendar": "municipal",
    "verified": None,
    "transfer": None,
}
CHRISTMAS_EVE = {  # SPEC §8's example, plus the override field added since
    "id": "borgerservice",
    "name": "Borgerservice",
    "kind": "centre",
    "open": False,
    "reason": "Juleaftensdag",
    "closes_at": None,
    "next_open": "2026-12-28T10:00:00+01:00",
    "override": None,
}
OPEN_NOW = {
    **CHRISTMAS_EVE,
    "open": True,
    "reason": "telefontid",
    "closes_at": "2026-11-23T14:00:00+01:00",
    "next_open": None,
}
HAPPY = [
    ("status-at", f"{API}/status?at=2026-12-24T10:00", [CHRISTMAS_EVE]),
    ("status-at-utc", f"{API}/status?at=2026-12-24T09:00Z", [CHRISTMAS_EVE]),
    ("status-at-offset", f"{API}/status?at=2026-12-24T10:00%2B01:00", [CHRISTMAS_EVE]),
    ("status-at-raw-plus", f"{API}/status?at=2026-12-24T10:00:00+01:00", [CHRISTMAS_EVE]),
    ("status-at-space", f"{API}/status?at=2026-12-24 10:00", [CHRISTMAS_EVE]),
    ("status-now", f"{API}/status", [OPEN_NOW]),
    ("status-ignores-unknown", f"{API}/status?at=2026-12-24T10:00&x=1", [CHRISTMAS_EVE]),
    ("units", f"{API}/units", [UNIT]),
    ("unit", BS, {**UNIT, "status": OPEN_NOW}),
    ("unit-status", f"{BS}/status?at=2026-12-24T10:00", CHRISTMAS_EVE),
    ("unit-status-now", f"{BS}/status", OPEN_NOW),
    (
        "hours",
        f"{BS}/hours?from=2026-12-23&days=3",
        [
            {"date": "2026-12-23", "intervals": ["10:00-14:00"], "reason": "telefontid"},
            {"date": "2026-12-24", "intervals": [], "reason": "Juleaftensdag"},
            {"date": "2026-12-25", "intervals": [], "reason": "Juledag"},
        ],
    ),
    (
        "deadline",  # SPEC §8's example: Ascension and the day after are not working days
        f"{BS}/deadline?at=2026-05-13T14:00",
        {
            "unit": "borgerservice",
            "received_at": "2026-05-13T14:00:00+02:00",
            "due_at": "2026-05-18T15:00:00+02:00",
        },
    ),
]


@pytest.mark.parametrize(("url", "expected"), [h[1:] for h in HAPPY], ids=[h[0] for h in HAPPY])
def test_json_routes_answer_the_exact_shapes(client: FlaskClient, url: str, expected: Any) -> None:
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == expected
    conforms(url, response)


def test_hours_default_to_seven_days_from_today(client: FlaskClient) -> None:
    days = client.get(f"{BS}/hours").get_json()
    assert [d["date"] for d in days] == [f"2026-11-{n}" for n in range(23, 30)]


@pytest.mark.parametrize("days", ["1", "366", "007"], ids=["least", "most", "leading-zeros"])
def test_hours_take_any_count_in_range(client: FlaskClient, days: str) -> None:
    response = client.get(f"{BS}/hours?from=2026-01-01&days={days}")
    assert response.status_code == 200
    assert len(response.get_json()) == int(days)


@pytest.mark.parametrize(
    "at",
    [
        "2026-03-29T02:30",
        "2026-10-25T02:30",
        "2026-12-24T10:00%2B14:00",
        "1900-01-01",
        "2199-12-31T23:59",
    ],
    ids=["spring-gap", "autumn-fold", "far-offset", "first-year", "last-year"],
)
def test_edge_times_are_answered(client: FlaskClient, at: str) -> None:
    assert client.get(f"{BS}/status?at={at}").status_code == 200


OPEN_TXT = [
    ("monday-13:00", MONDAY_1300, "open"),
    ("monday-09:59", datetime(2026, 11, 23, 8, 59, tzinfo=UTC), "closed"),
    ("monday-14:00", datetime(2026, 11, 23, 13, 0, tzinfo=UTC), "closed"),
    ("thursday-16:30", datetime(2026, 11, 26, 15, 30, tzinfo=UTC), "open"),
    ("saturday", datetime(2026, 11, 28, 11, 0, tzinfo=UTC), "closed"),
    ("christmas-eve", datetime(2026, 12, 24, 9, 0, tzinfo=UTC), "closed"),
]


@pytest.mark.parametrize(("now", "text"), [o[1:] for o in OPEN_TXT], ids=[o[0] for o in OPEN_TXT])
def test_open_txt_says_open_or_closed(plain: Registry, now: datetime, text: str) -> None:
    response = app_for(plain, now).test_client().get(f"{BS}/open.txt")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == text
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"


def test_calendar_ics_is_icalendar_with_events(client: FlaskClient) -> None:
    response = client.get(f"{BS}/calendar.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = icalendar.Calendar.from_ical(response.get_data(as_text=True))
    events = calendar.walk("VEVENT")
    assert events
    assert str(events[0]["UID"]) == "borgerservice-20261123-1000@phoneservice"
    conforms(f"{BS}/calendar.ics", response)


def test_jsonld_is_a_contact_point(client: FlaskClient) -> None:
    response = client.get(f"{BS}/jsonld")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/ld+json; charset=utf-8"
    data = json.loads(response.get_data(as_text=True))
    assert data["@type"] == "ContactPoint"
    assert data["identifier"] == "borgerservice"
    conforms(f"{BS}/jsonld", response)


def test_every_route_answers_for_every_shipped_unit(shipped: Registry) -> None:
    client = app_for(shipped).test_client()
    status = client.get(f"{API}/status")
    assert len(status.get_json()) == len(shipped.units)
    conforms(f"{API}/status", status)
    conforms(f"{API}/units", client.get(f"{API}/units"))
    for unit_id in shipped.units:
        base = f"{API}/units/{unit_id}"
        for url in (base, f"{base}/status", f"{base}/hours?days=31", f"{base}/open.txt"):
            response = client.get(url)
            assert response.status_code == 200, url
            conforms(url, response)
        url = f"{base}/deadline?at=2026-12-23T16:00"
        conforms(url, client.get(url))
        assert client.get(f"{base}/calendar.ics").status_code == 200
        assert client.get(f"{base}/jsonld").status_code == 200


# --- errors ------------------------------------------------------------------------------

BAD = [
    ("at-word", f"{API}/status?at=tomorrow", "at"),
    ("at-empty", f"{API}/status?at=", "at"),
    ("at-month-13", f"{BS}/status?at=2026-13-01T10:00", "at"),
    ("at-hour-25", f"{BS}/status?at=2026-12-24T25:00", "at"),
    ("at-bad-offset", f"{BS}/status?at=2026-12-24T10:00%2B25:00", "at"),
    ("at-year-9999", f"{API}/status?at=9999-12-31T23:59", "at"),
    ("at-year-1", f"{BS}/status?at=0001-01-01T00:00", "at"),
    ("from-feb-30", f"{BS}/hours?from=2026-02-30", "from"),
    ("from-danish-order", f"{BS}/hours?from=24-12-2026", "from"),
    ("from-a-time", f"{BS}/hours?from=2026-12-24T10:00", "from"),
    ("from-year-9999", f"{BS}/hours?from=9999-12-25&days=366", "from"),
    ("days-0", f"{BS}/hours?days=0", "days"),
    ("days-abc", f"{BS}/hours?days=abc", "days"),
    ("days-9999", f"{BS}/hours?days=9999", "days"),
    ("days-367", f"{BS}/hours?days=367", "days"),
    ("days-negative", f"{BS}/hours?days=-1", "days"),
    ("days-fraction", f"{BS}/hours?days=1.5", "days"),
    ("days-empty", f"{BS}/hours?days=", "days"),
    ("days-fullwidth", f"{BS}/hours?days=%EF%BC%93", "days"),
    ("days-huge", f"{BS}/hours?days=" + "9" * 5000, "days"),
    ("deadline-no-at", f"{BS}/deadline", "at"),
    ("deadline-bad-at", f"{BS}/deadline?at=2026-05-13T14h", "at"),
    ("deadline-empty-at", f"{BS}/deadline?at=", "at"),
]


@pytest.mark.parametrize(("url", "name"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_parameters_are_400_with_a_json_body(client: FlaskClient, url: str, name: str) -> None:
    response = client.get(url)
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "bad_request"
    assert body["detail"].startswith(f"{name}: ")
    conforms(url, response)


NOT_FOUND = [
    ("unknown-unit", f"{API}/units/nope", "unknown_unit"),
    ("unknown-unit-status", f"{API}/units/nope/status?at=bad", "unknown_unit"),
    ("unknown-unit-hours", f"{API}/units/nope/hours?days=0", "unknown_unit"),
    ("unknown-unit-deadline", f"{API}/units/nope/deadline", "unknown_unit"),
    ("unknown-unit-open", f"{API}/units/nope/open.txt", "unknown_unit"),
    ("unknown-unit-ics", f"{API}/units/nope/calendar.ics", "unknown_unit"),
    ("unknown-unit-jsonld", f"{API}/units/nope/jsonld", "unknown_unit"),
    ("upper-case-id", f"{API}/units/Borgerservice", "unknown_unit"),
    ("underscore-id", f"{API}/units/borger_service/hours", "unknown_unit"),
    ("dotted-id", f"{API}/units/borgerservice.txt", "unknown_unit"),
    ("unknown-route", f"{API}/nothing", "not_found"),
    ("unknown-version", "/api/v2/status", "not_found"),
    ("unknown-sub-route", f"{BS}/extra", "not_found"),
    ("trailing-path", f"{BS}/status/more", "not_found"),
]


@pytest.mark.parametrize(
    ("url", "error"), [n[1:] for n in NOT_FOUND], ids=[n[0] for n in NOT_FOUND]
)
def test_unknown_units_and_routes_are_404_json(client: FlaskClient, url: str, error: str) -> None:
    response = client.get(url)
    assert response.status_code == 404
    assert response.mimetype == "application/json"
    assert response.get_json()["error"] == error
    if error == "unknown_unit" and url != f"{API}/units/borgerservice.txt":
        conforms(url, response)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize("url", [f"{API}/status", BS, f"{BS}/open.txt", f"{API}/openapi.json"])
def test_other_methods_are_405_json(client: FlaskClient, method: str, url: str) -> None:
    response = client.open(url, method=method)
    assert response.status_code == 405
    assert response.get_json()["error"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]


def test_a_failure_is_500_json_without_a_traceback(plain: Registry) -> None:
    app = app_for(plain)

    def broken() -> str:
        raise RuntimeError("secret internals")

    app.add_url_rule(f"{API}/broken", view_func=broken)
    response = app.test_client().get(f"{API}/broken")
    assert response.status_code == 500
    assert response.get_json() == {
        "error": "internal_error",
        "detail": "the server failed; the error is logged",
    }
    assert b"Traceback" not in response.data
    assert b"secret" not in response.data


# --- headers -----------------------------------------------------------------------------

ROUTES = [
    f"{API}/status",
    f"{API}/units",
    BS,
    f"{BS}/status",
    f"{BS}/hours",
    f"{BS}/deadline?at=2026-05-13T14:00",
    f"{BS}/open.txt",
    f"{BS}/calendar.ics",
    f"{BS}/jsonld",
    f"{API}/openapi.json",
    f"{API}/units/nope",
    f"{BS}/hours?days=0",
    "/healthz",
    "/readyz",
]


@pytest.mark.parametrize("url", ROUTES)
def test_api_responses_carry_security_headers(client: FlaskClient, url: str) -> None:
    headers = client.get(url).headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Security-Policy"].startswith("default-src 'none'")


@pytest.mark.parametrize(
    "url", [f"{API}/status", BS, f"{BS}/status", f"{BS}/open.txt", "/healthz", "/readyz"]
)
def test_live_answers_are_not_cached(client: FlaskClient, url: str) -> None:
    assert client.get(url).headers["Cache-Control"] == "no-store"


# --- the OpenAPI document ----------------------------------------------------------------


def test_openapi_is_json_and_describes_every_route(client: FlaskClient) -> None:
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    served = json.loads(response.get_data(as_text=True))
    assert served == DOC
    assert served["openapi"] == "3.1.0"
    app_paths = {
        re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for rule in client.application.url_map.iter_rules()
        if rule.rule.startswith(API)
    }
    assert app_paths == set(served["paths"])


def test_openapi_refs_resolve_and_parameters_are_declared() -> None:
    text = json.dumps(DOC)
    for ref in set(re.findall(r'"\$ref": "([^"]+)"', text)):
        assert resolve({"$ref": ref})
    for template, item in DOC["paths"].items():
        for method, operation in item.items():
            params = [resolve(p) for p in operation["parameters"]]
            in_path = {p["name"] for p in params if p["in"] == "path"}
            assert in_path == set(re.findall(r"\{(\w+)\}", template)), (method, template)


# --- health ------------------------------------------------------------------------------


def test_healthz(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert (response.status_code, response.get_json()) == (200, {"status": "ok"})


@pytest.fixture
def details(monkeypatch: pytest.MonkeyPatch) -> None:
    """``/readyz`` shows its details as to a monitoring token (one needs a database)."""
    from phoneservice.web.ops import health

    monkeypatch.setattr(health, "details_allowed", lambda: True)


def test_readyz_without_a_database(shipped: Registry, details: None) -> None:
    response = app_for(shipped).test_client().get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert {key: body[key] for key in ("ready", "config", "database")} == {
        "ready": True,
        "config": {"loaded": True, "path": str(SHIPPED_CONFIG), "units": len(shipped.units)},
        "database": {"configured": False, "ok": None},
    }
    # registry reload state and AMI state: tests/registry/test_reload.py, tests/web/test_metrics.py
    assert not body["degraded"] and body["registry"]["ok"]
    assert body["ami"] == {"ok": None, "pbx": []}


def test_readyz_with_a_database_that_answers(
    plain: Registry, tmp_path: Path, details: None
) -> None:
    url = f"sqlite:///{tmp_path / 'ready.sqlite3'}"
    response = app_for(plain, database_url=url).test_client().get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["database"] == {"configured": True, "ok": True}


def test_readyz_with_a_database_that_does_not(
    plain: Registry, tmp_path: Path, details: None
) -> None:
    url = f"sqlite:///{tmp_path / 'missing' / 'folder' / 'db.sqlite3'}"
    response = app_for(plain, database_url=url).test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["ready"] is False
    assert body["database"]["ok"] is False
    assert "missing" not in response.get_data(as_text=True)  # no URL or path leaks


def test_readyz_tells_an_anonymous_caller_only_ready_and_degraded(
    shipped: Registry, tmp_path: Path
) -> None:
    response = app_for(shipped).test_client().get("/readyz")
    assert (response.status_code, response.get_json()) == (
        200,
        {"ready": True, "degraded": False},
    )
    missing = f"sqlite:///{tmp_path / 'missing' / 'folder' / 'db.sqlite3'}"
    response = app_for(shipped, database_url=missing).test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"ready": False, "degraded": False}


def test_readyz_shows_paths_host_and_pid_only_with_the_monitoring_scope(
    shipped: Registry, database_url: str
) -> None:
    from phoneservice.domain.pbx_state import PbxState
    from phoneservice.services.monitoring import PbxStateService
    from phoneservice.storage.engine import create_engine_for, session_factory
    from tests.staff import add_user, login, tokens

    states = PbxStateService(session_factory(create_engine_for(database_url)))
    states.save(PbxState("pbx-a", True, 0, FIXED_NOW, FIXED_NOW, "worker-host:4242"))
    issued = tokens(database_url, lambda: FIXED_NOW)
    _, monitor = issued.issue_token("prometheus", ["monitoring"], actor="test")
    _, reader = issued.issue_token("board", ["read-status"], actor="test")
    app = app_for(shipped, database_url=database_url, cookie_secure=False)
    client = app.test_client()

    def readyz(**headers: str) -> str:
        response = client.get("/readyz", headers=headers)
        assert response.status_code == 200
        return response.get_data(as_text=True)

    for token in ("", f"Bearer {reader}", "Bearer psk_nope"):
        assert json.loads(readyz(Authorization=token)) == {"ready": True, "degraded": False}
    shown = readyz(Authorization=f"Bearer {monitor}")
    assert str(SHIPPED_CONFIG) in shown and "worker-host:4242" in shown
    assert json.loads(shown)["database"] == {"configured": True, "ok": True}
    add_user(database_url, lambda: FIXED_NOW, "root", "admin")
    add_user(database_url, lambda: FIXED_NOW, "anne", "agent", "borgerservice")
    agent, admin = app.test_client(), app.test_client()
    assert login(agent, "anne") == 302 and login(admin, "root") == 302
    assert "worker-host" not in agent.get("/readyz").get_data(as_text=True)
    assert "worker-host:4242" in admin.get("/readyz").get_data(as_text=True)


# --- the factory -------------------------------------------------------------------------


def test_the_factory_loads_the_configured_registry() -> None:
    app = create_app(Settings(config=str(SHIPPED_CONFIG)), clock=lambda: FIXED_NOW)
    response = app.test_client().get(f"{API}/units")
    assert response.status_code == 200
    assert len(response.get_json()) >= 1


def test_the_factory_raises_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[registry]\nname = \n", encoding="utf-8")
    with pytest.raises(ConfigError):
        create_app(Settings(config=str(bad)), clock=lambda: FIXED_NOW)


@pytest.mark.slow
def test_importing_the_web_package_builds_nothing() -> None:
    code = (
        "import gc, flask\n"
        "import phoneservice.web, phoneservice.web.board.api, phoneservice.web.errors\n"
        "import phoneservice.web.ops.health, phoneservice.web.openapi.document\n"
        "assert not [o for o in gc.get_objects() if isinstance(o, flask.Flask)]\n"
    )
    env = {"PHONESERVICE_LOG_FORMAT": "invalid", "PATH": ""}  # settings read at import fail
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
