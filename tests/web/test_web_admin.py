"""``/admin`` and ``/api/v1/overrides`` through the app built by its factory, on SQLite and
PostgreSQL: rights, CSRF, forms, the token shown once, and the PBX's ``open.txt``."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from phoneservice.registry import Registry
from phoneservice.services.tokens import TokenService
from tests.conftest import Clock, at
from tests.staff import PASSWORD, accounts, add_user, audit, csrf_token, login, staff_app, tokens

BS_OPEN = "/api/v1/units/borgerservice/open.txt"
SECRET = re.compile(r'id="token-secret" class="secret" value="(psk_[^"]+)"')


@pytest.fixture
def clock() -> Clock:
    return Clock(at("2026-11-23T11:00"))  # Monday: Borgerservice open 10-14


@pytest.fixture
def app(database_url: str, shipped: Registry, clock: Clock) -> Flask:
    return staff_app(database_url, shipped, clock)


@pytest.fixture
def token_service(database_url: str, clock: Clock) -> TokenService:
    return tokens(database_url, clock)


@pytest.fixture
def admin(app: Flask, database_url: str, clock: Clock) -> FlaskClient:
    """A client signed in as the admin ``ida``."""
    add_user(database_url, clock, "ida", "admin")
    client = app.test_client()
    assert login(client, "ida") == 302
    return client


def post(client: FlaskClient, path: str, **form: Any) -> Any:
    """A form POST with the page's CSRF token."""
    return client.post(path, data={"csrf_token": csrf_token(client, "/admin"), **form})


def page(client: FlaskClient, path: str = "/admin") -> str:
    answer = client.get(path)
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def close_borgerservice(client: FlaskClient, **form: str) -> Any:
    """Close Borgerservice through the admin form (30 minutes unless told otherwise)."""
    fields = {"unit": "borgerservice", "action": "close", "until": "minutes", "minutes": "30"}
    return post(client, "/admin/overrides", **{**fields, "reason": "Brandalarm", **form})


# --- who may ------------------------------------------------------------------------------


def test_admin_needs_a_sign_in(app):
    answer = app.test_client().get("/admin")
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/login?next=/admin")


@pytest.mark.parametrize("role", ["viewer", "agent"])
def test_admin_is_403_for_other_roles(app, database_url, clock, role):
    add_user(database_url, clock, "bo", role, "borgerservice")
    client = app.test_client()
    login(client, "bo")
    assert client.get("/admin").status_code == 403
    refused = client.post("/admin/overrides", data={"csrf_token": csrf_token(client, "/")})
    assert refused.status_code == 403
    assert "Administration" not in page(client, "/")


def test_the_admin_page_has_the_five_sections_and_the_nav_link(admin):
    html = page(admin)
    for anchor in ("overrides", "freshness", "users", "tokens", "audit"):
        assert f'id="{anchor}"' in html
    assert 'href="/admin"' in page(admin, "/")
    assert " style=" not in html and "<script>" not in html
    assert html.count('name="csrf_token"') == html.count('method="post"') >= 4


def test_a_form_without_its_token_is_refused(admin, database_url, clock):
    answer = admin.post("/admin/users", data={"username": "bo", "password": PASSWORD})
    assert answer.status_code == 400
    assert "Formularen er udløbet" in answer.get_data(as_text=True)
    assert [u.username for u in accounts(database_url, clock).users()] == ["ida"]


# --- overrides through the forms ---------------------------------------------------------


def test_closing_through_the_form_reaches_open_txt_the_board_and_the_api(admin, app, clock):
    public = app.test_client()
    assert public.get(BS_OPEN).get_data(as_text=True) == "open"
    answer = close_borgerservice(admin)
    assert answer.status_code == 302 and answer.headers["Location"] == "/admin#overrides"
    assert "Borgerservice er nu lukket til kl. 11:30." in page(admin)
    assert public.get(BS_OPEN).get_data(as_text=True) == "closed"
    row = re.search(r'<tr id="unit-borgerservice".*?</tr>', page(public, "/"), re.S)
    assert row and "is-overridden" in row.group(0)
    assert "Manuelt lukket til kl. 11:30: Brandalarm" in row.group(0)
    assert "Manuelt lukket til kl. 11:30: Brandalarm" in page(public, "/units/borgerservice")
    status = public.get("/api/v1/units/borgerservice/status").get_json()
    assert status["open"] is False and status["override"]["reason"] == "Brandalarm"
    clock.advance(minutes=30)
    assert public.get(BS_OPEN).get_data(as_text=True) == "open"
    assert "is-overridden" not in page(public, "/")


