"""``/profile`` and the session limits in a real headless Chromium: the page at a phone's
and a laptop's size, "Log ud alle steder", the pages' refreshes marked as polls, and a
queue whose session ended going to the login form by itself."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from phoneservice.storage.migrate import upgrade
from tests.staff import PASSWORD
from tests.web.browsing import BROWSER_MARKS
from tests.web.test_browser import ARTIFACTS, served
from tests.web.test_browser_callbacks import sign_in
from tests.web.test_web_callbacks import NOW, World, make_world

pytestmark = BROWSER_MARKS
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright missing: pip install -e '.[dev]'"
)
SIZES = {"390x844": {"width": 390, "height": 844}, "1366x768": {"width": 1366, "height": 768}}
POLL = "x-phoneservice-poll"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A migrated SQLite file with the page tests' tasks and accounts."""
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('profile')) / 'phoneservice.sqlite3'}"
    upgrade(url)
    for found in make_world(url):
        found.client("anne")  # makes the accounts
        found.client("vera")
        yield found


@pytest.fixture(scope="module")
def server(world: World) -> Iterator[str]:
    """The app on a loopback port; the queue and the board refresh every second."""
    world.app.config["CALLBACKS_POLL_SECONDS"] = 1
    world.app.config["BOARD_POLL_SECONDS"] = 1
    with served(world.app) as base:
        yield base


@pytest.fixture
def clock(world: World) -> Iterator[Any]:
    """The app's clock, set back after the test."""
    yield world.queue.clock
    world.queue.clock.now = NOW


def new_page(browser: Any, size: str = "1366x768") -> tuple[Any, list[str]]:
    """A page of a fresh context, and the console errors it collects."""
    page = browser.new_context(viewport=SIZES[size], locale="da-DK").new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return page, errors


@pytest.mark.parametrize("size", list(SIZES))
def test_the_profile_at_a_phones_and_a_laptops_size(browser, server, size):
    page, errors = new_page(browser, size)
    sign_in(page, server, "anne")
    if size == "390x844":  # a phone folds the top bar's menu behind its button
        page.get_by_role("button", name="Menu").click()
    page.get_by_role("link", name="anne").click()
    sync_api.expect(page.locator("h1")).to_have_text("Min profil")
    facts = page.locator("dl.facts")
    sync_api.expect(facts).to_contain_text("Medarbejder (tilbagekald)")
    sync_api.expect(facts).to_contain_text("Jobcenter, Tandplejen")
    sync_api.expect(facts).to_contain_text("PJSIP/anne")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"profile-{size}.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= SIZES[size]["width"]  # nothing wider than the screen, the header neither
    page.context.close()
    assert errors == []


def to_profile(page: Any, base: str, username: str) -> None:
    """Sign in through the form, landing on the profile."""
    page.goto(base + "/login?next=/profile")
    page.locator("#username").fill(username)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Log ind").click()
    sync_api.expect(page.locator("h1")).to_have_text("Min profil")


def test_log_out_everywhere_signs_out_another_browser_too(browser, server):
    page, errors = new_page(browser)
    other, _ = new_page(browser)
    to_profile(page, server, "vera")
    to_profile(other, server, "vera")
    page.get_by_role("button", name="Log ud alle steder").click()
    sync_api.expect(page.locator("p.notice")).to_have_text("Du er logget ud alle steder.")
    other.reload()
    sync_api.expect(other.locator("h1")).to_have_text("Log ind")
    page.context.close()
    other.context.close()
    assert errors == []


def test_the_refreshes_are_marked_as_polls(browser, server):
    page, errors = new_page(browser)
    sign_in(page, server, "anne")
    seen: dict[str, list[str | None]] = {"/callbacks/rows": [], "/board/rows": []}

    def note(request: Any) -> None:
        for path, found in seen.items():
            if path in request.url:
                found.append(request.headers.get(POLL))

    page.on("request", note)
    page.wait_for_timeout(2500)
    page.goto(server + "/")
    page.wait_for_timeout(2500)
    assert seen["/callbacks/rows"] and set(seen["/callbacks/rows"]) == {"1"}
    assert seen["/board/rows"] and set(seen["/board/rows"]) == {"1"}
    page.context.close()
    assert errors == []


def test_a_queue_whose_session_ended_goes_to_the_login_form(browser, server, clock):
    page, errors = new_page(browser)
    sign_in(page, server, "anne")
    sync_api.expect(page.locator("#queue")).to_contain_text("+45")
    clock.advance(minutes=61)  # an idle hour: the next refresh finds the session over
    page.wait_for_url("**/login?next=/callbacks", timeout=10_000)
    sync_api.expect(page.locator("h1")).to_have_text("Log ind")
    assert "+45" not in page.content()  # no citizen's number left on the screen
    page.context.close()
    assert [e for e in errors if "401" not in e] == []  # the refused refresh itself
