"""Sign-in through the identity provider, against a real OpenID Connect provider on loopback."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from joserfc.jwk import RSAKey
from sqlmodel import Session, select

from phoneservice.bootstrap import build
from phoneservice.registry import Registry
from phoneservice.services.accounts import cheap_hasher
from phoneservice.settings import OidcSettings, RoleGrant, Settings
from phoneservice.storage.engine import create_engine_for
from phoneservice.storage.models import UserRow
from phoneservice.web import create_app
from tests.conftest import SHIPPED_CONFIG
from tests.staff import PASSWORD, accounts, add_user, audit, login
from tests.web.oidc_provider import CLIENT_ID, CLIENT_SECRET, KEY_ID, Provider, running_provider

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ROLE_MAP = {
    "grp-jobcenter-agents": RoleGrant("agent", frozenset({"jobcenter"})),
    "grp-borgerservice-agents": RoleGrant("agent", frozenset({"borgerservice"})),
    "grp-viewers": RoleGrant("viewer"),
    "grp-it-admins": RoleGrant("admin"),
}


def clock() -> datetime:
    return NOW


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with running_provider() as found:
        yield found


@pytest.fixture
def idp(provider: Provider) -> Provider:
    provider.reset()
    return provider


def oidc_app(url: str, registry: Registry, issuer: str, secret: str = CLIENT_SECRET) -> Flask:
    """The real app over ``url``, signing in through the provider at ``issuer``."""
    oidc = OidcSettings(issuer, CLIENT_ID, secret, ROLE_MAP)
    settings = Settings(
        config=str(SHIPPED_CONFIG), database_url=url, cookie_secure=False, oidc=oidc
    )
    app = create_app(build(settings, clock, registry=registry, hasher=cheap_hasher()))
    app.config["TESTING"] = True
    return app


@pytest.fixture
def app(database_url: str, shipped: Registry, idp: Provider) -> Flask:
    return oidc_app(database_url, shipped, idp.issuer)


def round_trip(client: FlaskClient, next_page: str | None = None, state: str | None = None):
    """Start at /login/oidc, let the provider approve, come back (with ``state`` if given)."""
    start = client.get("/login/oidc" + (f"?{urlencode({'next': next_page})}" if next_page else ""))
    assert start.status_code == 302, start.get_data(as_text=True)
    approved = requests.get(start.location, allow_redirects=False, timeout=10)
    assert approved.status_code == 302, approved.text
    back = urlsplit(approved.headers["Location"])
    assert back.path == "/login/oidc/callback"
    query = parse_qs(back.query)
    if state is not None:
        query["state"] = [state]
    return client.get(f"{back.path}?{urlencode(query, doseq=True)}")


def stored(url: str) -> list[UserRow]:
    """Every users row, by username."""
    with Session(create_engine_for(url)) as session:
        return list(session.exec(select(UserRow).order_by(UserRow.username)).all())


def signed_in(client: FlaskClient) -> bool:
    """Whether the client's session opens the callback queue."""
    return client.get("/callbacks").status_code == 200


def test_the_login_page_offers_the_provider_first(app):
    page = app.test_client().get("/login?next=/callbacks").get_data(as_text=True)
    assert "Log ind med kommunens login" in page
    assert 'href="/login/oidc?next=/callbacks"' in page
    assert page.index('id="oidc-login"') < page.index('name="password"')  # local accounts stay
    english = app.test_client().get("/login?lang=en").get_data(as_text=True)
    assert "Sign in with the municipality's login" in english


def test_without_the_settings_there_is_no_button_and_no_route(database_url, shipped):
    settings = Settings(config=str(SHIPPED_CONFIG), database_url=database_url)
    app = create_app(build(settings, clock, registry=shipped))
    assert "kommunens login" not in app.test_client().get("/login").get_data(as_text=True)
    assert app.test_client().get("/login/oidc").status_code == 404


def test_the_start_asks_for_a_code_with_pkce_state_and_nonce(app):
    start = app.test_client().get("/login/oidc")
    query = parse_qs(urlsplit(start.location).query)
    assert query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43
    assert query["state"][0] and query["nonce"][0]
    assert query["redirect_uri"] == ["http://localhost/login/oidc/callback"]
    assert "openid" in query["scope"][0].split()