@pytest.mark.parametrize(
    ("form", "until"),
    [
        ({"until": "next"}, "kl. 14:00"),
        ({"until": "time", "time": "13:15"}, "kl. 13:15"),
        ({"until": "time", "time": "09:00"}, "i morgen kl. 09:00"),
    ],
    ids=["next-change", "clock-time-today", "clock-time-passed-means-tomorrow"],
)
def test_the_three_ends_of_the_form(admin, form, until):
    close_borgerservice(admin, **form)
    assert f"Borgerservice er nu lukket til {until}." in page(admin)


def test_opening_outside_hours_through_the_form(admin, app, clock):
    clock.now = at("2026-11-23T18:00")
    assert login(admin, "ida") == 302  # seven idle hours ended the morning's session
    public = app.test_client()
    assert public.get(BS_OPEN).get_data(as_text=True) == "closed"
    close_borgerservice(admin, action="open", reason="Stormberedskab", minutes="60")
    assert "Borgerservice har nu åbent til kl. 19:00." in page(admin)
    assert public.get(BS_OPEN).get_data(as_text=True) == "open"


def test_ending_an_override_now(admin, app, database_url, clock):
    close_borgerservice(admin)
    html = page(admin)
    end = re.search(r'action="(/admin/overrides/\d+/end)"', html)
    assert end and "Afslut nu" in html
    clock.advance(minutes=5)
    assert post(admin, end.group(1)).status_code == 302
    html = page(admin)
    assert "Ændringen for Borgerservice er afsluttet." in html
    assert "Ingen manuelle ændringer gælder nu." in html
    assert app.test_client().get(BS_OPEN).get_data(as_text=True) == "open"
    assert post(admin, end.group(1)).status_code == 302
    assert "Ændringen er allerede afsluttet." in page(admin)
    actions = [(e.action, e.actor) for e in audit(database_url, clock).audit_log()]
    assert ("override.create", "ida") in actions and ("override.end", "ida") in actions


@pytest.mark.parametrize(
    ("form", "notice"),
    [
        ({"reason": " "}, "Skriv en begrundelse."),
        ({"reason": "x" * 201}, "Begrundelsen må højst have 200 tegn."),
        ({"unit": "atlantis"}, "Vælg en enhed fra listen."),
        ({"unit": ""}, "Vælg en enhed fra listen."),
        ({"minutes": "abc"}, "Skriv antallet af minutter som et helt tal, højst et år."),
        ({"minutes": "99999999999999999999"}, "Skriv antallet af minutter"),
        ({"until": "time", "time": "25:00"}, "Skriv klokkeslættet som TT:MM"),
        ({"until": "someday"}, "Vælg, hvornår ændringen skal slutte."),
        ({"until": "next", "action": "open"}, "Enheden har allerede åbent nu."),
    ],
    ids=[
        "blank-reason",
        "long-reason",
        "unknown-unit",
        "no-unit",
        "minutes-not-a-number",
        "minutes-huge",
        "bad-time",
        "no-end",
        "open-an-open-unit",
    ],
)
def test_bad_override_forms_say_why_in_danish(admin, app, form, notice):
    answer = close_borgerservice(admin, **form)
    assert answer.status_code == 302
    html = page(admin)
    assert notice in html and 'class="alert"' in html
    assert app.test_client().get(BS_OPEN).get_data(as_text=True) == "open"


def test_ending_an_unknown_override_is_a_notice_not_an_error(admin):
    for path in ("/admin/overrides/999/end", f"/admin/overrides/{2**40}/end"):
        assert post(admin, path).status_code == 302
        assert "Ændringen findes ikke." in page(admin)


# --- users --------------------------------------------------------------------------------


def test_adding_changing_and_disabling_a_user(admin, app, database_url, clock):
    form = {"username": "bo", "display_name": "Bo Berg", "role": "agent"}
    answer = post(
        admin, "/admin/users", **form, units="jobcenter, borgerservice", password=PASSWORD
    )
    assert answer.headers["Location"] == "/admin#users"
    assert "Brugeren bo er oprettet." in page(admin)
    user_page = page(admin, "/admin/users/bo")
    assert 'value="borgerservice jobcenter"' in user_page
    post(admin, "/admin/users/bo", role="viewer", units="", active="on")
    (bo,) = [u for u in accounts(database_url, clock).users() if u.username == "bo"]
    assert (bo.role, bo.units, bo.active) == ("viewer", frozenset(), True)
    post(admin, "/admin/users/bo/password", password="a brand new password")
    bo_client = app.test_client()
    assert login(bo_client, "bo", "a brand new password") == 302
    post(admin, "/admin/users/bo", role="viewer", units="")  # no "active": disabled
    assert login(app.test_client(), "bo", "a brand new password") == 401
    actions = [e.action for e in audit(database_url, clock).audit_log(actor="ida")]
    assert {"user.add", "user.update", "user.passwd"} <= set(actions)


