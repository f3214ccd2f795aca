"""The board in a real headless Chromium: live update, instant search, the unit page.

Needs Debian's ``/usr/bin/chromium`` and the ``playwright`` package (never its own browser
download); skipped with the reason when either is missing. Screenshots go to
``test-artifacts/``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from phoneservice.registry import Registry
from phoneservice.settings import Settings
from phoneservice.web import create_app
from tests.conftest import ROOT, SHIPPED_CONFIG
from tests.web.browsing import BROWSER_MARKS, served

ARTIFACTS = ROOT / "test-artifacts"
VIEWPORT = {"width": 1366, "height": 768}
MONDAY_1359 = datetime(2026, 11, 23, 12, 59, 50, tzinfo=UTC)  # Copenhagen 13:59:50
BORGERSERVICE = "#unit-borgerservice"

pytestmark = BROWSER_MARKS
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright missing: pip install -e '.[dev]'"
)


class TestClock:
    """The server's clock: set by the test, stopped or running with real time."""

    __test__ = False

    def __init__(self, start: datetime) -> None:
        self._lock = threading.Lock()
        self._base, self._since = start, None

    def __call__(self) -> datetime:
        with self._lock:
            if self._since is None:
                return self._base
            return self._base + timedelta(seconds=time.monotonic() - self._since)

    def set(self, when: datetime, *, running: bool = False) -> None:
        """Stop the clock at ``when``, or let it run on from there."""
        with self._lock:
            self._base, self._since = when, time.monotonic() if running else None


@pytest.fixture(scope="module")
def clock() -> TestClock:
    return TestClock(MONDAY_1359)


@pytest.fixture(scope="module")
def server(shipped: Registry, clock: TestClock) -> Iterator[tuple[str, Any]]:
    """The app on a loopback port in a thread: its base URL and the app."""
    app = create_app(Settings(config=SHIPPED_CONFIG), registry=shipped, clock=clock)
    with served(app) as base:
        yield base, app


@pytest.fixture
def console_errors() -> list[str]:
    """The page's console errors; a test that provokes some clears them."""
    return []


@pytest.fixture
def page(
    browser: Any, server: tuple[str, Any], clock: TestClock, console_errors: list[str]
) -> Iterator[Any]:
    """A fresh 1366×768 page; fails the test on any console error (a CSP block is one)."""
    clock.set(MONDAY_1359)
    server[1].config["BOARD_POLL_SECONDS"] = 60
    context = browser.new_context(viewport=VIEWPORT, locale="da-DK")
    found = context.new_page()
    errors = console_errors
    found.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    found.on("pageerror", lambda exc: errors.append(str(exc)))
    yield found
    context.close()
    assert errors == []


def screenshot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name))


def test_board_closes_at_the_change_without_reload(
    page: Any, server: tuple[str, Any], clock: TestClock
) -> None:
    clock.set(MONDAY_1359 + timedelta(seconds=6), running=True)  # 13:59:56 and on
    server[1].config["BOARD_POLL_SECONDS"] = 3600  # only the change time can refresh it
    page.goto(server[0] + "/")
    row = page.locator(BORGERSERVICE)
    sync_api.expect(row).to_contain_text("ÅBEN")
    sync_api.expect(row).to_contain_text("lukker kl. 14:00")
    screenshot(page, "board.png")
    page.evaluate("window.notReloaded = true")
    sync_api.expect(row).to_contain_text("LUKKET", timeout=15_000)
    sync_api.expect(row).to_contain_text("åbner i morgen kl. 10:00")
    assert page.evaluate("window.notReloaded") is True
    screenshot(page, "board-after-14.png")


def test_board_polls_and_follows_the_server_clock(
    page: Any, server: tuple[str, Any], clock: TestClock
) -> None:
    server[1].config["BOARD_POLL_SECONDS"] = 1
    page.goto(server[0] + "/")
    row = page.locator(BORGERSERVICE)
    sync_api.expect(row).to_contain_text("lukker kl. 14:00")
    clock.set(MONDAY_1359 + timedelta(seconds=15))  # the server is suddenly past 14:00
    sync_api.expect(row).to_contain_text("LUKKET", timeout=10_000)
    sync_api.expect(page.locator("#board-rows")).to_have_attribute(
        "data-server-now", "2026-11-23T14:00:05+01:00"
    )


def test_search_filters_as_you_type(page: Any, server: tuple[str, Any]) -> None:
    page.goto(server[0] + "/")
    page.locator("#search").press_sequentially("pas")
    sync_api.expect(page.locator(BORGERSERVICE)).to_be_visible()
    sync_api.expect(page.locator("#unit-jobcenter")).to_be_hidden()
    sync_api.expect(page.locator("#unit-skattestyrelsen")).to_be_hidden()
    screenshot(page, "board-search-pas.png")
    page.locator("#search").press("Escape")
    sync_api.expect(page.locator("#unit-jobcenter")).to_be_visible()
    page.locator("#search").fill("tandpine")
    sync_api.expect(page.locator("#unit-tandpinevagt")).to_be_visible()
    sync_api.expect(page.locator(BORGERSERVICE)).to_be_hidden()
    page.locator("#search").fill("ingen-saadan-enhed")
    sync_api.expect(page.locator("#no-match")).to_be_visible()


