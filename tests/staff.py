"""Helpers for tests of the staff pages: an app on a real database, accounts and sign-in."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from flask import Flask
from flask.testing import FlaskClient

from phoneservice.bootstrap import build
from phoneservice.registry import Registry
from phoneservice.services.accounts import AccountService, User, cheap_hasher
from phoneservice.services.audit import AuditService
from phoneservice.services.tokens import TokenService
from phoneservice.settings import Settings
from phoneservice.storage.engine import create_engine_for, session_factory
from phoneservice.web import create_app
from tests.conftest import SHIPPED_CONFIG

PASSWORD = "correct horse battery"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def staff_app(url: str, registry: Registry, clock: Callable[[], datetime]) -> Flask:
    """The real app over a migrated database at ``url`` (cookies over plain HTTP, as in tests)."""
    settings = Settings(config=str(SHIPPED_CONFIG), database_url=url, cookie_secure=False)
    app = create_app(build(settings, clock, registry=registry, hasher=cheap_hasher()))
    app.config["TESTING"] = True
    return app


def accounts(
    url: str, clock: Callable[[], datetime], registry: Registry | None = None
) -> AccountService:
    """The account service on the same database as the app, hashing at the cheapest cost.

    ``registry`` gives the ``[pbx] agent_device_pattern`` devices are checked against.
    """
    sessions = session_factory(create_engine_for(url))
    return AccountService(sessions, clock, cheap_hasher(), registry=registry)


def tokens(url: str, clock: Callable[[], datetime]) -> TokenService:
    """The API token service on the same database as the app."""
    return TokenService(session_factory(create_engine_for(url)), clock)


def audit(url: str, clock: Callable[[], datetime]) -> AuditService:
    """The audit log on the same database as the app."""
    return AuditService(session_factory(create_engine_for(url)), clock)


def add_user(
    url: str,
    clock: Callable[[], datetime],
    username: str,
    role: str,
    *units: str,
    device: str | None = None,
) -> User:
    """Create an account with the test password and, when given, its own phone."""
    service = accounts(url, clock)
    user = service.add_user(username, PASSWORD, role, units=units)
    return user if device is None else service.set_device(username, device, actor="test")


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token of a form on ``path``."""
    found = CSRF_FIELD.search(client.get(path).get_data(as_text=True))
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def login(client: FlaskClient, username: str, password: str = PASSWORD) -> int:
    """Sign in through the form; the response's status (302 on success)."""
    token = csrf_token(client)
    form = {"username": username, "password": password, "csrf_token": token}
    return client.post("/login", data=form).status_code
