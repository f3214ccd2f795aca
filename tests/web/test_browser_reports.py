"""``/reports`` in a real headless Chromium: the fixed week's figures, charts and definitions,
and the layout of the promises on a laptop and a phone.

As ``tests/web/test_browser.py``: Debian's ``/usr/bin/chromium`` through ``playwright``,
skipped when either is missing; screenshots go to ``test-artifacts/``; any console error
(a CSP block is one) fails the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from phoneservice.registry import Registry
from phoneservice.storage.migrate import upgrade
from tests.services.test_reports import REPORTED_AT, build_office, fill_week
from tests.staff import PASSWORD, add_user, staff_app
from tests.web.browsing import ARGS, BROWSER_MARKS, CHROMIUM
from tests.web.test_browser import ARTIFACTS, VIEWPORT, screenshot, served

pytestmark = BROWSER_MARKS
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright missing: pip install -e '.[dev]'"
)


def served_week(folder: Path, registry: Registry | None = None) -> Iterator[tuple[str, int]]:
    """The fixed week of tests/services/test_reports.py on SQLite, on loopback, viewer
    ``vera``: the address and the number of units. ``registry``: another than the lab's."""
    url = f"sqlite:///{folder / 'db.sqlite3'}"
    upgrade(url)
    for office in build_office(url, registry):
        fill_week(office)
        add_user(url, lambda: REPORTED_AT, "vera", "viewer")
        app = staff_app(url, office.registry, lambda: REPORTED_AT)
        with served(app) as base:
            yield base, len(office.registry.units)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The fixed week on loopback."""
    for base, _ in served_week(Path(tmp_path_factory.mktemp("reports"))):
        yield base


@pytest.fixture(scope="module")
def shipped_server(tmp_path_factory: pytest.TempPathFactory, shipped: Registry) -> Iterator[str]:
    """The fixed week over the shipped registry (30 units, long names) on loopback."""
    for base, _ in served_week(Path(tmp_path_factory.mktemp("shipped")), shipped):
        yield base


def signed_in(
    server: str,
    locale: str,
    errors: list[str],
    playwright: Any,
    viewport: dict[str, int] = VIEWPORT,
    query: str = "",
) -> Any:
    """A viewer's page (1366×768 unless told) in ``locale``; ``query`` is added to the week."""
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
    page = browser.new_context(viewport=viewport, locale=locale).new_page()
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    following = quote(f"/reports?from=2026-11-16&to=2026-11-20{query}", safe="/")
    page.goto(f"{server}/login?next={following}")
    page.locator("#username").fill("vera")
    page.locator("#password").fill(PASSWORD)
    page.locator("form.stack button[type=submit]").click()
    return page


@pytest.mark.parametrize(("locale", "title"), [("da-DK", "Rapporter"), ("en-GB", "Reports")])
def test_the_week_report_reads_in_both_languages(server: str, locale: str, title: str) -> None:
    errors: list[str] = []
    with sync_api.sync_playwright() as playwright:
        page = signed_in(server, locale, errors, playwright)
        sync_api.expect(page.locator("h1")).to_contain_text(title)
        assert page.locator("svg").count() >= 1  # the charts are inline SVG
        folded = page.locator("details.how")
        assert folded.count() == 4  # under the three tables and the hour grid
        assert not page.locator("details.how li").first.is_visible()
        folded.first.locator("summary").click()
        assert page.locator("#promises details.how li").count() >= 10
        assert page.locator("#promises details.how li").first.is_visible()
        screenshot(page, f"reports-{locale[:2]}.png")
        page.screenshot(path=str(ARTIFACTS / f"reports-{locale[:2]}-full.png"), full_page=True)
    assert errors == []


SIZES = {"laptop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}
SHOTS = "reports-promises"


def overflow(page: Any) -> dict[str, int]:
    """How far the promises table and the page stick out of their boxes (0: not at all)."""
    found: dict[str, int] = page.evaluate(
        """() => {
          const table = document.querySelector('#promises table');
          const box = table.parentElement;
          const root = document.documentElement;
          return {
            table: Math.max(0, table.scrollWidth - box.clientWidth),
            page: Math.max(0, root.scrollWidth - root.clientWidth),
          };
        }"""
    )
    return found


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("locale", ["da-DK", "en-GB"])
@pytest.mark.parametrize("empty", ["", "&empty=1"], ids=["with-calls", "every-unit"])
def test_the_promises_fit_without_scrolling_sideways(
    shipped_server: str, shipped: Registry, size: str, locale: str, empty: str
) -> None:
    errors: list[str] = []
    with sync_api.sync_playwright() as playwright:
        page = signed_in(shipped_server, locale, errors, playwright, SIZES[size], empty)
        table = page.locator("#promises table")
        sync_api.expect(table).to_be_visible()
        rows = table.locator("tbody tr").count()
        # every unit, "Uden enhed" and the total; or the two units with calls, those two
        assert rows == (len(shipped.units) + 2 if empty else 4)
        assert overflow(page) == {"table": 0, "page": 0}
        # the lead figures are on screen without scrolling: the total's answer rate
        total_rate = table.locator("tr.total td").nth(1)
        box = total_rate.bounding_box()
        assert box is not None and box["x"] + box["width"] <= SIZES[size]["width"]
        if size == "phone":  # one card per unit: the figures stack under the unit's name
            first = table.locator("tbody tr").first
            cells = first.locator("td")
            assert cells.nth(0).bounding_box()["y"] < cells.nth(1).bounding_box()["y"]
        name = f"{size}-{locale[:2]}{'-every-unit' if empty else ''}.png"
        screenshot(page, f"{SHOTS}-{name}")
        page.screenshot(path=str(ARTIFACTS / f"{SHOTS}-{name[:-4]}-full.png"), full_page=True)
    assert errors == []