def test_search_survives_a_live_update(page: Any, server: tuple[str, Any]) -> None:
    server[1].config["BOARD_POLL_SECONDS"] = 1
    page.goto(server[0] + "/")
    page.locator("#search").fill("pas")
    marker = page.locator("#board-rows").evaluate_handle("el => el")
    page.wait_for_function("m => !m.isConnected", arg=marker, timeout=10_000)  # swapped in
    sync_api.expect(page.locator("#unit-jobcenter")).to_be_hidden()
    sync_api.expect(page.locator(BORGERSERVICE)).to_be_visible()


def test_lost_server_shows_a_warning(
    page: Any, server: tuple[str, Any], console_errors: list[str]
) -> None:
    server[1].config["BOARD_POLL_SECONDS"] = 1
    page.route("**/board/rows", lambda route: route.abort())
    page.goto(server[0] + "/")
    sync_api.expect(page.locator("#stale")).to_be_visible(timeout=10_000)
    screenshot(page, "board-stale.png")
    page.unroute("**/board/rows")
    sync_api.expect(page.locator("#stale")).to_be_hidden(timeout=20_000)
    assert set(console_errors) == {"Failed to load resource: net::ERR_FAILED"}
    console_errors.clear()


def test_unit_page_and_its_picker(page: Any, server: tuple[str, Any]) -> None:
    page.goto(server[0] + "/")
    page.locator(BORGERSERVICE).get_by_role("link", name="Borgerservice").click()
    sync_api.expect(page.locator("h1")).to_have_text("Borgerservice")
    sync_api.expect(page.locator(".unit-head")).to_contain_text("lukker kl. 14:00")
    page.locator("#at").fill("2026-12-24T10:00")
    page.get_by_role("button", name="Tjek").click()
    answer = page.locator("#answer")
    sync_api.expect(answer).to_contain_text("LUKKET")
    sync_api.expect(answer).to_contain_text("Juleaftensdag")
    sync_api.expect(answer).to_contain_text("åbner 4. januar kl. 10:00")
    screenshot(page, "unit-borgerservice.png")


def test_only_open_and_number_search_filter_at_once_and_survive_reload_and_language(
    page: Any, server: tuple[str, Any]
) -> None:
    page.goto(server[0] + "/")
    visitation = page.locator("#unit-visitation")  # 08:00-10:00: closed at 13:59
    sync_api.expect(visitation).to_be_visible()
    page.locator("#only-open").focus()
    page.keyboard.press("Space")  # the filter is a checkbox: the keyboard works as for any
    sync_api.expect(visitation).to_be_hidden()
    sync_api.expect(page.locator(BORGERSERVICE)).to_be_visible()
    assert "open=1" in page.url
    page.locator("#search").fill("+45 70 10 10 10")  # Borgerservice's DID, in another format
    sync_api.expect(page.locator(BORGERSERVICE)).to_be_visible()
    sync_api.expect(page.locator("#unit-jobcenter")).to_be_hidden()
    screenshot(page, "board-open-number-search.png")
    page.reload()
    sync_api.expect(page.locator("#only-open")).to_be_checked()
    sync_api.expect(page.locator("#search")).to_have_value("+45 70 10 10 10")
    sync_api.expect(page.locator("#unit-jobcenter")).to_be_hidden()
    page.locator("a.lang").click()
    sync_api.expect(page.locator("html")).to_have_attribute("lang", "en")
    sync_api.expect(page.locator("#only-open")).to_be_checked()
    sync_api.expect(page.locator(BORGERSERVICE)).to_be_visible()
    sync_api.expect(page.locator("#unit-jobcenter")).to_be_hidden()
    page.locator("#search").fill("0045 72 22 18 18")  # Skattestyrelsen's phone
    sync_api.expect(page.locator("#unit-skattestyrelsen")).to_be_visible()
    sync_api.expect(page.locator(BORGERSERVICE)).to_be_hidden()
    page.locator("#only-open").uncheck()
    sync_api.expect(visitation).to_be_hidden()  # the search still applies
    assert "open=1" not in page.url


def test_a_number_is_a_tel_link_and_its_button_copies_it(
    page: Any, server: tuple[str, Any]
) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(server[0] + "/")
    row = page.locator(BORGERSERVICE)
    sync_api.expect(row.locator("a.phone")).to_have_attribute("href", "tel:+4556575757")
    copy = row.locator("button.copy").first
    sync_api.expect(copy).to_be_visible()
    copy.focus()
    page.keyboard.press("Enter")  # a button: the keyboard works
    sync_api.expect(copy).to_have_class("copy copied")
    assert page.evaluate("navigator.clipboard.readText()") == "+45 56 57 57 57"
    sync_api.expect(page.get_by_role("status").last).to_have_text("Kopieret +45 56 57 57 57")