@pytest.mark.parametrize(
    ("form", "notice"),
    [
        ({"username": "ida"}, "Brugernavnet findes allerede."),
        ({"username": "b o"}, "Brugernavnet skal have 2-64 tegn"),
        ({"password": "short"}, "Adgangskoden skal have mindst 12 tegn."),
        ({"role": "boss"}, "Vælg en rolle"),
        ({"units": "atlantis"}, "Ukendte enheder: atlantis."),
    ],
    ids=["taken", "bad-name", "short-password", "bad-role", "unknown-unit"],
)
def test_bad_user_forms_say_why(admin, form, notice):
    fields = {"username": "bo", "role": "agent", "units": "", "password": PASSWORD}
    post(admin, "/admin/users", **{**fields, **form})
    assert notice in page(admin)


@pytest.mark.parametrize("spelled", ["ida", "IDA", " Ida "], ids=["as-is", "upper", "padded"])
def test_an_admin_cannot_lock_themselves_out(admin, database_url, clock, spelled):
    post(admin, f"/admin/users/{spelled}", role="agent", units="", active="on")
    assert "Du kan ikke fjerne din egen administratorrolle" in page(admin)
    (ida,) = accounts(database_url, clock).users()
    assert ida.role == "admin"


def test_an_unknown_user_page_is_a_notice(admin):
    answer = admin.get("/admin/users/nobody")
    assert answer.status_code == 302
    assert "Brugeren findes ikke." in page(admin)
    post(admin, "/admin/users/nobody/password", password=PASSWORD)
    assert "Brugeren findes ikke." in page(admin)


# --- an agent's own phone -----------------------------------------------------------------


def _device_of(database_url: str, clock: Clock, username: str) -> str | None:
    (user,) = [u for u in accounts(database_url, clock).users() if u.username == username]
    return user.agent_device


def test_an_admin_sets_and_clears_an_agents_phone(admin, database_url, clock):
    add_user(database_url, clock, "bo", "agent", "jobcenter")
    user_page = page(admin, "/admin/users/bo")
    assert 'name="device"' in user_page and "(PJSIP|SIP)/[A-Za-z0-9_.-]{1,40}" in user_page
    post(admin, "/admin/users/bo/device", device=" PJSIP/bo ")
    assert "Brugeren bo har fået telefonen PJSIP/bo." in page(admin)
    assert 'value="PJSIP/bo"' in page(admin, "/admin/users/bo")
    assert _device_of(database_url, clock, "bo") == "PJSIP/bo"
    post(admin, "/admin/users/bo/device", device="")
    assert "Brugeren bo har ingen telefon nu." in page(admin)
    assert _device_of(database_url, clock, "bo") is None
    entries = [(e.action, e.subject, e.detail) for e in audit(database_url, clock).audit_log()]
    assert ("user.device", "bo", "device=PJSIP/bo") in entries
    assert ("user.device", "bo", "device=-") in entries


REFUSED_PHONES = [
    "Local/004790000000@outbound-trunk",  # the finding: a trunk, with the citizen as caller
    "PJSIP/bo\r\nAction: Originate",
    "DAHDI/g0/004790000000",
    "PJSIP/" + "x" * 41,
    "pjsip/bo",
]


@pytest.mark.parametrize("device", REFUSED_PHONES, ids=range(len(REFUSED_PHONES)))
def test_an_admin_cannot_set_a_phone_the_pattern_refuses(admin, database_url, clock, device):
    add_user(database_url, clock, "bo", "agent", "jobcenter")
    post(admin, "/admin/users/bo/device", device=device)
    assert "Telefonen passer ikke til registerets mønster for telefoner." in page(admin)
    assert _device_of(database_url, clock, "bo") is None
    assert "user.device" not in [e.action for e in audit(database_url, clock).audit_log()]


# --- tokens -------------------------------------------------------------------------------


def issue(admin: FlaskClient, *scopes: str, units: str = "") -> str:
    """Issue a token through the form; its secret from the result page."""
    answer = post(admin, "/admin/tokens", name="intranet", scopes=list(scopes), units=units)
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    found = SECRET.search(answer.get_data(as_text=True))
    assert found, "the secret is on the result page"
    return found.group(1)


