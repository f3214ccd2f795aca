"""Every page in a real headless Chromium: axe-core finds no serious or critical WCAG 2.1
problem, and nothing scrolls sideways, in Danish and English, on a phone and a laptop.

axe-core is the copy the ``axe-playwright-python`` package ships (no download). The app
holds the fixed week of tests/services/test_reports.py on the shipped registry, so the
queue, the reports and the admin lists have rows. Full-page screenshots, with the phone's
menu closed and open, go to ``test-artifacts/a11y/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from phoneservice.registry import Registry
from phoneservice.storage.migrate import upgrade
from tests.evaluation_data import with_goals
from tests.services.test_reports import REPORTED_AT, build_office, fill_week
from tests.staff import PASSWORD, add_user, staff_app
from tests.web.browsing import BROWSER_MARKS, served
from tests.web.test_browser import ARTIFACTS

pytestmark = BROWSER_MARKS
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright missing: pip install -e '.[dev]'"
)
axe_playwright = pytest.importorskip(
    "axe_playwright_python.sync_playwright",
    reason="axe-playwright-python missing: pip install -e '.[dev]'",
)

SHOTS = ARTIFACTS / "a11y"
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 768}
SIZES = {"390": PHONE, "1366": LAPTOP}
LOCALES = {"da": "da-DK", "en": "en-GB"}
BLOCKING = {"serious", "critical"}


@dataclass(frozen=True)
class Page:
    """A page to visit: its path, and whether the visitor is the signed-in admin."""

    path: str
    signed_in: bool = True


PAGES = {
    "board": Page("/"),
    "board-public": Page("/", signed_in=False),
    "unit": Page("/units/borgerservice"),
    "directory": Page("/directory"),
    "login": Page("/login", signed_in=False),
    "profile": Page("/profile"),
    "callbacks": Page("/callbacks"),
    "reports": Page("/reports?from=2026-11-16&to=2026-11-20"),
    "evaluation": Page("/evaluation?from=2026-11-01&to=2026-11-30"),
    "admin": Page("/admin"),
    "admin-user": Page("/admin/users/ida"),
    "admin-token": Page("/admin#tokens"),  # the secret's page: issued with the form
    "not-found": Page("/units/nowhere", signed_in=False),
}
CASES = [
    pytest.param(name, language, size, id=f"{name}-{language}-{size}")
    for name in PAGES
    for language in LOCALES
    for size in SIZES
]


@pytest.fixture(scope="module")
def server(shipped: Registry, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The fixed week on the shipped registry, the admin ``ida``, on a loopback port."""
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('a11y')) / 'db.sqlite3'}"
    upgrade(url)
    for office in build_office(url, shipped):
        fill_week(office)
        add_user(url, lambda: REPORTED_AT, "ida", "admin", device="PJSIP/ida")
        app = staff_app(url, with_goals(shipped), lambda: REPORTED_AT)
        with served(app) as base:
            yield base


@pytest.fixture(scope="module")
def admin_state(browser: Any, server: str) -> dict[str, Any]:
    """The cookies of a signed-in admin who has closed a unit and issued a token."""
    context = browser.new_context(viewport=LAPTOP, locale="da-DK")
    page = context.new_page()
    page.goto(server + "/login?next=/admin")
    page.locator("#username").fill("ida")
    page.locator("#password").fill(PASSWORD)
    page.locator("form.stack button[type=submit]").click()
    sync_api.expect(page.locator("h1")).to_have_text("Administration")
    page.locator("#override-unit").select_option("borgerservice")
    page.locator("#override-reason").fill("brandalarm")
    page.locator("#overrides form button[type=submit]").click()
    sync_api.expect(page.locator("#overrides table")).to_contain_text("brandalarm")
    state: dict[str, Any] = context.storage_state()
    context.close()
    return state


@pytest.fixture
def visit(browser: Any, server: str, admin_state: dict[str, Any]) -> Iterator[Any]:
    """Open a page by its name in a language at a size; fails the test on a console error."""
    contexts: list[Any] = []
    errors: list[str] = []

    def open_page(name: str, language: str, size: str) -> Any:
        page = PAGES[name]
        state = admin_state if page.signed_in else None
        context = browser.new_context(
            viewport=SIZES[size], locale=LOCALES[language], storage_state=state
        )
        contexts.append(context)
        found = context.new_page()
        found.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        found.on("pageerror", lambda exc: errors.append(str(exc)))
        found.goto(server + page.path)
        if name == "admin-token":
            found.locator("#token-name").fill(f"intranet-{language}-{size}")
            found.locator("#tokens form.admin-form button[type=submit]").click()
            sync_api.expect(found.locator("#token-secret")).to_be_visible()
        return found

    yield open_page
    for context in contexts:
        context.close()
    assert [error for error in errors if "status of 404" not in error] == []


