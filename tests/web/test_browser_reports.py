"""``/reports`` in a real headless Chromium: the fixed week's figures, charts and definitions.

As ``tests/web/test_browser.py``: Debian's ``/usr/bin/chromium`` through ``playwright``,
skipped when either is missing; screenshots go to ``test-artifacts/``; any console error
(a CSP block is one) fails the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from phoneservice.storage.migrate import upgrade
from tests.services.test_reports import REPORTED_AT, build_office, fill_week
from tests.staff import PASSWORD, add_user, staff_app
from tests.web.browsing import ARGS, BROWSER_MARKS, CHROMIUM
from tests.web.test_browser import ARTIFACTS, VIEWPORT, screenshot, served

pytestmark = BROWSER_MARKS
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright missing: pip install -e '.[dev]'"
)


def served_week(folder: Path) -> Iterator[tuple[str, int]]:
    """The fixed week of tests/services/test_reports.py on SQLite, on loopback, viewer
    ``vera``: the address and the number of units."""
    url = f"sqlite:///{folder / 'db.sqlite3'}"
    upgrade(url)
    for office in build_office(url):
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


def signed_in(server: str, locale: str, errors: list[str], playwright: Any) -> Any:
    """A viewer's 1366×768 page in ``locale``."""
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
    page = browser.new_context(viewport=VIEWPORT, locale=locale).new_page()
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server + "/login?next=/reports%3Ffrom%3D2026-11-16%26to%3D2026-11-20")
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
        assert page.locator("#definitions li").count() >= 10
        screenshot(page, f"reports-{locale[:2]}.png")
        page.screenshot(path=str(ARTIFACTS / f"reports-{locale[:2]}-full.png"), full_page=True)
    assert errors == []
