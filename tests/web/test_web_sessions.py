"""Sessions end: the user's epoch (log out everywhere, a new password, changed rights), ten
hours after sign-in whatever the polls do, and after an idle hour (docs/security.md)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from phoneservice.settings import Settings, SettingsError
from phoneservice.web.auth import POLL_HEADER
from tests.staff import PASSWORD, accounts, csrf_token, login
from tests.web.test_web_callbacks import HX, NUMBER, World, make_world

POLL = {POLL_HEADER: "1"}


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    yield from make_world(database_url)


def numbers(client: FlaskClient) -> int:
    """The status of the callback API, and that it shows the citizens' numbers when 200."""
    answer = client.get("/api/v1/callbacks")
    if answer.status_code == 200:
        assert NUMBER in answer.get_data(as_text=True)
    return answer.status_code


def copy_of(client: FlaskClient, world: World) -> FlaskClient:
    """Another client holding the same session cookie (a copy saved elsewhere)."""
    copy = world.app.test_client()
    cookie = client.get_cookie("phoneservice_session")
    assert cookie is not None
    copy.set_cookie("phoneservice_session", cookie.value)
    return copy


def signed_in(client: FlaskClient) -> bool:
    """Whether the board shows the client signed in."""
    return 'action="/logout"' in client.get("/").get_data(as_text=True)


# ---------------------------------------------------------------- the epoch


def test_log_out_everywhere_ends_a_saved_copy_of_the_cookie(world):
    client = world.client("anne")
    saved = copy_of(client, world)
    assert numbers(saved) == 200
    token = csrf_token(client, "/profile")
    answer = client.post("/profile/logout-everywhere", data={"csrf_token": token})
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/login")
    assert "Du er logget ud alle steder." in client.get("/login").get_data(as_text=True)
    assert numbers(saved) == 401
    assert numbers(client) == 401
    assert ("anne", "user.sessions_ended") in [(e.actor, e.action) for e in world.audit("anne")]
    assert login(client, "anne") == 302 and numbers(client) == 200  # signing in again works


def test_log_out_everywhere_needs_the_csrf_token(world):
    client = world.client("anne")
    assert client.post("/profile/logout-everywhere").status_code == 400
    assert numbers(client) == 200


def test_a_new_password_ends_every_session(world):
    client = world.client("anne")
    saved = copy_of(client, world)
    accounts(world.url, world.queue.clock).set_password("anne", "a brand new secret", actor="ada")
    assert numbers(saved) == 401
    assert numbers(client) == 401
    assert login(client, "anne", "a brand new secret") == 302


def test_a_new_password_from_the_admin_page_ends_every_session(world):
    client = world.client("anne")
    admin = world.client("ada")
    form = {"csrf_token": csrf_token(admin, "/admin"), "password": "a brand new secret"}
    assert admin.post("/admin/users/anne/password", data=form).status_code == 302
    assert "har fået en ny adgangskode" in admin.get("/admin").get_data(as_text=True)
    assert numbers(client) == 401


@pytest.mark.parametrize(
    ("role", "units", "active"),
    [("agent", ["jobcenter"], True), ("viewer", [], True), ("agent", ["jobcenter"], False)],
    ids=["units", "role", "disabled"],
)
def test_a_change_of_rights_ends_every_session(world, role, units, active):
    client = world.client("anne")  # an agent of jobcenter and tandplejen
    service = accounts(world.url, world.queue.clock)
    service.update_user("anne", role=role, units=units, active=active, actor="ada")
    assert numbers(client) == 401
    assert not signed_in(client)


def test_saving_the_same_rights_keeps_the_sessions(world):
    client = world.client("carl")
    service = accounts(world.url, world.queue.clock)
    service.update_user("carl", role="agent", units=["jobcenter"], active=True, actor="ada")
    assert numbers(client) == 200


def test_a_logout_ends_a_saved_copy_of_the_cookie_too(world):
    client, other = world.client("anne"), world.app.test_client()
    assert login(other, "anne") == 302
    saved = client.get_cookie("phoneservice_session").value
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert numbers(client) == 401 and numbers(other) == 401
    replay = world.app.test_client()
    replay.set_cookie("phoneservice_session", saved)
    assert numbers(replay) == 401


# ---------------------------------------------------------------- the profile


def test_the_profile_shows_the_account_read_only(world):
    client = world.client("anne")
    page = client.get("/profile")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert "Min profil" in html and "anne" in html
    assert "Medarbejder (tilbagekald)" in html
    assert "Jobcenter, Tandplejen" in html
    assert "PJSIP/anne" in html  # the device an admin set
    assert 'name="agent_device"' not in html and 'name="device"' not in html
    assert "Log ud alle steder" in html
    assert 'href="/profile"' in html  # the name in the header leads here


def test_the_profile_of_a_viewer_without_device_and_of_an_admin(world):
    html = world.client("vera").get("/profile").get_data(as_text=True)
    assert "Læser" in html and "Din telefon" not in html
    assert "Alle enheder" in world.client("ada").get("/profile").get_data(as_text=True)


def test_the_profile_needs_a_sign_in(world):
    answer = world.app.test_client().get("/profile")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]


def test_the_profile_in_english(world):
    html = world.client("anne").get("/profile?lang=en").get_data(as_text=True)
    assert "My profile" in html and "Log out everywhere" in html


