"""``/admin``'s units that need a look, through the app built by its factory: the same
findings as ``check-config``, each with its dates and a link to the unit page."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import Clock, at, registry_from
from tests.services.test_freshness import UNITS
from tests.staff import add_user, login, staff_app


@pytest.fixture
def clock() -> Clock:
    return Clock(at("2026-11-23T11:00"))


@pytest.fixture
def app(database_url: str, clock: Clock) -> Flask:
    return staff_app(database_url, registry_from(UNITS), clock)


def signed_in(app: Flask, database_url: str, clock: Clock) -> FlaskClient:
    add_user(database_url, clock, "ida", "admin")
    client = app.test_client()
    assert login(client, "ida") == 302
    return client


@pytest.fixture
def admin(app: Flask, database_url: str, clock: Clock) -> FlaskClient:
    return signed_in(app, database_url, clock)


def section(client: FlaskClient) -> str:
    html = client.get("/admin").get_data(as_text=True)
    found = re.search(r'<section id="freshness".*?</section>', html, re.S)
    assert found, "no freshness section"
    return found.group(0)


def rows(html: str) -> list[str]:
    """Each body row's text, tags removed and spaces joined."""
    body = re.search(r"<tbody>(.*?)</tbody>", html, re.S)
    cells = re.findall(r"<tr>(.*?)</tr>", body.group(1) if body else "", re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in cells]


def test_the_units_that_need_a_look_with_what_and_when(admin):
    html = section(admin)
    assert rows(html) == [
        "Borgerservice Timerne blev sidst bekræftet 2025-11-01 forfalden til tjek siden 2026-11-02",
        "Vaccinationslinjen De daterede timer slutter 2027-01-15; derefter vises enheden altid "
        "som lukket lukket fra 2027-01-16",
        "Julehjælp De daterede timer sluttede 2026-11-01; enheden vises altid som lukket "
        "lukket siden 2026-11-02",
    ]
    for unit in ("borgerservice", "vaccination", "julehjaelp"):
        assert f'href="/units/{unit}"' in html
    assert "Jobcenter" not in html
    assert 'href="#freshness"' in admin.get("/admin").get_data(as_text=True)


def test_the_list_follows_the_clock_not_the_day_the_file_was_loaded(app, database_url, clock):
    clock.now = at("2027-06-02T10:00")  # a year and a day after Jobcenter's verified
    found = rows(section(signed_in(app, database_url, clock)))
    assert any(row.startswith("Jobcenter Timerne blev sidst bekræftet 2026-06-01") for row in found)


def test_in_english(admin):
    admin.get("/?lang=en")
    html = section(admin)
    assert "Data to check" in html
    assert "Hours last verified on 2025-11-01" in html
    ends = "The dated hours end on 2027-01-15; after that the unit is always shown as closed"
    assert ends in html
    assert "Timerne" not in html


def test_a_fresh_registry_says_so(database_url, clock, shipped):
    client = signed_in(staff_app(database_url, shipped, clock), database_url, clock)
    assert "Alle enheders data er friske." in section(client)
