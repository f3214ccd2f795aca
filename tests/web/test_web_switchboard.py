"""The switchboard data on the board, the unit page and the units API: transfer numbers
for staff (and for everyone when public), the reverse number search, the open filter,
the closed-unit advice in full and the date the hours were confirmed."""

from __future__ import annotations

import html
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from phoneservice.registry import Registry
from phoneservice.settings import Settings
from phoneservice.web import create_app
from tests.conftest import ROOT, SHIPPED_CONFIG
from tests.staff import add_user, login, staff_app, tokens
from tests.web.test_web_board import text, unit_row

MONDAY_1359 = datetime(2026, 11, 23, 12, 59, 50, tzinfo=UTC)  # Copenhagen 13:59:50
MONDAY_1630 = datetime(2026, 11, 23, 15, 30, tzinfo=UTC)  # most units closed
HIDDEN, PUBLIC = "borgerservice", "hjemmepleje-akut"  # transfer 4510; +45 56 57 59 75, public


def clock() -> datetime:
    return MONDAY_1359


@pytest.fixture(scope="module")
def visitor(shipped: Registry) -> FlaskClient:
    """Nobody signed in."""
    app = create_app(Settings(config=SHIPPED_CONFIG), registry=shipped, clock=clock)
    return app.test_client()


@pytest.fixture
def app(database_url: str, shipped: Registry) -> Flask:
    return staff_app(database_url, shipped, clock)


@pytest.fixture
def staff(app: Flask, database_url: str) -> FlaskClient:
    """A viewer signed in: the least right that sees transfer numbers."""
    add_user(database_url, clock, "vera", "viewer")
    client = app.test_client()
    assert login(client, "vera") == 302
    return client


def api_units(client: FlaskClient, **headers: str) -> dict[str, object]:
    response = client.get("/api/v1/units", headers=headers)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    return {u["id"]: u["transfer"] for u in response.get_json()}


# --- transfer numbers ---------------------------------------------------------------------


def test_a_visitor_sees_only_public_transfer_numbers(visitor: FlaskClient) -> None:
    board = text(visitor, "/")
    assert "Omstil til" not in unit_row(board, HIDDEN) and "4510" not in unit_row(board, HIDDEN)
    assert "Omstil til" in unit_row(board, PUBLIC)
    assert "+45 56 57 59 75" in unit_row(board, PUBLIC)
    assert "4510" not in text(visitor, f"/units/{HIDDEN}")
    assert "Omstil til" in text(visitor, f"/units/{PUBLIC}")


def test_signed_in_staff_see_every_transfer_number(staff: FlaskClient) -> None:
    board = text(staff, "/")
    assert 'Omstil til <a class="number" href="tel:4510">4510</a>' in unit_row(board, HIDDEN)
    assert "+45 56 57 59 75" in unit_row(board, PUBLIC)
    page = text(staff, f"/units/{HIDDEN}")
    assert (
        '<dt>Omstil til</dt><dd class="transfer"><a class="phone" href="tel:4510">4510</a>' in page
    )
    assert "Transfer to" in text(staff, f"/units/{HIDDEN}?lang=en")


def test_the_units_api_gives_transfer_only_under_the_same_rule(
    visitor: FlaskClient, staff: FlaskClient
) -> None:
    anonymous = api_units(visitor)
    assert anonymous[HIDDEN] is None
    assert anonymous[PUBLIC] == "+45 56 57 59 75"
    assert anonymous["skattestyrelsen"] is None  # no transfer at all
    assert api_units(staff)[HIDDEN] == "4510"
    assert visitor.get(f"/api/v1/units/{HIDDEN}").get_json()["transfer"] is None
    assert staff.get(f"/api/v1/units/{HIDDEN}").get_json()["transfer"] == "4510"


def test_a_token_that_may_read_status_sees_transfer_numbers(app: Flask, database_url: str) -> None:
    _token, secret = tokens(database_url, clock).issue_token(
        "switchboard", ["read-status"], actor="admin"
    )
    client = app.test_client()
    assert api_units(client, Authorization=f"Bearer {secret}")[HIDDEN] == "4510"
    assert api_units(client, Authorization=f"Bearer {secret}x")[HIDDEN] is None


def test_the_openapi_document_describes_transfer(visitor: FlaskClient) -> None:
    unit = visitor.get("/api/v1/openapi.json").get_json()["components"]["schemas"]["Unit"]
    assert unit["properties"]["transfer"]["type"] == ["string", "null"]