def test_an_agent_signs_in_with_the_units_of_their_groups(app, idp, database_url):
    idp.person.groups = ["grp-jobcenter-agents", "grp-borgerservice-agents", "grp-unknown"]
    client = app.test_client()
    back = round_trip(client, next_page="/callbacks")
    assert back.status_code == 302
    assert back.location == "/callbacks"
    assert signed_in(client)
    (row,) = stored(database_url)
    assert row.oidc_subject == f"{idp.issuer}|a1b2c3"
    assert (row.username, row.display_name, row.role) == ("anne.agent", "Anne Agent", "agent")
    (user,) = accounts(database_url, clock).users()
    assert user.units == {"jobcenter", "borgerservice"}
    entries = audit(database_url, clock).audit_log(actor="anne.agent")
    assert ("login", "method=oidc") in [(e.action, e.detail) for e in entries]


def test_an_admin_group_wins_over_the_others_and_sees_every_unit(app, idp, database_url):
    idp.person.groups = ["grp-viewers", "grp-it-admins", "grp-jobcenter-agents"]
    client = app.test_client()
    assert round_trip(client).location == "/"
    assert client.get("/admin").status_code == 200
    (user,) = accounts(database_url, clock).users()
    assert (user.role, user.units, user.unit_scope()) == ("admin", frozenset(), None)


def test_role_and_units_follow_the_groups_at_every_sign_in(app, idp, database_url):
    round_trip(app.test_client())
    idp.person.groups = ["grp-viewers"]
    idp.person.name = "Anne Andersen"
    round_trip(app.test_client())
    (user,) = accounts(database_url, clock).users()
    assert (user.role, user.units, user.display_name) == ("viewer", frozenset(), "Anne Andersen")
    changes = audit(database_url, clock).audit_log(actor="oidc")
    assert [e.action for e in changes] == ["user.update", "user.add"]


def test_new_rights_from_the_provider_end_the_sessions_begun_with_the_old_ones(app, idp):
    earlier = app.test_client()
    round_trip(earlier)
    assert earlier.get("/api/v1/callbacks").status_code == 200
    idp.person.groups = ["grp-viewers"]
    round_trip(app.test_client())
    assert earlier.get("/api/v1/callbacks").status_code == 401


def test_an_account_of_the_provider_has_no_usable_password(app, database_url):
    round_trip(app.test_client())
    service = accounts(database_url, clock)
    assert service.authenticate("anne.agent", "", "127.0.0.1") is None
    assert service.authenticate("anne.agent", "!oidc", "127.0.0.1") is None
    assert login(app.test_client(), "anne.agent", "!oidc") == 401


def test_groups_that_give_no_role_are_refused_and_nothing_is_stored(app, idp, database_url):
    idp.person.groups = ["grp-kantine", "grp-alle-ansatte"]
    client = app.test_client()
    refused = round_trip(client)
    assert refused.status_code == 403
    text = refused.get_data(as_text=True)
    assert "Ingen adgang til telefonservice" in text
    assert "ikke med i en gruppe, der giver adgang" in text
    assert not signed_in(client)
    assert stored(database_url) == []
    assert audit(database_url, clock).audit_log() == []


def test_the_refusal_is_in_english_for_an_english_browser(app, idp):
    idp.person.groups = []
    client = app.test_client()
    client.get("/login?lang=en")  # the language cookie
    refused = round_trip(client)
    assert refused.status_code == 403
    assert "No access to phoneservice" in refused.get_data(as_text=True)


def test_a_disabled_account_is_refused(app, database_url):
    round_trip(app.test_client())
    accounts(database_url, clock).update_user(
        "anne.agent", role="agent", units=["jobcenter"], active=False, actor="admin"
    )
    client = app.test_client()
    refused = round_trip(client)
    assert refused.status_code == 403
    assert "lukket" in refused.get_data(as_text=True)
    assert not signed_in(client)


