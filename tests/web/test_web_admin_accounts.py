"""The admin's user page: unlocking a username, the password policy's notices, and
usernames in any case."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from phoneservice.services.accounts import MAX_FAILURES_PER_USER
from tests.staff import PASSWORD, csrf_token, login
from tests.web.test_web_callbacks import World, make_world


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    yield from make_world(database_url)


def post(client: FlaskClient, path: str, **form: str) -> str:
    """A form POST from the admin page; the page it leads back to."""
    answer = client.post(path, data={"csrf_token": csrf_token(client, "/admin"), **form})
    assert answer.status_code == 302
    return client.get("/admin").get_data(as_text=True)


def test_an_admin_unlocks_a_locked_username(world):
    admin = world.client("ada")
    world.client("carl")  # the account
    stranger = world.app.test_client()
    for _ in range(MAX_FAILURES_PER_USER):
        assert login(stranger, "carl", "wrong password!") == 401
    assert login(world.app.test_client(), "carl") == 429
    page = admin.get("/admin/users/carl").get_data(as_text=True)
    assert "Brugernavnet er låst: 5 forkerte forsøg inden for et kvarter." in page
    assert 'action="/admin/users/carl/unlock"' in page
    html = post(admin, "/admin/users/carl/unlock")
    assert "Brugeren carl er låst op (5 forsøg glemt)." in html
    assert login(world.app.test_client(), "carl") == 302
    entries = [(e.action, e.subject, e.detail) for e in world.audit("ada")]
    assert ("user.unlock", "carl", "failures=5") in entries
    page = admin.get("/admin/users/carl").get_data(as_text=True)
    assert "Forkerte forsøg inden for det seneste kvarter: 0" in page
    assert 'action="/admin/users/carl/unlock"' not in page


def test_unlock_is_for_admins_only(world):
    world.client("ada")
    carl = world.client("carl")
    token = csrf_token(carl, "/callbacks")
    assert carl.post("/admin/users/carl/unlock", data={"csrf_token": token}).status_code == 403


@pytest.mark.parametrize(
    ("password", "notice"),
    [
        ("Velkommen2024!", "Adgangskoden er for almindelig."),
        ("carl-was-here-today", "Adgangskoden må ikke indeholde brugernavnet."),
        ("short", "Adgangskoden skal have mindst 12 tegn."),
    ],
)
def test_a_weak_password_gets_a_danish_notice(world, password, notice):
    admin = world.client("ada")
    world.client("carl")
    assert notice in post(admin, "/admin/users/carl/password", password=password)
    assert login(world.app.test_client(), "carl", PASSWORD) == 302  # unchanged


def test_a_weak_password_in_english(world):
    admin = world.client("ada")
    admin.get("/?lang=en")
    form = {"username": "mette", "password": "Password123!", "role": "viewer"}
    assert "The password is too common." in post(admin, "/admin/users", **form)


def test_the_user_page_finds_a_username_in_any_case(world):
    admin = world.client("ada")
    world.client("carl")
    answer = admin.get("/admin/users/CARL")
    assert answer.status_code == 200
    assert "Bruger carl" in answer.get_data(as_text=True)


def test_adding_a_username_that_differs_only_in_case_is_refused(world):
    admin = world.client("ada")
    world.client("carl")
    form = {"username": "Carl", "password": PASSWORD, "role": "viewer"}
    assert "Brugernavnet findes allerede." in post(admin, "/admin/users", **form)
