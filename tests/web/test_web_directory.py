"""``/directory`` (SPEC §13) through the app built by its factory: every unit grouped as on
the board, its week, its numbers and the closures of the next 30 days as its unit page has
them, without login, in Danish and English."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient

from phoneservice.domain.units import KINDS
from phoneservice.registry import Registry
from phoneservice.settings import Settings
from phoneservice.web import create_app
from tests.conftest import SHIPPED_CONFIG

MONDAY_BEFORE_CHRISTMAS = datetime(2026, 12, 21, 9, 0, tzinfo=UTC)  # Copenhagen 10:00


@pytest.fixture(scope="module")
def client(shipped: Registry) -> FlaskClient:
    """The shipped registry on Monday 21 December 2026, nobody signed in."""
    settings = Settings(config=SHIPPED_CONFIG)
    app = create_app(settings, registry=shipped, clock=lambda: MONDAY_BEFORE_CHRISTMAS)
    return app.test_client()


def body(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_data(as_text=True)


def entry(page: str, unit_id: str) -> str:
    """The HTML of one unit's entry."""
    start = page.index(f'<section class="entry" id="unit-{unit_id}"')
    return page[start : page.index("</section>", start)]


def texts(fragment: str, tag: str) -> list[str]:
    """The text of every ``tag`` element in ``fragment``, tags stripped, spaces folded
    (hidden elements, such as a copy button before the script shows it, left out)."""
    fragment = re.sub(r"<(\w+)[^>]* hidden>.*?</\1>", "", fragment, flags=re.S)
    found = re.findall(rf"<{tag}[^>]*>(.*?)</{tag}>", fragment, re.S)
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", "", f)).split()) for f in found]


def test_every_unit_is_there_once_grouped_as_on_the_board(
    client: FlaskClient, shipped: Registry
) -> None:
    page = body(client, "/directory")
    ids = re.findall(r'<section class="entry" id="unit-([a-z0-9-]+)"', page)
    by_kind = [u.id for kind in KINDS for u in shipped.units.values() if u.kind == kind]
    assert ids == by_kind and len(ids) == len(shipped.units)
    assert texts(page, "h2") == ["Kommunale centre", "Andre myndigheder"]
    assert page.index("Andre myndigheder") > page.index('id="unit-borgerservice"')
    assert "Log ind" in page  # nobody is signed in: the page is public


def test_a_unit_shows_its_week_numbers_and_closures(client: FlaskClient) -> None:
    found = entry(body(client, "/directory"), "borgerservice")
    assert texts(found, "h3") == ["Borgerservice"]
    assert texts(found, "p")[0] == "Telefon +45 56 57 57 57 · Menu: tast 1"
    assert texts(found, "th") == [
        "Man 21/12", "Tir 22/12", "Ons 23/12", "Tor 24/12", "Fre 25/12", "Lør 26/12", "Søn 27/12",
    ]  # fmt: skip
    assert texts(found, "td") == [
        "Man 21/12 10:00–14:00", "Tir 22/12 10:00–14:00", "Ons 23/12 10:00–14:00",
        "Tor 24/12 lukket", "Fre 25/12 lukket", "Lør 26/12 lukket", "Søn 27/12 lukket",
    ]  # fmt: skip
    assert texts(found, "li") == [
        "Torsdag 24. december: lukket – Juleaftensdag",
        "Fredag 25. december: lukket – Juledag",
        "Lørdag 26. december: lukket – Anden juledag",
        "Mandag 28. december: lukket – Juleferie",
        "Tirsdag 29. december: lukket – Juleferie",
        "Onsdag 30. december: lukket – Juleferie",
        "Torsdag 31. december: lukket – Nytårsaften",
        "Fredag 1. januar: lukket – Nytårsdag",
    ]


def test_every_unit_has_the_days_of_its_unit_page(client: FlaskClient, shipped: Registry) -> None:
    directory = body(client, "/directory")
    for unit in shipped.units.values():
        unit_page = body(client, f"/units/{unit.id}")
        week = unit_page[unit_page.index("De næste 7 dage") :].split("</table>")[0]
        special = unit_page[unit_page.index("Helligdage og afvigelser") :].split("</table>")[0]
        found = entry(directory, unit.id)
        listed = [td.split(" ", 2)[2] for td in texts(found, "td")]  # "Man 21/12 10:00–14:00"
        assert listed == re.findall(r'<td class="hours">([^<]*)</td>', week), unit.id
        closures = [li.replace(": ", " ", 1).replace(" – ", " ", 1) for li in texts(found, "li")]
        assert closures == texts(special, "tr"), unit.id


def test_the_directory_speaks_english_on_request(client: FlaskClient) -> None:
    page = body(client, "/directory?lang=en")
    assert '<html lang="en">' in page and "<h1>Directory" in page
    found = entry(page, "borgerservice")
    assert "Thursday 24 December: closed – Christmas Eve" in texts(found, "li")
    assert texts(found, "th")[0] == "Mon 21/12"


def test_the_board_and_every_page_link_to_the_directory(client: FlaskClient) -> None:
    for url in ("/", "/units/borgerservice", "/directory"):
        assert 'href="/directory"' in body(client, url)


def test_the_page_is_laid_out_for_print(client: FlaskClient) -> None:
    page = body(client, "/directory")
    assert 'href="/static/directory.css"' in page and "style=" not in page
    css = client.get("/static/directory.css").get_data(as_text=True)
    assert "@page { size: A4;" in css and "@media print" in css
