"""The board and unit pages through the app built by its factory, and their Danish wording."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient

from phoneservice.domain.hours.status import Override, Status
from phoneservice.present import wording
from phoneservice.registry import Registry
from phoneservice.settings import Settings
from phoneservice.web import EXTENSION, create_app
from tests.conftest import SHIPPED_CONFIG, at

MONDAY_1359 = datetime(2026, 11, 23, 12, 59, 50, tzinfo=UTC)  # Copenhagen 13:59:50
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
NOW = at("2026-11-23T13:59:50")  # a Monday


@pytest.fixture(scope="module")
def client(shipped: Registry) -> FlaskClient:
    """The shipped registry at Monday 2026-11-23 13:59:50 Copenhagen."""
    app = create_app(Settings(config=SHIPPED_CONFIG), registry=shipped, clock=lambda: MONDAY_1359)
    return app.test_client()


def text(client: FlaskClient, url: str, status: int = 200) -> str:
    """The body of ``url``, checking its status."""
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def unit_row(page: str, unit_id: str) -> str:
    """The HTML of one unit's row on the board."""
    start = page.index(f'id="unit-{unit_id}"')
    return page[start : page.index("</tr>", start)]


# --- wording ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (Status(True, "telefontid", at("2026-11-23T14:00")), "lukker kl. 14:00"),
        (Status(True, "telefontid", at("2026-11-24T00:00")), "lukker kl. 24:00"),
        (Status(True, "nat", at("2026-11-24T02:00")), "lukker i morgen kl. 02:00"),
        (Status(True, "telefontid"), "åben hele døgnet"),
        (Status(False, "x", None, at("2026-11-23T15:00")), "åbner kl. 15:00"),
        (Status(False, "x", None, at("2026-11-24T10:00")), "åbner i morgen kl. 10:00"),
        (Status(False, "x", None, at("2026-11-25T10:00")), "åbner onsdag kl. 10:00"),
        (Status(False, "x", None, at("2026-11-29T10:00")), "åbner søndag kl. 10:00"),
        (Status(False, "x", None, at("2026-11-30T10:00")), "åbner 30. november kl. 10:00"),
        (Status(False, "x", None, at("2026-12-28T10:00")), "åbner 28. december kl. 10:00"),
        (Status(False, "x", None, at("2027-06-01T08:00")), "åbner 1. juni 2027 kl. 08:00"),
        (Status(False, "x"), "åbner ikke inden for et år"),
    ],
    ids=[
        "closes-today",
        "closes-at-midnight",
        "closes-tomorrow",
        "always-open",
        "opens-today",
        "opens-tomorrow",
        "opens-weekday",
        "opens-sixth-day",
        "opens-a-week-on",
        "opens-after-christmas",
        "opens-next-year",
        "never-opens",
    ],
)
def test_change_wording(state: Status, expected: str) -> None:
    assert wording.change(state, NOW) == expected


def test_reason_hides_the_ordinary_day_labels() -> None:
    assert wording.reason(Status(False, "uden for telefontid")) is None
    assert wording.reason(Status(True, "telefontid")) is None
    assert wording.reason(Status(False, "Juleaftensdag")) == "Juleaftensdag"


def test_override_wording_names_state_end_and_reason() -> None:
    found = Override("borgerservice", NOW, at("2026-11-23T15:30"), False, "Personalemøde", "ida")
    state = Status(False, "Personalemøde", None, at("2026-11-24T10:00"), found)
    assert wording.override(state, NOW) == "Manuelt lukket til kl. 15:30: Personalemøde"


def test_dates_are_danish() -> None:
    assert wording.long_date(at("2026-12-24T00:00").date()) == "torsdag 24. december 2026"


# --- the board -----------------------------------------------------------------------


def test_board_lists_every_unit_grouped(client: FlaskClient, shipped: Registry) -> None:
    page = text(client, "/")
    assert all(f'id="unit-{unit_id}"' in page for unit_id in shipped.units)
    assert page.index("Kommunale centre") < page.index("Andre myndigheder")
    assert page.index('id="unit-borgerservice"') < page.index('id="unit-skattestyrelsen"')


def test_board_row_shows_state_change_phone_and_menu(client: FlaskClient) -> None:
    row = unit_row(text(client, "/"), "borgerservice")
    assert "ÅBEN" in row and "is-open" in row
    assert "lukker kl. 14:00" in row
    assert "+45 56 57 57 57" in row and "tast 1" in row
    assert 'href="/units/borgerservice"' in row


def test_closed_row_shows_when_it_opens_and_the_advice(client: FlaskClient) -> None:
    row = unit_row(text(client, "/"), "tandplejen-akut")
    assert "LUKKET" in row and "is-closed" in row
    assert "åbner" in row


def test_board_carries_the_next_change_and_the_poll_interval(client: FlaskClient) -> None:
    page = text(client, "/")
    assert 'data-next-change="2026-11-23T14:00:00+01:00"' in page
    assert 'data-server-now="2026-11-23T13:59:50+01:00"' in page
    assert 'data-poll-seconds="60"' in page