# ---------------------------------------------------------------- lifetime and idle time


def test_a_session_ends_ten_hours_after_sign_in_however_busy(world):
    client = world.client("carl")
    for _ in range(19):  # a request every half hour: never idle
        world.queue.clock.advance(minutes=30)
        assert numbers(client) == 200
    world.queue.clock.advance(minutes=30)  # 10 hours since the sign-in
    assert numbers(client) == 401
    assert not signed_in(client)


def test_polls_every_minute_do_not_extend_the_session_past_ten_hours(world):
    client = world.client("carl")
    for step in range(1, 120):
        world.queue.clock.advance(minutes=5)
        # the queue's refresh, and a click now and then that keeps the session from idling
        headers = {**HX, **POLL} if step % 10 else HX
        assert client.get("/callbacks/rows", headers=headers).status_code == 200
    world.queue.clock.advance(minutes=5)
    answer = client.get("/callbacks/rows", headers={**HX, **POLL})
    assert answer.status_code == 401


def test_an_idle_hour_ends_the_session(world):
    client = world.client("carl")
    world.queue.clock.advance(minutes=59)
    assert numbers(client) == 200  # activity: the idle hour starts again
    world.queue.clock.advance(minutes=59)
    assert numbers(client) == 200
    world.queue.clock.advance(minutes=60)
    assert numbers(client) == 401


def test_background_polls_are_no_activity(world):
    client = world.client("carl")
    for _ in range(59):
        world.queue.clock.advance(minutes=1)
        assert client.get("/callbacks/rows", headers={**HX, **POLL}).status_code == 200
        client.get("/board/rows", headers=POLL)
    world.queue.clock.advance(minutes=1)
    assert client.get("/callbacks/rows", headers={**HX, **POLL}).status_code == 401


def test_an_ended_session_sends_the_queues_refresh_to_the_login_page(world):
    client = world.client("carl")
    world.queue.clock.advance(minutes=61)
    page = {"HX-Current-URL": "http://localhost/callbacks?unit=jobcenter"}
    answer = client.get("/callbacks/rows", headers={**HX, **POLL, **page})
    assert answer.status_code == 401
    assert answer.headers["HX-Redirect"] == "/login?next=/callbacks?unit%3Djobcenter"
    assert answer.get_data(as_text=True) == ""  # no login form swapped into the queue
    away = {"HX-Current-URL": "https://evil.example/x"}
    elsewhere = client.get("/callbacks/rows", headers={**HX, **away})
    assert elsewhere.headers["HX-Redirect"] == "/login?next=/x"  # only the path: this site


def test_the_pages_mark_their_refreshes_as_polls():
    from importlib.resources import files

    static = files("phoneservice.web").joinpath("static")
    assert POLL_HEADER in static.joinpath("board.js").read_text(encoding="utf-8")
    assert POLL_HEADER in static.joinpath("callbacks.js").read_text(encoding="utf-8")


def test_a_session_without_its_limits_is_refused(world):
    client = world.client("carl")
    with client.session_transaction() as session:
        del session["signed_in_at"]  # as a cookie made before the limits existed
    assert numbers(client) == 401


def test_the_limits_are_settings(world, shipped, database_url):
    from phoneservice.bootstrap import build
    from phoneservice.services.accounts import cheap_hasher
    from phoneservice.web import create_app

    settings = Settings(
        database_url=database_url, cookie_secure=False, session_hours=2, session_idle_minutes=5
    )
    clock, registry = world.queue.clock, world.queue.callbacks.registry
    app = create_app(build(settings, clock, registry=registry, hasher=cheap_hasher()))
    client = app.test_client()
    world.client("carl")  # makes the account
    assert login(client, "carl", PASSWORD) == 302
    clock.advance(minutes=4)
    assert numbers(client) == 200
    clock.advance(minutes=5)
    assert numbers(client) == 401
    assert app.config["PERMANENT_SESSION_LIFETIME"].total_seconds() == 2 * 3600


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PHONESERVICE_SESSION_HOURS", "0"),
        ("PHONESERVICE_SESSION_HOURS", "25"),
        ("PHONESERVICE_SESSION_IDLE_MINUTES", "4"),
        ("PHONESERVICE_SESSION_IDLE_MINUTES", "ten"),
        ("PHONESERVICE_LOGIN_ATTEMPT_DAYS", "0"),
        ("PHONESERVICE_AUDIT_DAYS", "29"),
    ],
)
def test_bad_session_and_retention_settings_are_refused(name, value):
    with pytest.raises(SettingsError, match=re.escape(name)):
        Settings.from_env({name: value})


def test_session_and_retention_settings_have_defaults_and_are_read():
    default = Settings.from_env({})
    assert (default.session_hours, default.session_idle_minutes) == (10, 60)
    assert (default.login_attempt_days, default.audit_days) == (30, 730)
    env = {
        "PHONESERVICE_SESSION_HOURS": "8",
        "PHONESERVICE_SESSION_IDLE_MINUTES": "30",
        "PHONESERVICE_LOGIN_ATTEMPT_DAYS": "14",
        "PHONESERVICE_AUDIT_DAYS": "365",
    }
    read = Settings.from_env(env)
    assert (read.session_hours, read.session_idle_minutes) == (8, 30)
    assert (read.login_attempt_days, read.audit_days) == (14, 365)
