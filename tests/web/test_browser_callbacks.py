"""The callback queue in a real headless Chromium: sign in, work a task, htmx rows.

Like tests/web/test_browser.py: Debian's ``/usr/bin/chromium`` driven by ``playwright``
(skipped with the reason when either is missing), screenshots at 1366×768 in
``test-artifacts/``, and any console error (a CSP block is one) fails the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from phoneservice.storage.migrate import upgrade
from tests.staff import PASSWORD
from tests.web.browsing import BROWSER_MARKS
from tests.web.test_browser import ARTIFACTS, VIEWPORT, served
from tests.web.test_web_callbacks import World, make_world, missed

pytestmark = BROWSER_MARKS
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright missing: pip install -e '.[dev]'"
)
# More of the jobcenter's citizens, so the queue looks like a working morning.
MORE_CALLS = [
    ("2026-11-20T14:10", "+4528765432"),  # overdue since Monday 15:00
    ("2026-11-23T11:15", "+4522334455"),  # due today 15:00
    ("2026-11-24T08:10", "+4530405060"),  # due tomorrow 15:00, three calls
    ("2026-11-24T08:40", "+4530405060"),
    ("2026-11-24T09:20", "+4530405060"),
]


def seeded(factory: pytest.TempPathFactory, calls: list[tuple[str, str]]) -> Iterator[World]:
    """A migrated SQLite file with the page tests' tasks and the jobcenter's ``calls``."""
    url = f"sqlite:///{Path(factory.mktemp('queue')) / 'phoneservice.sqlite3'}"
    upgrade(url)
    for found in make_world(url):
        for when, number in calls:
            missed(found.queue, when, "jobcenter", number)
        yield found


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The page tests' tasks, a few more, and a colleague's work."""
    for found in seeded(tmp_path_factory, MORE_CALLS):
        busy = found.ids["late"]
        found.queue.callbacks.claim(busy, "carl")
        found.queue.callbacks.attempt(busy, "carl", "no_answer", "ringer igen efter kl. 12")
        found.client("anne")  # makes the account
        yield found


@pytest.fixture(scope="module")
def server(world: World) -> Iterator[str]:
    """The app on a loopback port in a thread, its list refreshing every second."""
    world.app.config["CALLBACKS_POLL_SECONDS"] = 1
    with served(world.app) as base:
        yield base


def viewing(browser: Any, viewport: dict[str, int]) -> Iterator[Any]:
    """A fresh page at ``viewport``; fails the test on any console error."""
    context = browser.new_context(viewport=viewport, locale="da-DK")
    found = context.new_page()
    errors: list[str] = []
    found.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    found.on("pageerror", lambda exc: errors.append(str(exc)))
    yield found
    context.close()
    assert errors == []


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh 1366×768 page."""
    yield from viewing(browser, VIEWPORT)


def screenshot(page: Any, name: str) -> None:
    """A screenshot in test-artifacts/; the caret is left alone, since hiding it puts a
    ``style`` attribute on the inputs that htmx would carry into the next swap (a CSP error).
    """
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), caret="initial")


def hold(route: Any) -> None:
    """Answer a refresh with 204 No Content: htmx then leaves the list as it is."""
    route.fulfill(status=204, body="")


def sign_in(page: Any, base: str, username: str) -> None:
    """Sign in through the form, landing on the queue."""
    page.goto(base + "/login?next=/callbacks")
    page.locator("#username").fill(username)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Log ind").click()
    sync_api.expect(page.locator("h1")).to_have_text("Tilbagekald")
    page.wait_for_load_state("load")  # the deferred scripts (shortcuts, menu) have run


def test_a_caseworker_works_a_task_without_a_reload(page: Any, server: str, world: World) -> None:
    sign_in(page, server, "anne")
    late = page.locator(f"#task-{world.ids['late']}")
    sync_api.expect(late).to_contain_text("FRIST OVERSKREDET")
    sync_api.expect(late).to_contain_text("Taget af carl")
    sync_api.expect(page.locator("tbody.task").first).to_have_class("task overdue")
    screenshot(page, "callbacks.png")
    page.evaluate("window.notReloaded = true")

    row = page.locator(f"#task-{world.ids['today']}")
    sync_api.expect(row.get_by_label("Kort note")).to_be_hidden()  # one line until opened
    row.locator("a.pick").click()
    row.get_by_label("Kort note").fill("prøver igen efter frokost")
    page.wait_for_timeout(2500)  # two refreshes are due: skipped while a field holds input
    sync_api.expect(row.get_by_label("Kort note")).to_have_value("prøver igen efter frokost")

    page.route("**/callbacks/rows*", hold)  # no refresh until the messages have been read
    row.get_by_label("Forsøg").select_option("no_answer")
    row.get_by_role("button", name="Gem forsøg").click()
    sync_api.expect(row).to_contain_text("Forsøget er gemt.")
    sync_api.expect(row).to_contain_text("Intet svar")
    sync_api.expect(row).to_contain_text("prøver igen efter frokost")

    row.get_by_label("Forsøg").select_option("reached")
    row.get_by_role("button", name="Gem forsøg").click()
    sync_api.expect(row).to_contain_text("Borgeren er ringet op")
    screenshot(page, "callbacks-reached.png")
    page.unroute("**/callbacks/rows*")
    sync_api.expect(row).to_have_count(0, timeout=10_000)  # the next refresh drops it
    assert page.evaluate("window.notReloaded") is True
    assert world.task("today").state == "done"


def test_a_closed_unit_asks_before_the_pbx_calls(page: Any, server: str, world: World) -> None:
    sign_in(page, server, "anne")
    row = page.locator(f"#task-{world.ids['teeth']}")
    row.locator("a.pick").click()
    assert row.locator("input[name=agent_device]").count() == 0  # the account names the phone
    sync_api.expect(page.locator(".own-phone")).to_contain_text("PJSIP/anne")
    page.route("**/callbacks/rows*", hold)  # no refresh until the messages have been read
    row.get_by_role("button", name="Ring op").click()
    sync_api.expect(row).to_contain_text("Enheden har lukket nu")
    row.get_by_label("Ring alligevel").check()
    screenshot(page, "callbacks-closed-unit.png")
    row.get_by_role("button", name="Ring op").click()
    sync_api.expect(row).to_contain_text("Opkaldet er bestilt")
    sync_api.expect(row).to_contain_text("venter på telefonsystemet")
    assert world.task("teeth").attempts[-1].agent_device == "PJSIP/anne"
