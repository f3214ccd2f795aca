"""Sign-in, sessions, CSRF, the login rate limit, API tokens and the ``user`` command."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from phoneservice.cli import main
from phoneservice.registry import Registry
from phoneservice.services.accounts import AccountError, AccountService
from phoneservice.services.audit import AuditService
from phoneservice.services.tokens import TokenService
from tests.staff import PASSWORD, accounts, add_user, audit, csrf_token, login, staff_app, tokens

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def clock() -> datetime:
    return NOW


@pytest.fixture
def app(database_url: str, shipped: Registry):
    return staff_app(database_url, shipped, clock)


@pytest.fixture
def service(database_url: str) -> AccountService:
    return accounts(database_url, clock)


@pytest.fixture
def token_service(database_url: str) -> TokenService:
    return tokens(database_url, clock)


@pytest.fixture
def log(database_url: str) -> AuditService:
    return audit(database_url, clock)


def test_the_board_needs_no_login_and_offers_one(app):
    page = app.test_client().get("/").get_data(as_text=True)
    assert "Log ind" in page
    assert 'action="/logout"' not in page


def test_a_right_password_signs_in_and_the_page_names_the_user(app, database_url):
    add_user(database_url, clock, "anne", "agent", "jobcenter")
    client = app.test_client()
    assert login(client, "anne") == 302
    page = client.get("/").get_data(as_text=True)
    assert 'action="/logout"' in page
    assert ">anne<" in page


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(app, database_url):
    add_user(database_url, clock, "anne", "agent", "jobcenter")
    client = app.test_client()
    token = csrf_token(client)
    wrong = {"username": "anne", "password": "not the password", "csrf_token": token}
    answer = client.post("/login", data=wrong)
    assert answer.status_code == 401
    assert "Forkert brugernavn eller adgangskode" in answer.get_data(as_text=True)
    nobody = {"username": "nobody", "password": "not the password", "csrf_token": token}
    assert "Forkert brugernavn eller adgangskode" in client.post("/login", data=nobody).get_data(
        as_text=True
    )


def test_a_login_form_without_its_csrf_token_is_refused(app, database_url):
    add_user(database_url, clock, "anne", "agent", "jobcenter")
    answer = app.test_client().post("/login", data={"username": "anne", "password": PASSWORD})
    assert answer.status_code == 400
    assert "Formularen er udløbet" in answer.get_data(as_text=True)


def test_logout_needs_a_post_with_the_token(app, database_url):
    add_user(database_url, clock, "anne", "agent", "jobcenter")
    client = app.test_client()
    login(client, "anne")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400  # no token: a cross-site form fails
    assert client.post("/logout", data={"csrf_token": csrf_token(client, "/")}).status_code == 302
    assert 'action="/logout"' not in client.get("/").get_data(as_text=True)


def test_five_failures_lock_the_username_even_for_the_right_password(app, database_url):
    add_user(database_url, clock, "anne", "agent", "jobcenter")
    client = app.test_client()
    for _ in range(5):
        assert login(client, "anne", "wrong password!") == 401
    assert login(client, "anne") == 429
    assert login(client, "someone-else", "wrong password!") == 401  # others are not locked


def test_the_lock_lifts_after_the_window(database_url, shipped):
    moments = [NOW]
    app = staff_app(database_url, shipped, lambda: moments[-1])
    add_user(database_url, clock, "anne", "agent", "jobcenter")
    client = app.test_client()
    for _ in range(5):
        login(client, "anne", "wrong password!")
    assert login(client, "anne") == 429
    moments.append(NOW + timedelta(minutes=16))
    assert login(client, "anne") == 302


def test_next_stays_on_this_site(app, database_url):
    add_user(database_url, clock, "anne", "agent", "jobcenter")
    client = app.test_client()
    token = csrf_token(client)
    form = {"username": "anne", "password": PASSWORD, "csrf_token": token}
    away = client.post("/login?next=https://evil.example/", data=form)
    assert away.headers["Location"] == "/"
    client = app.test_client()
    form["csrf_token"] = csrf_token(client)
    home = client.post("/login?next=/units/jobcenter", data=form)
    assert home.headers["Location"] == "/units/jobcenter"


def test_the_session_cookie_is_httponly_lax_and_secure_by_default(database_url, shipped):
    from phoneservice.settings import Settings
    from phoneservice.web import create_app

    app = create_app(Settings(database_url=database_url), registry=shipped, clock=clock)
    add_user(database_url, clock, "anne", "agent", "jobcenter")
    client = app.test_client()
    token = csrf_token(client)
    answer = client.post(
        "/login",
        data={"username": "anne", "password": PASSWORD, "csrf_token": token},
        base_url="https://localhost",
    )
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "Secure" in cookie
    assert "SameSite=Lax" in cookie
    assert answer.headers["Strict-Transport-Security"].startswith("max-age=")


def test_a_disabled_user_is_signed_out_at_the_next_request(app, database_url, service):
    add_user(database_url, clock, "anne", "agent", "jobcenter")
    client = app.test_client()
    login(client, "anne")
    service.update_user("anne", role="agent", units=["jobcenter"], active=False, actor="admin")
    assert 'action="/logout"' not in client.get("/").get_data(as_text=True)
    assert login(client, "anne") == 401


def test_logins_are_in_the_audit_log(app, database_url, log):
    add_user(database_url, clock, "anne", "agent", "jobcenter")
    login(app.test_client(), "anne")
    actions = [(e.actor, e.action) for e in log.audit_log()]
    assert ("anne", "login") in actions
    assert ("cli", "user.add") in actions


def test_passwords_are_argon2_hashes(database_url, service):
    from sqlmodel import select

    from phoneservice.storage.models import UserRow

    service.add_user("anne", PASSWORD, "agent", units=["jobcenter"])
    with service.sessions() as session:
        stored = session.exec(select(UserRow)).one().password_hash
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_production_hashes_at_argon2s_default_cost_and_tests_at_the_cheapest(service):
    from argon2 import PasswordHasher

    default, cheap = PasswordHasher(), service.hasher
    production = AccountService(service.sessions, clock).hasher
    assert (production.time_cost, production.memory_cost) == (
        default.time_cost,
        default.memory_cost,
    )
    assert (cheap.time_cost, cheap.memory_cost) == (1, 8)


def test_an_unknown_user_is_refused(service):
    assert service.authenticate("nobody", PASSWORD, "10.0.0.1") is None
    assert service.authenticate("nobody", PASSWORD, "10.0.0.1") is None  # dummy hash: made once


@pytest.mark.parametrize(
    ("username", "password", "role", "message"),
    [
        ("a", PASSWORD, "agent", "username"),
        ("anne smith", PASSWORD, "agent", "username"),
        ("anne", "short", "agent", "12 characters"),
        ("anne", PASSWORD, "boss", "role 'boss'"),
    ],
)
def test_bad_accounts_are_refused_with_the_reason(service, username, password, role, message):
    with pytest.raises(AccountError, match=message):
        service.add_user(username, password, role)


def test_a_taken_username_is_refused(service):
    service.add_user("anne", PASSWORD, "agent")
    with pytest.raises(AccountError, match="exists already"):
        service.add_user("ANNE", PASSWORD, "viewer")


def test_tokens_are_shown_once_stored_hashed_and_scoped(token_service):
    from sqlmodel import select

    from phoneservice.storage.models import ApiTokenRow

    token, secret = token_service.issue_token(
        "crm", ["callbacks"], units=["jobcenter"], actor="admin"
    )
    with token_service.sessions() as session:
        row = session.exec(select(ApiTokenRow)).one()
    assert secret not in (row.token_hash, row.prefix) and secret.startswith(row.prefix)
    found = token_service.verify_token(secret)
    assert found is not None and found.allows("callbacks") and not found.allows("overrides")
    assert found.units == frozenset({"jobcenter"})
    assert token_service.verify_token(secret + "x") is None
    token_service.revoke_token(token.id, actor="admin")
    assert token_service.verify_token(secret) is None


def test_a_token_with_an_unknown_scope_is_refused(token_service):
    with pytest.raises(AccountError, match="scopes"):
        token_service.issue_token("crm", ["everything"], actor="admin")


def test_user_commands_add_list_and_change_a_password(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PHONESERVICE_INSTANCE", str(tmp_path))
    monkeypatch.delenv("PHONESERVICE_DATABASE_URL", raising=False)
    monkeypatch.setattr("sys.stdin", _lines(PASSWORD))
    assert main(["user", "add", "anne", "--unit", "jobcenter", "--password-stdin"], clock) == 0
    monkeypatch.setattr("sys.stdin", _lines("short"))
    assert main(["user", "add", "bo", "--password-stdin"], clock) == 2
    assert "12 characters" in capsys.readouterr().err
    assert main(["user", "add", "bo", "--unit", "atlantis", "--password-stdin"], clock) == 2
    monkeypatch.setattr("sys.stdin", _lines("another long password"))
    assert main(["user", "passwd", "anne", "--password-stdin"], clock) == 0
    capsys.readouterr()
    assert main(["user", "list", "--json"], clock) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed == [
        {
            "username": "anne",
            "name": "anne",
            "role": "agent",
            "units": ["jobcenter"],
            "active": True,
            "device": None,
        }
    ]
    url = f"sqlite:///{tmp_path / 'phoneservice.sqlite3'}"
    assert accounts(url, clock).authenticate("anne", "another long password", "test") is not None


def _lines(*lines: str):
    import io

    return io.StringIO("".join(line + "\n" for line in lines))


def test_behind_a_trusted_proxy_the_client_address_is_logged(database_url, shipped, log):
    from phoneservice.settings import Settings
    from phoneservice.web import create_app

    settings = Settings(database_url=database_url, cookie_secure=False, proxies=1)
    app = create_app(settings, registry=shipped, clock=clock)
    add_user(database_url, clock, "anne", "agent", "jobcenter")
    client = app.test_client()
    form = {"username": "anne", "password": PASSWORD, "csrf_token": csrf_token(client)}
    client.post("/login", data=form, headers={"X-Forwarded-For": "10.1.2.3"})
    logins = [e for e in log.audit_log() if e.action == "login"]
    assert [e.remote_addr for e in logins] == ["10.1.2.3"]


def test_without_a_trusted_proxy_a_forwarded_address_is_ignored(app, database_url, log):
    add_user(database_url, clock, "anne", "agent", "jobcenter")
    client = app.test_client()
    form = {"username": "anne", "password": PASSWORD, "csrf_token": csrf_token(client)}
    client.post("/login", data=form, headers={"X-Forwarded-For": "10.1.2.3"})
    logins = [e for e in log.audit_log() if e.action == "login"]
    assert [e.remote_addr for e in logins] == ["127.0.0.1"]
