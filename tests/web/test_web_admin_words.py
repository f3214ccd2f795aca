"""The admin pages name roles and token scopes in words, in the reader's language."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.conftest import Clock, at, registry_from
from tests.services.test_freshness import UNITS
from tests.staff import add_user, login, staff_app


@pytest.fixture
def admin(database_url: str):
    clock = Clock(at("2026-11-23T11:00"))
    app: Flask = staff_app(database_url, registry_from(UNITS), clock)
    add_user(database_url, clock, "ida", "admin")
    add_user(database_url, clock, "anne", "agent")
    client = app.test_client()
    assert login(client, "ida") == 302
    return client


def test_roles_and_scopes_are_words_in_danish(admin):
    page = admin.get("/admin").get_data(as_text=True)
    assert "<td>Tilbagekalder</td>" in page and "<td>agent</td>" not in page
    assert '<option value="agent" selected>Tilbagekalder</option>' in page
    assert 'value="read-status" checked> Læse telefontider</label>' in page
    user = admin.get("/admin/users/anne").get_data(as_text=True)
    assert '<option value="agent" selected>Tilbagekalder</option>' in user


def test_and_in_english(admin):
    page = admin.get("/admin?lang=en").get_data(as_text=True)
    assert '<option value="agent" selected>Callback agent</option>' in page
    assert 'value="monitoring"> Monitoring</label>' in page
