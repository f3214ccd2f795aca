"""``/directory`` in a real headless Chromium: printed to an A4 PDF, and on screen.

As ``tests/web/test_browser.py``: Debian's ``/usr/bin/chromium`` through ``playwright``,
skipped when either is missing; the PDF and screenshots go to ``test-artifacts/``; any
console error (a CSP block is one) fails the test.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest

from phoneservice.registry import Registry
from phoneservice.settings import Settings
from phoneservice.web import create_app
from tests.conftest import SHIPPED_CONFIG
from tests.web.browsing import BROWSER_MARKS, served
from tests.web.test_browser import ARTIFACTS
from tests.web.test_web_directory import MONDAY_BEFORE_CHRISTMAS

pytestmark = BROWSER_MARKS
pypdf = pytest.importorskip("pypdf", reason="pypdf missing: pip install -e '.[dev]'")
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright missing: pip install -e '.[dev]'"
)

WEEK_HEAD = "Man 21/12"  # the first day over the week table of each unit
CLOSURES = ("Helligdage og afvigelser de næste 30 dage:", "Ingen helligdage eller afvigelser")


@pytest.fixture(scope="module")
def server(shipped: Registry) -> Iterator[str]:
    """The shipped registry on Monday 21 December 2026, on loopback."""
    settings = Settings(config=SHIPPED_CONFIG)
    app = create_app(settings, registry=shipped, clock=lambda: MONDAY_BEFORE_CHRISTMAS)
    with served(app) as base:
        yield base


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh Danish page; fails the test on any console error."""
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="da-DK")
    found, errors = context.new_page(), []
    found.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    found.on("pageerror", lambda exc: errors.append(str(exc)))
    yield found
    context.close()
    assert errors == []


def printed(page: Any, url: str) -> list[str]:
    """The text of each page of ``url`` printed by Chromium to an A4 PDF."""
    page.goto(url)
    pdf = page.pdf(format="A4")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "directory.pdf").write_bytes(pdf)
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return [" ".join(sheet.extract_text().split()) for sheet in reader.pages]


def test_the_printed_directory_holds_every_unit_and_its_hours(
    page: Any, server: str, shipped: Registry
) -> None:
    sheets = printed(page, server + "/directory")
    text = " ".join(sheets)
    assert 2 <= len(sheets) <= 20
    for unit in shipped.units.values():
        assert " ".join(unit.name.split()) in text, unit.name
    assert "Borgerservice Telefon +45 56 57 57 57 · Menu: tast 1" in text
    assert "Man 21/12" in text and "10:00–14:00" in text
    assert "Torsdag 24. december: lukket – Juleaftensdag" in text
    assert "Log ind" not in text and "English" not in text  # no header menu on paper
    assert "Ctrl+P" not in text  # nor the hint for the screen


def test_no_unit_is_split_across_printed_pages(page: Any, server: str, shipped: Registry) -> None:
    sheets = printed(page, server + "/directory")
    names = sorted((u.name for u in shipped.units.values()), key=len, reverse=True)
    for number, sheet in enumerate(sheets, start=1):
        rest, heads = sheet, 0
        for name in names:  # longest first: "Tandplejen – akuttelefon" before "Tandplejen"
            heads += rest.count(name)
            rest = rest.replace(name, "")
        tables = sheet.count(WEEK_HEAD)
        ends = sum(sheet.count(closing) for closing in CLOSURES)
        assert heads == tables == ends, f"page {number}: {heads} names, {tables}, {ends}"


def test_print_is_black_on_white_without_the_header(page: Any, server: str) -> None:
    page.goto(server + "/directory")
    page.emulate_media(media="print")
    style = """selector => {
        const found = getComputedStyle(document.querySelector(selector));
        return [found.display, found.color, found.backgroundColor, found.textDecorationLine];
    }"""
    assert page.evaluate(style, "header.top")[0] == "none"
    assert page.evaluate(style, "body")[1:3] == ["rgb(0, 0, 0)", "rgb(255, 255, 255)"]
    name = page.evaluate(style, "#name-borgerservice a")
    assert name[1] == "rgb(0, 0, 0)" and name[3] == "none"  # a link is shown as text
    for selector in (".directory-group h2", "table.week th", "table.week td.no-hours"):
        assert page.evaluate(style, selector)[1] == "rgb(0, 0, 0)", selector
    assert page.evaluate(style, ".entry")[2] in ("rgba(0, 0, 0, 0)", "rgb(255, 255, 255)")


@pytest.mark.parametrize(("width", "height"), [(390, 844), (1366, 768)])
def test_the_directory_on_screen(browser: Any, server: str, width: int, height: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": height}, locale="da-DK")
    page = context.new_page()
    page.goto(server + "/directory")
    overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert overflow is False  # no sideways scrolling, also on a phone
    monday = page.locator("#unit-borgerservice td").first.inner_text().split()
    # A phone shows the week as days with their labels; a wide screen in columns under a head.
    assert monday == (["Man", "21/12", "10:00–14:00"] if width < 600 else ["10:00–14:00"])
    sync_api.expect(page.locator("#unit-borgerservice thead")).to_be_visible(visible=width > 600)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"directory-{width}x{height}.png"))
    context.close()