# --- the reverse number search --------------------------------------------------------------


def shown(page: str) -> set[str]:
    """The ids of the board's rows that are not hidden."""
    rows = page.split('<tr id="unit-')[1:]
    return {row.split('"')[0] for row in rows if " hidden>" not in row.split(">")[0] + ">"}


@pytest.mark.parametrize(
    "query",
    ["70 10 10 10", "+4570101010", "70101010", "004570101010", "+45 70 10 10 10"],
    ids=["spaces", "plus45", "national", "0045", "plus45-spaces"],
)
def test_a_did_in_any_format_finds_its_unit(visitor: FlaskClient, query: str) -> None:
    assert shown(text(visitor, "/?" + _q(query))) == {HIDDEN}


@pytest.mark.parametrize(
    "query",
    ["72 22 18 18", "+4572221818", "72221818", "004572221818"],
    ids=["spaces", "plus45", "national", "0045"],
)
def test_a_phone_number_in_any_format_finds_its_unit(visitor: FlaskClient, query: str) -> None:
    assert shown(text(visitor, "/?" + _q(query))) == {"skattestyrelsen"}


def test_a_hidden_transfer_number_is_found_by_staff_only(
    visitor: FlaskClient, staff: FlaskClient
) -> None:
    assert HIDDEN not in shown(text(visitor, "/?q=4510"))
    assert HIDDEN in shown(text(staff, "/?q=4510"))
    assert shown(text(visitor, "/?" + _q("56 57 59 75"))) == {PUBLIC}


def test_rows_carry_the_number_forms_for_the_instant_search(
    visitor: FlaskClient, staff: FlaskClient
) -> None:
    row = unit_row(text(visitor, "/"), "skattestyrelsen")
    assert 'data-numbers="72221818 4572221818 004572221818"' in row
    assert " 4510 " not in unit_row(text(visitor, "/"), HIDDEN)
    assert " 4510 " in unit_row(text(staff, "/"), HIDDEN)


def _q(query: str) -> str:
    from urllib.parse import urlencode

    return urlencode({"q": query})


# --- the open filter -------------------------------------------------------------------------


def test_only_open_hides_the_closed_units_and_is_kept_by_the_language_switch(
    visitor: FlaskClient,
) -> None:
    everything = text(visitor, "/")
    page = text(visitor, "/?open=1")
    opened = shown(page)
    assert opened and opened < shown(everything)
    assert all(f'id="unit-{u}" class="unit is-open' in page for u in opened)
    assert 'id="only-open" name="open" type="checkbox" value="1" checked' in page
    assert 'href="?open=1&amp;lang=en"' in page
    assert 'value="1" checked' not in everything
    both = text(visitor, "/?open=1&" + _q("+45 33 41 12 00"))  # Ankestyrelsen is open
    assert shown(both) == {"ankestyrelsen"}


def test_only_open_when_nothing_is_open_says_so(shipped: Registry) -> None:
    night = datetime(2026, 12, 24, 23, 0, tzinfo=UTC)
    app = create_app(Settings(config=SHIPPED_CONFIG), registry=shipped, clock=lambda: night)
    page = text(app.test_client(), "/?open=1&q=borgerservice")
    assert shown(page) == set()
    assert '<p id="no-match" class="no-match">' in page


# --- advice and confirmation --------------------------------------------------------------


def test_the_closed_units_advice_is_shown_in_full(shipped: Registry) -> None:
    app = create_app(Settings(config=SHIPPED_CONFIG), registry=shipped, clock=lambda: MONDAY_1630)
    client = app.test_client()
    advice = shipped.unit(HIDDEN).after_hours
    assert advice and len(advice) > 100
    row = unit_row(text(client, "/"), HIDDEN)
    assert f'<div class="advice-text">{html.escape(advice)}</div>' in row
    css = (ROOT / "phoneservice/web/static/board.css").read_text(encoding="utf-8")
    assert "line-clamp" not in css and "text-overflow" not in css
    assert ".c-advice { display: none" not in css


def test_the_unit_page_shows_when_the_hours_were_confirmed(visitor: FlaskClient) -> None:
    page = text(visitor, "/units/ankestyrelsen")
    assert 'Timer bekræftet <time datetime="2026-10-19">2026-10-19</time>' in page
    assert "Hours confirmed" in text(visitor, "/units/ankestyrelsen?lang=en")
    assert "Timer bekræftet" not in text(visitor, f"/units/{HIDDEN}")
