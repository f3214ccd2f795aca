"""``/admin`` in a real headless Chromium: sign in, close a unit, see it on the board.

As ``tests/web/test_browser.py``: Debian's ``/usr/bin/chromium`` through ``playwright``,
skipped when either is missing; screenshots go to ``test-artifacts/``; any console error
(a CSP block is one) fails the test.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from phoneservice.registry import Registry
from phoneservice.storage.migrate import upgrade
from tests.staff import PASSWORD, add_user, staff_app
from tests.web.browsing import ARGS, BROWSER_MARKS, CHROMIUM
from tests.web.test_browser import ARTIFACTS, VIEWPORT, screenshot, served

MONDAY_1100 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # Copenhagen 11:00

pytestmark = BROWSER_MARKS
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright missing: pip install -e '.[dev]'"
)


def clock() -> datetime:
    return MONDAY_1100


@pytest.fixture(scope="module")
def server(shipped: Registry, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The staff app on a fresh SQLite database, on a loopback port, with the admin ``ida``."""
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('admin')) / 'db.sqlite3'}"
    upgrade(url)
    add_user(url, clock, "ida", "admin")
    app = staff_app(url, shipped, clock)
    with served(app) as base:
        yield base


@pytest.fixture
def page(server: str) -> Iterator[Any]:
    """A signed-in admin's 1366×768 page; fails the test on any console error."""
    errors: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        found = browser.new_context(viewport=VIEWPORT, locale="da-DK").new_page()
        found.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        found.on("pageerror", lambda exc: errors.append(str(exc)))
        found.goto(server + "/login?next=/admin")
        found.locator("#username").fill("ida")
        found.locator("#password").fill(PASSWORD)
        found.get_by_role("button", name="Log ind").click()
        sync_api.expect(found.locator("h1")).to_have_text("Administration")
        yield found
        browser.close()
    assert errors == []


def test_closing_a_unit_from_admin_marks_it_on_the_board(page: Any, server: str) -> None:
    screenshot(page, "admin.png")
    form = page.locator("#overrides form").first
    form.locator("#override-unit").select_option("borgerservice")
    form.locator("input[name=until][value=time]").check()
    form.locator("input[name=time]").fill("14:30")
    form.locator("#override-reason").fill("brandalarm")
    form.get_by_role("button", name="Gem ændring").click()
    sync_api.expect(page.locator(".notice")).to_have_text(
        "Borgerservice er nu lukket til kl. 14:30."
    )
    sync_api.expect(page.locator("#overrides table")).to_contain_text("brandalarm")
    screenshot(page, "admin-override.png")
    page.goto(server + "/")
    row = page.locator("#unit-borgerservice")
    sync_api.expect(row).to_contain_text("LUKKET")
    sync_api.expect(row).to_contain_text("Manuelt lukket til kl. 14:30: brandalarm")
    sync_api.expect(row).to_have_class(re.compile(r"\bis-overridden\b"))
    screenshot(page, "board-override.png")
    page.goto(server + "/units/borgerservice")  # today's hours: what the override leaves
    today = page.locator("table.days tr.today")
    sync_api.expect(today).to_contain_text("brandalarm")
    sync_api.expect(today).to_contain_text("10:00–11:00")  # then closed until 14:30
    sync_api.expect(today).not_to_contain_text("–14:00")
    for width, height in ((1366, 768), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(ARTIFACTS / f"unit-override-{width}.png"), full_page=True)


def test_a_new_token_is_shown_once(page: Any, server: str) -> None:
    form = page.locator("#tokens form")
    form.locator("#token-name").fill("intranet")
    form.get_by_role("button", name="Udsted nøgle").click()
    secret = page.locator("#token-secret").input_value()
    assert secret.startswith("psk_")
    screenshot(page, "admin-token.png")
    page.goto(server + "/admin#tokens")
    sync_api.expect(page.locator("#tokens table")).to_contain_text("intranet")
    assert secret not in page.content()
    page.screenshot(path=str(ARTIFACTS / "admin-full.png"), full_page=True)
