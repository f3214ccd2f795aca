"""``/reports`` over the size limit in a real headless Chromium, on a phone and a laptop.

The page keeps the form as it was filled in and shows, in the page's language, why the
report was refused and how to narrow it; no figures, no console errors. Screenshots go to
``test-artifacts/reports-too-large-*.png``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from phoneservice.domain.reports.limits import MAX_REPORT_ROWS
from tests.staff import PASSWORD
from tests.web.browsing import ARGS, BROWSER_MARKS, CHROMIUM
from tests.web.test_browser import screenshot
from tests.web.test_browser_reports import served_week

pytestmark = BROWSER_MARKS
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright missing: pip install -e '.[dev]'"
)

FIRST = date(2024, 1, 1)
SIZES = {"phone": {"width": 390, "height": 844}, "laptop": {"width": 1366, "height": 768}}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """The fixed week on SQLite, viewer ``vera``; and how many days by day are too many."""
    for base, units in served_week(Path(tmp_path_factory.mktemp("limits"))):
        yield base, MAX_REPORT_ROWS // units + 1


def too_large(playwright: Any, server: tuple[str, int], size: str, locale: str) -> Any:
    """A signed-in viewer's page at ``size`` after asking for a report one period too large."""
    base, days = server
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
    page = browser.new_context(viewport=SIZES[size], locale=locale).new_page()
    page.errors = []
    page.on("console", lambda msg: page.errors.append(msg.text) if msg.type == "error" else 0)
    last = FIRST + timedelta(days=days - 1)
    page.goto(f"{base}/login?next=/reports")
    page.locator("#username").fill("vera")
    page.locator("#password").fill(PASSWORD)
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_url("**/reports")
    page.locator("#report-from").fill(FIRST.isoformat())
    page.locator("#report-to").fill(last.isoformat())
    page.locator("#report-by").select_option("day")
    page.locator("form.report-form button[type=submit]").click()
    page.wait_for_load_state()
    return page


@pytest.mark.parametrize("size", list(SIZES))
def test_the_page_says_the_report_is_too_large_and_keeps_the_form(
    server: tuple[str, int], size: str
) -> None:
    with sync_api.sync_playwright() as playwright:
        page = too_large(playwright, server, size, "da-DK")
        alert = page.locator("#too-large")
        sync_api.expect(alert).to_be_visible()
        sync_api.expect(alert).to_contain_text("Rapporten er for stor")
        sync_api.expect(alert).to_contain_text("opdel pr. uge i stedet")
        assert page.locator("#report-from").input_value() == FIRST.isoformat()
        assert page.locator("#report-by").input_value() == "day"
        assert page.locator("svg").count() == 0
        box = alert.bounding_box()
        assert box is not None and box["x"] >= 0
        assert box["x"] + box["width"] <= SIZES[size]["width"]  # no sideways scrolling
        screenshot(page, f"reports-too-large-{size}.png")
        assert [e for e in page.errors if "status of 400" not in e] == []  # the 400 is ours


def test_the_advice_reads_in_english_too(server: tuple[str, int]) -> None:
    with sync_api.sync_playwright() as playwright:
        page = too_large(playwright, server, "laptop", "en-GB")
        sync_api.expect(page.locator("#too-large")).to_contain_text("The report is too large")
        sync_api.expect(page.locator("#too-large")).to_contain_text("choose one unit")