def test_the_token_secret_is_shown_once_and_works_as_a_bearer_token(
    admin, app, database_url, clock
):
    secret = issue(admin, "read-status")
    html = page(admin)
    assert secret not in html and secret[:10] in html  # the list shows the prefix only
    api = app.test_client()
    bearer = {"Authorization": f"Bearer {secret}"}
    assert api.get("/api/v1/overrides").status_code == 401
    assert api.get("/api/v1/overrides", headers=bearer).get_json() == []
    refused = api.post("/api/v1/overrides", headers=bearer, json={"unit": "borgerservice"})
    assert refused.status_code == 403
    (token,) = tokens(database_url, clock).tokens()
    post(admin, f"/admin/tokens/{token.id}/revoke")
    assert "Nøglen er tilbagekaldt." in page(admin)
    assert api.get("/api/v1/overrides", headers=bearer).status_code == 401
    actions = [e.action for e in audit(database_url, clock).audit_log(actor="ida")]
    assert {"token.issue", "token.revoke"} <= set(actions)


def test_bad_token_forms_say_why(admin):
    post(admin, "/admin/tokens", name="crm", units="")
    assert "Vælg mindst én rettighed til nøglen." in page(admin)
    post(admin, "/admin/tokens", name=" ", scopes="read-status")
    assert "Giv nøglen et navn." in page(admin)
    post(admin, f"/admin/tokens/{2**40}/revoke")
    assert "Nøglen findes ikke." in page(admin)


def test_the_audit_log_filters_by_actor(admin, database_url, clock):
    add_user(database_url, clock, "bo", "agent", "jobcenter")
    close_borgerservice(admin)
    everyone = page(admin)
    assert "override.create" in everyone and "user.add" in everyone
    mine = page(admin, "/admin?actor=cli")
    audit = mine.split('id="audit"')[1]
    assert "user.add" in audit and "override.create" not in audit


# --- the API ------------------------------------------------------------------------------


@pytest.fixture
def api(app: Flask, token_service: TokenService) -> tuple[FlaskClient, dict[str, str]]:
    """A client and the headers of a token with every scope."""
    _, secret = token_service.issue_token("script", ["read-status", "overrides"], actor="test")
    return app.test_client(), {"Authorization": f"Bearer {secret}"}


def test_the_api_creates_lists_and_ends_overrides(api, database_url, clock):
    client, bearer = api
    body = {"unit": "borgerservice", "reason": "Systemnedbrud", "until_next_change": True}
    made = client.post("/api/v1/overrides", headers=bearer, json=body)
    assert made.status_code == 201
    record = made.get_json()
    assert record == {
        "id": record["id"],
        "unit": "borgerservice",
        "start": "2026-11-23T11:00:00+01:00",
        "end": "2026-11-23T14:00:00+01:00",
        "open": False,
        "reason": "Systemnedbrud",
        "author": "token:script",
        "ended_at": None,
        "ended_by": None,
    }
    assert made.headers["Location"] == f"/api/v1/overrides/{record['id']}"
    assert client.get(BS_OPEN).get_data(as_text=True) == "closed"
    assert client.get("/api/v1/overrides", headers=bearer).get_json() == [record]
    clock.advance(minutes=15)
    ended = client.delete(f"/api/v1/overrides/{record['id']}", headers=bearer)
    assert ended.status_code == 200
    assert ended.get_json()["end"] == ended.get_json()["ended_at"] == "2026-11-23T11:15:00+01:00"
    assert client.get(BS_OPEN).get_data(as_text=True) == "open"
    again = client.delete(f"/api/v1/overrides/{record['id']}", headers=bearer)
    assert (again.status_code, again.get_json()["error"]) == (409, "conflict")
    assert client.get("/api/v1/overrides", headers=bearer).get_json() == []
    one = client.get(f"/api/v1/overrides/{record['id']}", headers=bearer).get_json()
    assert one["ended_by"] == "token:script"
    actions = [e.action for e in audit(database_url, clock).audit_log(actor="token:script")]
    assert actions == ["override.end", "override.create"]