def test_a_local_account_of_the_same_name_is_never_taken_over(app, idp, database_url):
    local = add_user(database_url, clock, "anne", "admin")
    idp.person.preferred_username = "Anne@kommune.dk"
    client = app.test_client()
    round_trip(client)
    rows = {row.username: row for row in stored(database_url)}
    assert rows["anne"].oidc_subject is None and rows["anne"].role == "admin"
    assert rows["anne-2"].oidc_subject == f"{idp.issuer}|a1b2c3"
    assert rows["anne-2"].role == "agent"
    assert client.get("/admin").status_code == 403  # signed in as anne-2, not the admin
    assert login(app.test_client(), "anne", PASSWORD) == 302  # the local one still works
    assert local.id == rows["anne"].id


def test_without_a_name_the_account_is_called_user(app, idp, database_url):
    idp.person.preferred_username = None
    round_trip(app.test_client())
    assert [row.username for row in stored(database_url)] == ["user"]


def refused_round_trip(app: Flask, **kwargs) -> str:
    """A round trip that must fail without signing in or storing anyone; the page."""
    client = app.test_client()
    back = round_trip(client, **kwargs)
    assert back.status_code == 400
    assert not signed_in(client)
    return back.get_data(as_text=True)


def test_a_token_for_another_audience_is_refused(app, idp, database_url, caplog):
    idp.bend = {"aud": "another-client"}
    assert "Login mislykkedes" in refused_round_trip(app)
    assert stored(database_url) == []
    assert "'aud'" in caplog.text.lower()


def test_a_token_for_another_audience_is_refused_even_if_it_names_us_as_party(
    app, idp, database_url, caplog
):
    idp.bend = {"aud": "another-client", "azp": CLIENT_ID}
    refused_round_trip(app)
    assert stored(database_url) == []
    assert "'aud'" in caplog.text.lower()


def test_an_expired_token_is_refused(app, idp, database_url, caplog):
    an_hour_ago = int(time.time()) - 3600
    idp.bend = {"iat": an_hour_ago - 300, "exp": an_hour_ago}
    refused_round_trip(app)
    assert stored(database_url) == []
    assert "expired" in caplog.text.lower()


def test_a_token_with_another_nonce_is_refused(app, idp, database_url, caplog):
    idp.bend = {"nonce": "not-the-nonce-of-this-sign-in"}
    refused_round_trip(app)
    assert stored(database_url) == []
    assert "'nonce'" in caplog.text.lower()


def test_a_token_from_another_issuer_is_refused(app, idp, database_url, caplog):
    idp.bend = {"iss": "https://evil.example"}
    refused_round_trip(app)
    assert stored(database_url) == []
    assert "'iss'" in caplog.text.lower()


def test_a_token_signed_with_a_key_not_published_is_refused(app, idp, database_url, caplog):
    idp.signing_key = RSAKey.generate_key(2048, parameters={"kid": KEY_ID})
    refused_round_trip(app)
    assert stored(database_url) == []
    assert "signature" in caplog.text.lower()


def test_a_bad_state_is_refused_before_the_code_is_used(app, idp, database_url, caplog):
    before = idp.token_requests
    refused_round_trip(app, state="forged-state")
    assert idp.token_requests == before
    assert stored(database_url) == []
    assert "state" in caplog.text.lower()


def test_a_callback_cannot_be_replayed(app):
    client = app.test_client()
    start = client.get("/login/oidc")
    approved = requests.get(start.location, allow_redirects=False, timeout=10)
    back = urlsplit(approved.headers["Location"])
    assert client.get(f"{back.path}?{back.query}").status_code == 302
    assert client.get(f"{back.path}?{back.query}").status_code == 400  # the state is spent
    other = app.test_client()
    assert other.get(f"{back.path}?{back.query}").status_code == 400  # not this session's


def test_a_wrong_client_secret_is_refused_by_the_provider(database_url, shipped, idp):
    app = oidc_app(database_url, shipped, idp.issuer, secret="not-the-secret-0123456789")
    refused_round_trip(app)
    assert stored(database_url) == []


def test_an_unreachable_provider_is_a_clear_page(database_url, shipped):
    app = oidc_app(database_url, shipped, "http://127.0.0.1:9")  # nothing listens there
    answer = app.test_client().get("/login/oidc")
    assert answer.status_code == 502
    assert "Kommunens login svarer ikke" in answer.get_data(as_text=True)
