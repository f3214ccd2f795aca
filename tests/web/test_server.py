"""The waitress server of ``web`` and ``run`` on loopback: trusted proxies and slow clients.

Each test binds :func:`phoneservice.web.server.bind` on a free loopback port, serves in a
thread and talks to it over real sockets, so waitress's own header handling and
connection limits are part of what is tested. No test asserts on timings.
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import socket
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from phoneservice.bootstrap import build
from phoneservice.registry import Registry
from phoneservice.services.accounts import MAX_FAILURES_PER_ADDRESS, cheap_hasher
from phoneservice.settings import Settings
from phoneservice.web import create_app
from phoneservice.web.server import Server, bind
from tests.conftest import SHIPPED_CONFIG
from tests.staff import CSRF_FIELD

NOW = datetime(2026, 11, 23, 11, 30, tzinfo=UTC)
SLOW_CLIENTS = 120  # more than waitress's default connection_limit (100)


def clock() -> datetime:
    return NOW


def app_for(url: str, registry: Registry, proxies: int) -> Any:
    """The real app on ``url``, trusting ``proxies`` reverse proxies (cheap hashing)."""
    settings = Settings(
        config=str(SHIPPED_CONFIG), database_url=url, cookie_secure=False, proxies=proxies
    )
    return create_app(build(settings, clock, registry=registry, hasher=cheap_hasher()))


@contextlib.contextmanager
def waitress_served(app: Any, proxies: int = 0) -> Iterator[Server]:
    """``app`` served by waitress on a free loopback port, in a thread, while inside."""
    server = bind(app, "127.0.0.1", 0, threads=4, proxies=proxies)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        stop(server)
        thread.join(10)


def stop(server: Server) -> None:
    """End the server's loop from another thread: its own loop closes every socket."""
    waitress = server._server

    def close_all() -> None:
        for channel in list(waitress._map.values()):
            channel.close()

    try:
        waitress.trigger.pull_trigger(close_all)
    except OSError:  # the loop already ended and closed its trigger
        close_all()


class Browser:
    """One client behind the proxy: its own cookies, its own X-Forwarded-For."""

    def __init__(self, base: str, forwarded_for: str) -> None:
        self.base = base
        self.headers = {"X-Forwarded-For": forwarded_for}
        jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        self.token = ""

    def status(self, path: str, data: dict[str, str] | None = None) -> tuple[int, str]:
        """Status and body of a GET (or a POST of ``data``)."""
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body, headers=self.headers)
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def fail_login(self, username: str) -> int:
        """One sign-in with a wrong password; the status (401 wrong, 429 throttled)."""
        if not self.token:
            _, page = self.status("/login")
            found = CSRF_FIELD.search(page)
            assert found, "no CSRF token on /login"
            self.token = found.group(1)
        form = {"username": username, "password": "wrong password", "csrf_token": self.token}
        return self.status("/login", form)[0]


def lock_out(client: Browser) -> None:
    """Fail sign-in from ``client``'s address until it is throttled (new names each time)."""
    statuses = [client.fail_login(f"nobody{n}") for n in range(MAX_FAILURES_PER_ADDRESS)]
    assert set(statuses) == {401}
    assert client.fail_login("nobody-more") == 429


def test_behind_a_trusted_proxy_two_clients_are_throttled_apart(database_url, shipped):
    with waitress_served(app_for(database_url, shipped, 1), proxies=1) as server:
        base = f"http://127.0.0.1:{server.port}"
        first, second = Browser(base, "10.9.8.1"), Browser(base, "10.9.8.2")
        lock_out(first)
        assert second.fail_login("somebody") == 401  # not locked out by the other client


def test_without_a_trusted_proxy_the_forwarded_header_is_ignored(database_url, shipped):
    with waitress_served(app_for(database_url, shipped, 0), proxies=0) as server:
        base = f"http://127.0.0.1:{server.port}"
        first, second = Browser(base, "10.9.8.1"), Browser(base, "10.9.8.2")
        lock_out(first)
        assert second.fail_login("somebody") == 429  # one address: the loopback peer


@pytest.mark.slow
def test_half_sent_requests_do_not_lock_out_a_normal_one(shipped):
    app = create_app(Settings(config=str(SHIPPED_CONFIG)), registry=shipped, clock=clock)
    with waitress_served(app) as server, contextlib.ExitStack() as sockets:
        for _ in range(SLOW_CLIENTS):
            slow = sockets.enter_context(socket.create_connection(("127.0.0.1", server.port)))
            slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: x")  # never finished
        request = f"http://127.0.0.1:{server.port}/api/v1/units/borgerservice/open.txt"
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200
            assert response.read() in (b"open", b"closed")