@pytest.mark.parametrize(
    ("body", "until"),
    [
        ({"minutes": 45}, "2026-11-23T11:45:00+01:00"),
        ({"until": "2026-11-23T13:30"}, "2026-11-23T13:30:00+01:00"),
        ({"until": "2026-11-23T12:30:00Z"}, "2026-11-23T13:30:00+01:00"),
    ],
    ids=["minutes", "local-time", "utc-time"],
)
def test_the_api_ends(api, body, until):
    client, bearer = api
    full = {"unit": "borgerservice", "reason": "Brandalarm", **body}
    assert client.post("/api/v1/overrides", headers=bearer, json=full).get_json()["end"] == until


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"reason": "x", "minutes": 5}, 400, "bad_request"),
        ({"unit": "borgerservice", "minutes": 5}, 400, "bad_request"),
        ({"unit": "borgerservice", "reason": "x"}, 400, "bad_request"),
        (
            {"unit": "borgerservice", "reason": "x", "minutes": 5, "until_next_change": True},
            400,
            "bad_request",
        ),
        ({"unit": "borgerservice", "reason": "x", "minutes": 0}, 400, "bad_request"),
        ({"unit": "borgerservice", "reason": "x", "minutes": True}, 400, "bad_request"),
        ({"unit": "borgerservice", "reason": "x", "minutes": "5"}, 400, "bad_request"),
        ({"unit": "borgerservice", "reason": "x", "until": "soon"}, 400, "bad_request"),
        ({"unit": "borgerservice", "reason": "x", "until": "2026-11-23T10:00"}, 400, "bad_request"),
        (
            {"unit": "borgerservice", "reason": "x", "until": "9999-12-31T23:59-12:00"},
            400,
            "bad_request",
        ),
        ({"unit": "borgerservice", "reason": "x" * 201, "minutes": 5}, 400, "bad_request"),
        ({"unit": "borgerservice", "reason": "x", "minutes": 5, "open": "yes"}, 400, "bad_request"),
        (
            {"unit": "borgerservice", "reason": "x", "until_next_change": True, "open": True},
            400,
            "bad_request",
        ),
        ({"unit": "atlantis", "reason": "x", "minutes": 5}, 404, "unknown_unit"),
        ({"unit": "Bad Unit!", "reason": "x", "minutes": 5}, 404, "unknown_unit"),
        ([1, 2], 400, "bad_request"),
    ],
)
def test_bad_api_requests_are_4xx_json(api, body, status, error):
    client, bearer = api
    answer = client.post("/api/v1/overrides", headers=bearer, json=body)
    assert answer.status_code == status
    assert answer.get_json()["error"] == error
    assert answer.get_json()["detail"]


def test_a_body_that_is_not_json_is_400(api):
    client, bearer = api
    answer = client.post("/api/v1/overrides", headers=bearer, data="unit=borgerservice")
    assert (answer.status_code, answer.get_json()["error"]) == (400, "bad_request")


def test_unknown_ids_are_404(api):
    client, bearer = api
    for override_id in (999, 2**40):
        assert client.delete(f"/api/v1/overrides/{override_id}", headers=bearer).status_code == 404
        assert client.get(f"/api/v1/overrides/{override_id}", headers=bearer).status_code == 404


def test_a_token_for_some_units_overrides_only_those(app, token_service):
    _, secret = token_service.issue_token("team", ["overrides"], units=["jobcenter"], actor="test")
    client, bearer = app.test_client(), {"Authorization": f"Bearer {secret}"}
    body = {"unit": "borgerservice", "reason": "x", "minutes": 5}
    assert client.post("/api/v1/overrides", headers=bearer, json=body).status_code == 403
    body["unit"] = "jobcenter"
    assert client.post("/api/v1/overrides", headers=bearer, json=body).status_code == 201


def test_a_signed_in_admin_writes_through_the_api_with_the_csrf_header(admin):
    body = {"unit": "borgerservice", "reason": "Brandalarm", "minutes": 5}
    assert admin.post("/api/v1/overrides", json=body).status_code == 400  # no X-CSRFToken
    headers = {"X-CSRFToken": csrf_token(admin, "/admin")}
    made = admin.post("/api/v1/overrides", json=body, headers=headers)
    assert (made.status_code, made.get_json()["author"]) == (201, "ida")


# --- the cache ------------------------------------------------------------------------------


def test_open_txt_with_an_override_does_not_ask_the_database_each_time(admin, app):
    """The override cache keeps the database off open.txt's path (speed is in bench/)."""
    from sqlalchemy import Engine, event

    close_borgerservice(admin)
    client = app.test_client()
    assert client.get(BS_OPEN).get_data(as_text=True) == "closed"  # warm
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        for _ in range(50):
            assert client.get(BS_OPEN).get_data(as_text=True) == "closed"
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    assert len(statements) < 5  # one read per cache period, not one per request