def open_menu(page: Any) -> None:
    """Open the phone's menu with the keyboard, as a person without a mouse would."""
    toggle = page.locator("#menu-toggle")
    toggle.focus()
    page.keyboard.press("Enter")
    sync_api.expect(toggle).to_have_attribute("aria-expanded", "true")


def problems(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page, one line each."""
    found = axe_playwright.Axe().run(page).response["violations"]
    return [
        f"{rule['id']} ({rule['impact']}): {rule['help']} at "
        + ", ".join(" ".join(node["target"]) for node in rule["nodes"][:5])
        for rule in found
        if rule["impact"] in BLOCKING
    ]


def overflow(page: Any) -> int:
    """How far the page scrolls sideways, in CSS pixels (0: it does not)."""
    return max(0, page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


@pytest.mark.parametrize(("name", "language", "size"), CASES)
def test_axe_finds_no_serious_problem(visit: Any, name: str, language: str, size: str) -> None:
    page = visit(name, language, size)
    assert page.locator("html").get_attribute("lang") == language
    if size == "390":
        open_menu(page)  # the menu's links are checked too
    assert problems(page) == []


@pytest.mark.parametrize(("name", "language", "size"), CASES)
def test_nothing_scrolls_sideways(visit: Any, name: str, language: str, size: str) -> None:
    page = visit(name, language, size)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = f"{name}-{language}-{size}"
    page.screenshot(path=str(SHOTS / f"{shot}.png"), full_page=True, caret="initial")
    assert overflow(page) == 0
    if size == "390":
        open_menu(page)
        page.screenshot(path=str(SHOTS / f"{shot}-menu.png"), caret="initial")
        assert overflow(page) == 0


# The top bar: a menu button on a phone, the links inline on a wide screen.


def test_the_phone_menu_is_a_button_that_works_by_keyboard(visit: Any) -> None:
    page = visit("board", "da", "390")
    toggle = page.get_by_role("button", name="Menu")
    menu = page.get_by_role("navigation", name="Hovedmenu")
    sync_api.expect(toggle).to_have_attribute("aria-expanded", "false")
    sync_api.expect(toggle).to_have_attribute("aria-controls", "site-menu")
    sync_api.expect(menu).to_be_hidden()
    page.keyboard.press("Tab")  # from the search box (autofocus) past "Kun åbne"
    page.keyboard.press("Tab")
    sync_api.expect(toggle).to_be_focused()
    page.keyboard.press("Enter")
    sync_api.expect(toggle).to_have_attribute("aria-expanded", "true")
    sync_api.expect(menu.get_by_role("link", name="Administration")).to_be_visible()
    sync_api.expect(page.get_by_role("button", name="Log ud")).to_be_visible()
    page.keyboard.press("Tab")
    sync_api.expect(menu.get_by_role("link", name="Telefonliste")).to_be_focused()
    page.keyboard.press("Escape")
    sync_api.expect(toggle).to_have_attribute("aria-expanded", "false")
    sync_api.expect(toggle).to_be_focused()
    sync_api.expect(menu).to_be_hidden()
    page.keyboard.press("Space")
    sync_api.expect(menu).to_be_visible()
    menu.get_by_role("link", name="Administration").press("Enter")
    sync_api.expect(page.locator("h1")).to_have_text("Administration")
    sync_api.expect(page.get_by_role("navigation", name="Hovedmenu")).to_be_hidden()


def test_without_javascript_the_phone_shows_the_menu(
    browser: Any, server: str, admin_state: dict[str, Any]
) -> None:
    context = browser.new_context(
        viewport=PHONE, locale="da-DK", storage_state=admin_state, java_script_enabled=False
    )
    page = context.new_page()
    page.goto(server + "/admin")
    sync_api.expect(page.locator("#menu-toggle")).to_be_hidden()
    menu = page.get_by_role("navigation", name="Hovedmenu")
    for name in ("Telefonliste", "Tilbagekald", "Rapporter", "Administration"):
        sync_api.expect(menu.get_by_role("link", name=name)).to_be_visible()
    sync_api.expect(page.get_by_role("button", name="Log ud")).to_be_visible()
    page.screenshot(path=str(SHOTS / "admin-da-390-nojs.png"), caret="initial")
    assert overflow(page) == 0
    context.close()


@pytest.mark.parametrize("language", LOCALES)
def test_the_header_fits_from_360_to_1920_pixels(visit: Any, language: str) -> None:
    """Signed in as an admin, the longest menu: inline and on one screen width wide, folded
    into the button up to 700 px."""
    page = visit("board", language, "1366")
    header = page.get_by_role("banner")
    for width in (360, 390, 700, 701, 800, 1024, 1280, 1366, 1920):
        page.set_viewport_size({"width": width, "height": 800})
        folded = width <= 700
        sync_api.expect(page.locator("#menu-toggle")).to_be_visible(visible=folded)
        sync_api.expect(page.locator("#site-menu")).to_be_visible(visible=not folded)
        assert overflow(page) == 0, width
        right = header.evaluate(
            "h => Math.max(...[...h.querySelectorAll('a, button, input')]"
            ".filter(e => e.getClientRects().length).map(e => e.getBoundingClientRect().right))"
        )
        assert right <= width, width


@pytest.mark.parametrize(
    ("name", "language", "labels"),
    [
        ("board", "da", ["Hovedmenu"]),
        ("board", "en", ["Main menu"]),
        ("board-public", "da", ["Hovedmenu"]),
        ("admin", "da", ["Hovedmenu", "Afsnit"]),
        ("admin", "en", ["Main menu", "Sections"]),
    ],
)
def test_the_landmarks_are_named_for_what_they_hold(
    visit: Any, name: str, language: str, labels: list[str]
) -> None:
    page = visit(name, language, "1366")
    navs = page.locator("nav").evaluate_all("navs => navs.map(n => n.getAttribute('aria-label'))")
    assert navs == labels
    assert page.get_by_role("banner").count() == 1
    assert page.get_by_role("main").count() == 1
    page.locator(".skip-link").focus()
    page.keyboard.press("Enter")
    sync_api.expect(page.locator("main")).to_be_focused()


# The keyboard: Tab reaches every control, and the focused one shows a clear ring.

# A control is named by its place among the page's controls (a radio by its group, since
# Tab stops once in a group), then its opening tag to read in a failure.
CONTROLS = """const controls = [...document.querySelectorAll(
  'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]')];
const key = e => e.type === 'radio' ? 'radio ' + e.name
  : controls.indexOf(e) + ' ' + e.outerHTML.slice(0, e.outerHTML.indexOf('>') + 1);"""
REACHABLE = (
    "() => {"
    + CONTROLS
    + """
  return controls.filter(e => e.tabIndex >= 0 && !e.disabled
    && e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden'
    && !e.closest('details:not([open]) > :not(summary)')).map(key);
}"""
)
FOCUSED = (
    "() => {"
    + CONTROLS
    + """
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const s = getComputedStyle(e), r = e.getBoundingClientRect();
  const gap = parseFloat(s.outlineOffset) + parseFloat(s.outlineWidth) / 2;
  const x = Math.min(Math.max(r.left - gap, 0), innerWidth - 1);
  const y = Math.min(Math.max(r.top + r.height / 2, 0), innerHeight - 1);
  const under = document.elementsFromPoint(x, y).filter(n => n !== e && !e.contains(n));
  const filled = under.map(n => getComputedStyle(n).backgroundColor)
    .find(c => c !== 'transparent' && !c.endsWith(', 0)'));
  return {key: key(e),
          style: s.outlineStyle, width: parseFloat(s.outlineWidth), ring: s.outlineColor,
          behind: filled || 'rgb(255, 255, 255)'};
}"""
)


def luminance(colour: str) -> float:
    """The relative luminance of a CSS ``rgb()`` colour (WCAG 2.1)."""
    inside = colour[colour.index("(") + 1 : colour.index(")")]
    channels = [float(part) / 255 for part in inside.split(",")[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    """The WCAG contrast ratio of two colours, from 1 to 21."""
    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def tab_through(page: Any) -> list[dict[str, Any]]:
    """Every element Tab reaches, from the skip link at the top to the end of the page."""
    page.locator(".skip-link").focus()
    seen = [page.evaluate(FOCUSED)]
    for _ in range(300):
        page.keyboard.press("Tab")
        found = page.evaluate(FOCUSED)
        if found is None or found["key"] == seen[0]["key"]:
            return seen
        seen.append(found)
    raise AssertionError("Tab never left the page")


@pytest.mark.parametrize(
    "name",
    PAGES,
)
def test_tab_reaches_every_control_with_a_visible_ring(visit: Any, name: str) -> None:
    page = visit(name, "da", "1366")
    stops = tab_through(page)
    assert set(page.evaluate(REACHABLE)) - {stop["key"] for stop in stops} == set()
    faint = [
        stop["key"]
        for stop in stops
        if stop["style"] == "none"
        or stop["width"] < 2
        or contrast(stop["ring"], stop["behind"]) < 3
    ]
    assert faint == []


@pytest.mark.parametrize(
    "name",
    PAGES,
)
def test_nothing_scrolls_sideways_from_360_to_1920_pixels(visit: Any, name: str) -> None:
    page = visit(name, "da", "1366")
    widths = (360, 600, 800, 901, 1024, 1280, 1920)
    wide = {}
    for width in widths:
        page.set_viewport_size({"width": width, "height": 800})
        wide[width] = overflow(page)
    assert wide == dict.fromkeys(widths, 0)
