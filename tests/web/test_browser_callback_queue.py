"""The callback queue's layout and keyboard in a real headless Chromium: one line per
task (at least ten visible at 1366×768), cards without sideways scrolling on a phone
(390×844), and the shortcuts j/k/arrows, Enter, c, r, a and ? (docs/web.md).

Screenshots go to ``test-artifacts/`` (callback-queue-*.png).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.web.browsing import BROWSER_MARKS
from tests.web.test_browser import ARTIFACTS, VIEWPORT, served
from tests.web.test_browser_callbacks import seeded, sign_in, viewing
from tests.web.test_web_callbacks import World

pytestmark = BROWSER_MARKS
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright missing: pip install -e '.[dev]'"
)
PHONE = {"width": 390, "height": 844}
# A busy morning at the jobcenter: ten more citizens waiting, fourteen tasks for anne.
MORE = [(f"2026-11-23T{8 + n // 2:02d}:{(n % 2) * 30:02d}", f"+452000{n:04d}") for n in range(10)]
FULLY_SHOWN = """() => Array.from(document.querySelectorAll('#queue tbody.task')).filter(row => {
  const box = row.getBoundingClientRect();
  return box.height > 0 && box.top >= 0 && box.bottom <= window.innerHeight;
}).length"""
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The page tests' tasks and ten more of the jobcenter."""
    for found in seeded(tmp_path_factory, MORE):
        found.client("anne")  # makes the account
        yield found


@pytest.fixture(scope="module")
def server(world: World) -> Iterator[str]:
    with served(world.app) as base:
        yield base


@pytest.fixture
def desk(browser: Any) -> Iterator[Any]:
    yield from viewing(browser, VIEWPORT)


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    yield from viewing(browser, PHONE)


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"callback-queue-{name}.png"), caret="initial")


def rows(page: Any) -> Any:
    return page.locator("#queue tbody.task")


def focused(page: Any) -> str:
    return page.evaluate("document.activeElement.id || document.activeElement.name || ''")


def test_at_least_ten_tasks_show_at_1366_by_768_even_with_one_open(desk: Any, server: str):
    sign_in(desk, server, "anne")
    assert rows(desk).count() >= 12
    assert desk.evaluate(FULLY_SHOWN) >= 10
    assert desk.evaluate(OVERFLOW) <= 0
    first = rows(desk).first
    sync_api.expect(first.get_by_role("button", name="Ring op")).to_be_hidden()
    first.locator("a.pick").click()
    sync_api.expect(first).to_have_class("task overdue selected")
    sync_api.expect(first.get_by_role("button", name="Ring op")).to_be_visible()
    assert desk.evaluate(FULLY_SHOWN) >= 10
    assert rows(desk).nth(1).get_by_role("button", name="Ring op").is_hidden()  # one at a time
    shot(desk, "1366-selected")


def test_on_a_phone_tasks_are_cards_and_nothing_scrolls_sideways(phone: Any, server: str):
    sign_in(phone, server, "anne")
    assert phone.evaluate(OVERFLOW) <= 0
    first = rows(phone).first
    assert first.evaluate("row => getComputedStyle(row).display") == "block"
    first.locator("a.pick").click()
    sync_api.expect(first.get_by_role("button", name="Ring op")).to_be_visible()
    first.get_by_text("Note eller annullér").click()
    phone.locator("#keys summary").click()
    assert phone.evaluate(OVERFLOW) <= 0
    phone.locator("#keys summary").click()
    phone.evaluate("window.scrollTo(0, 0)")
    shot(phone, "390-selected")


def test_the_keyboard_moves_opens_and_claims_but_never_while_typing(desk: Any, server: str):
    sign_in(desk, server, "anne")
    ids = [rows(desk).nth(n).get_attribute("data-task") for n in range(3)]
    desk.keyboard.press("j")
    assert focused(desk) == f"pick-{ids[0]}"
    assert desk.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    desk.keyboard.press("j")
    desk.keyboard.press("ArrowDown")
    desk.keyboard.press("k")
    assert focused(desk) == f"pick-{ids[1]}"
    second = desk.locator(f"#task-{ids[1]}")
    desk.keyboard.press("Enter")
    sync_api.expect(second).to_have_class("task selected")
    assert "selected" not in (desk.locator(f"#task-{ids[0]}").get_attribute("class") or "")
    desk.keyboard.press("c")
    sync_api.expect(second).to_contain_text("Du har taget opgaven.")
    sync_api.expect(second.locator(".badge.mine")).to_have_text("Din")
    desk.keyboard.press("a")
    assert focused(desk) == f"outcome-{ids[1]}"
    desk.keyboard.press("Escape")
    note = second.get_by_label("Kort note")
    note.click()
    note.type("jkc?")  # typed into the field: no shortcut fires
    sync_api.expect(note).to_have_value("jkc?")
    sync_api.expect(desk.locator("#keys")).not_to_have_attribute("open", "")
    assert "Din" not in desk.locator(f"#task-{ids[2]}").inner_text()
    shot(desk, "1366-keyboard")


def test_question_mark_shows_the_shortcuts_in_danish(desk: Any, server: str):
    sign_in(desk, server, "anne")
    help_text = desk.locator("#keys")
    sync_api.expect(help_text.locator("summary")).to_contain_text("Tastaturgenveje")
    desk.keyboard.press("?")
    sync_api.expect(help_text).to_have_attribute("open", "")
    for words in ("Næste opgave", "Forrige opgave", "Tag opgaven", "Ring op", "Gem et forsøg"):
        sync_api.expect(help_text).to_contain_text(words)
    shot(desk, "1366-help")
    desk.keyboard.press("?")
    sync_api.expect(help_text).not_to_have_attribute("open", "")


def test_shortcuts_are_in_english_too(desk: Any, server: str):
    sign_in(desk, server, "anne")
    desk.goto(server + "/callbacks?lang=en")
    desk.keyboard.press("?")
    sync_api.expect(desk.locator("#keys")).to_contain_text("Next task")
    sync_api.expect(desk.locator("#keys")).to_contain_text("Keyboard shortcuts")


def test_every_task_and_its_actions_are_reached_by_tab(desk: Any, server: str):
    sign_in(desk, server, "anne")
    first = rows(desk).first.get_attribute("data-task")
    for _ in range(40):
        desk.keyboard.press("Tab")
        if focused(desk) == f"pick-{first}":
            break
    assert focused(desk) == f"pick-{first}"
    desk.keyboard.press("Enter")
    reached = []
    for _ in range(6):
        desk.keyboard.press("Tab")
        reached.append(desk.evaluate("document.activeElement.textContent.trim()"))
    assert "Tag opgaven" in reached and "Ring op" in reached