def test_christmas_eve_shows_the_reason(shipped: Registry) -> None:
    eve = datetime(2026, 12, 24, 9, 0, tzinfo=UTC)
    app = create_app(Settings(config=SHIPPED_CONFIG), registry=shipped, clock=lambda: eve)
    row = unit_row(text(app.test_client(), "/"), "borgerservice")
    assert "LUKKET" in row and "Juleaftensdag" in row
    assert "åbner 4. januar kl. 10:00" in row  # past Christmas, the closure and New Year


def test_overridden_unit_is_marked(shipped: Registry) -> None:
    app = create_app(Settings(config=SHIPPED_CONFIG), registry=shipped, clock=lambda: MONDAY_1359)
    meeting = Override("borgerservice", NOW, at("2026-11-23T15:30"), False, "Personalemøde", "ida")
    app.extensions[EXTENSION].overrides = lambda: [meeting]
    row = unit_row(text(app.test_client(), "/"), "borgerservice")
    assert "LUKKET" in row and "is-overridden" in row and "ÆNDRET" in row
    assert "Manuelt lukket til kl. 15:30: Personalemøde" in row


def test_query_hides_rows_on_the_server_too(client: FlaskClient) -> None:
    page = text(client, "/?q=pas")
    opening = lambda unit: unit_row(page, unit).split(">", 1)[0]  # noqa: E731 - the <tr ...>
    assert " hidden" not in opening("borgerservice")
    assert " hidden" in opening("jobcenter")


def test_rows_fragment_is_the_board_without_the_page(client: FlaskClient) -> None:
    fragment = text(client, "/board/rows")
    assert fragment.lstrip().startswith('<div id="board-rows"')
    assert "<html" not in fragment and 'id="unit-borgerservice"' in fragment
    assert client.get("/board/rows").headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("url", ["/", "/board/rows", "/units/borgerservice", "/nope"])
def test_pages_have_the_strict_page_policy(client: FlaskClient, url: str) -> None:
    headers = client.get(url).headers
    assert headers["Content-Security-Policy"] == PAGE_CSP
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_pages_have_no_inline_script_or_style(client: FlaskClient) -> None:
    for url in ("/", "/units/borgerservice?at=2026-12-24T10:00", "/nope"):
        page = text(client, url, 404 if url == "/nope" else 200)
        assert "<script>" not in page and "<style" not in page and " style=" not in page
        assert " on" + "click=" not in page


def test_static_files_are_served(client: FlaskClient) -> None:
    for name in ("board.css", "board.js"):
        assert client.get(f"/static/{name}").status_code == 200


# --- the unit page -------------------------------------------------------------------


def test_unit_page_shows_status_week_contact_and_exports(client: FlaskClient) -> None:
    page = text(client, "/units/borgerservice")
    assert "<h1>Borgerservice</h1>" in page and "lukker kl. 14:00" in page
    assert "I dag" in page and "10:00–14:00" in page and "Torsdag" in page
    assert "tast 1" in page and "Når der er lukket" in page
    assert "/api/v1/units/borgerservice/calendar.ics" in page
    assert "/api/v1/units/borgerservice/jsonld" in page


def test_unit_page_lists_special_days_of_the_next_30_days(shipped: Registry) -> None:
    early = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    app = create_app(Settings(config=SHIPPED_CONFIG), registry=shipped, clock=lambda: early)
    page = text(app.test_client(), "/units/borgerservice")
    special = page[page.index("Helligdage og afvigelser") :]
    assert "24. december" in special and "Juleaftensdag" in special
    assert "25. december" in special


def test_picker_answers_for_the_chosen_time(client: FlaskClient) -> None:
    page = text(client, "/units/borgerservice?at=2026-12-24T10:00")
    answer = page[page.index('id="answer"') :]
    assert "Torsdag 24. december 2026 kl. 10:00" in answer
    assert "LUKKET" in answer and "Juleaftensdag" in answer
    assert 'value="2026-12-24T10:00"' in page


# --- errors as Danish pages ----------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "status", "title"),
    [
        ("/units/nope", 404, "Enheden findes ikke"),
        ("/units/BAD!", 404, "Enheden findes ikke"),
        ("/nope", 404, "Siden findes ikke"),
        ("/units/borgerservice?at=bogus", 400, "Forespørgslen kan ikke læses"),
        ("/units/borgerservice?at=0001-01-01T10:00", 400, "Forespørgslen kan ikke læses"),
    ],
    ids=["unknown-unit", "bad-id", "no-route", "bad-time", "out-of-range"],
)
def test_errors_outside_the_api_are_danish_pages(
    client: FlaskClient, url: str, status: int, title: str
) -> None:
    response = client.get(url)
    assert response.status_code == status
    assert response.mimetype == "text/html"
    assert title in response.get_data(as_text=True)


def test_wrong_method_on_a_page_is_a_danish_405_with_allow(client: FlaskClient) -> None:
    response = client.post("/")
    assert response.status_code == 405
    assert "Handlingen er ikke tilladt" in response.get_data(as_text=True)
    assert "GET" in response.headers["Allow"]


def test_errors_under_the_api_stay_json(client: FlaskClient) -> None:
    response = client.get("/api/v1/units/nope")
    assert response.status_code == 404
    assert response.get_json()["error"] == "unknown_unit"
