"""Sign-in through the identity provider in a real headless Chromium.

The login page's button sends the browser to a real OpenID Connect provider on loopback
(tests/web/oidc_provider.py), which approves at once and sends it back signed in, to the
page it asked for. Like tests/web/test_browser.py: Debian's ``/usr/bin/chromium`` driven
by ``playwright``, and any console error (a CSP block is one) fails the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from phoneservice.bootstrap import build
from phoneservice.registry import Registry
from phoneservice.services.accounts import cheap_hasher
from phoneservice.settings import OidcSettings, RoleGrant, Settings
from phoneservice.storage.migrate import upgrade
from phoneservice.web import create_app
from tests.conftest import SHIPPED_CONFIG
from tests.web.browsing import ARGS, BROWSER_MARKS, CHROMIUM
from tests.web.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider, running_provider
from tests.web.test_browser import ARTIFACTS, VIEWPORT, served

pytestmark = BROWSER_MARKS
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright missing: pip install -e '.[dev]'"
)
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with running_provider() as found:
        yield found


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, shipped: Registry, provider: Provider
) -> Iterator[str]:
    """The app on a loopback port, signing in through the provider."""
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('oidc')) / 'phoneservice.sqlite3'}"
    upgrade(url)
    role_map = {"grp-jobcenter-agents": RoleGrant("agent", frozenset({"jobcenter"}))}
    oidc = OidcSettings(provider.issuer, CLIENT_ID, CLIENT_SECRET, role_map)
    settings = Settings(
        config=str(SHIPPED_CONFIG), database_url=url, cookie_secure=False, oidc=oidc
    )
    app = create_app(build(settings, lambda: NOW, registry=shipped, hasher=cheap_hasher()))
    with served(app) as base:
        yield base


def test_the_button_signs_in_through_the_provider_and_opens_the_queue(
    server: str, provider: Provider
) -> None:
    errors: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport=VIEWPORT, locale="da-DK")
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        asked: list[str] = []
        page.on("request", lambda request: asked.append(request.url))
        page.goto(server + "/callbacks")
        assert page.url == server + "/login?next=/callbacks"
        button = page.get_by_role("link", name="Log ind med kommunens login")
        sync_api.expect(button).to_be_visible()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "login-oidc.png"))
        button.click()
        page.wait_for_url(server + "/callbacks")
        sync_api.expect(page.locator("h1")).to_have_text("Tilbagekald")
        sync_api.expect(page.locator("body")).to_contain_text("Anne Agent")
        page.screenshot(path=str(ARTIFACTS / "callbacks-after-oidc.png"))
        browser.close()
    assert any(url.startswith(provider.issuer + "/authorize?") for url in asked)
    assert provider.token_requests == 1
    assert errors == []
