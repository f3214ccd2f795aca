"""Input no route can use (NUL bytes, lone surrogates, non-ASCII digits, deep or oversized
JSON) is refused at every door with a 400 (JSON under /api, a Danish page or the form
again elsewhere), never a 500, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from phoneservice.web.inputs import MAX_CONTENT_LENGTH, MAX_JSON_DEPTH
from tests.staff import add_user, csrf_token, login
from tests.web.test_api_callbacks import token
from tests.web.test_web_callbacks import World, make_world

UNREADABLE = "Formularen eller adressen indeholder tegn, der ikke kan gemmes."
MINUTES_NOTICE = "Skriv antallet af minutter som et helt tal, højst et år."


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    yield from make_world(database_url)


def nested(depth: int) -> str:
    """A JSON cancel body whose ``pad`` member is ``depth`` arrays deep."""
    return '{"reason": "dublet", "pad": ' + "[" * depth + "]" * depth + "}"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ('{"reason": "dub\\u0000let"}', 400),
        ('{"reason": "dub\\ud800let"}', 400),
        ('{"reason": "dublet", "\\udfff": 1}', 400),
        (nested(MAX_JSON_DEPTH + 1), 400),
        (nested(20_000), 400),
        ('{"reason": "dublet", "pad": "' + "x" * MAX_CONTENT_LENGTH + '"}', 413),
    ],
    ids=["nul", "lone-surrogate", "surrogate-name", "deep", "recursion-bomb", "oversized"],
)
def test_api_json_bodies_that_cannot_be_stored_are_a_json_400(world, body, status):
    path = f"/api/v1/callbacks/{world.ids['late']}/cancel"
    answer = world.client().post(
        path, data=body, content_type="application/json", headers=token(world)
    )
    assert answer.status_code == status
    error = "bad_request" if status == 400 else "request_entity_too_large"
    assert answer.is_json and answer.get_json()["error"] == error
    assert "dublet" not in answer.get_data(as_text=True)  # the input is never echoed
    assert world.task("late").state != "cancelled"


@pytest.mark.parametrize("field", ["username", "password", "next"])
def test_a_nul_in_the_login_form_is_a_danish_400(world, field):
    add_user(world.url, world.queue.clock, "anne", "agent", "jobcenter")
    client = world.client()
    form = {"username": "anne", "password": "x", "next": "/", "csrf_token": csrf_token(client)}
    answer = client.post("/login", data={**form, field: form[field] + "\x00"})
    assert answer.status_code == 400
    assert UNREADABLE in answer.get_data(as_text=True)


@pytest.mark.parametrize(
    ("form", "status", "text"),
    [
        ({"minutes": "²"}, 302, MINUTES_NOTICE),
        ({"minutes": "١٢"}, 302, MINUTES_NOTICE),
        ({"minutes": "３０"}, 302, MINUTES_NOTICE),
        ({"reason": "Brand\x00alarm"}, 400, UNREADABLE),
    ],
    ids=["superscript-two", "arabic-indic-digits", "fullwidth-digits", "nul-in-reason"],
)
def test_the_admin_override_form_refuses_what_it_cannot_read(world, form, status, text):
    add_user(world.url, world.queue.clock, "ida", "admin")
    client = world.client()
    assert login(client, "ida") == 302
    fields = {"unit": "borgerservice", "action": "close", "until": "minutes", "minutes": "30"}
    token_field = {"csrf_token": csrf_token(client, "/admin")}
    data = {**fields, "reason": "Brandalarm", **form, **token_field}
    answer = client.post("/admin/overrides", data=data)
    assert answer.status_code == status
    shown = client.get("/admin") if status == 302 else answer  # refused forms come back
    assert text in shown.get_data(as_text=True)
    assert world.app.test_client().get("/api/v1/units/borgerservice/open.txt").data == b"open"


@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("ida", "/admin?actor=ida%00"),
        ("token", "/api/v1/callbacks?unit=jobcenter%00"),
        ("anne", "/?q=%00"),
    ],
    ids=["admin-actor", "api-unit", "board-search"],
)
def test_a_nul_in_a_query_string_is_a_400(world, who, path):
    if who == "ida":
        add_user(world.url, world.queue.clock, "ida", "admin")
    client = world.client(None if who in ("ida", "token") else who)
    if who == "ida":
        assert login(client, "ida") == 302
    headers = token(world) if who == "token" else {}
    answer = client.get(path, headers=headers)
    assert answer.status_code == 400
    if path.startswith("/api/"):
        assert answer.get_json()["error"] == "bad_request"
    else:
        assert UNREADABLE in answer.get_data(as_text=True)
