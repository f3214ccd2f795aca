"""The web process's database: one engine per app, made on first use, and the services on it.

Pages with personal data, the authenticated API and the admin use the database through
the services built here per request. The board and the public API read only the manual
overrides, through :func:`override_cache` (at most every ~2 s per process).
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from phoneservice.domain.hours.status import Override
from phoneservice.services.accounts import AccountService
from phoneservice.services.callbacks import CallbackService
from phoneservice.services.calls import CallService
from phoneservice.services.overrides import OverrideCache, OverrideService
from phoneservice.settings import Settings
from phoneservice.storage.engine import DATABASE_FILE, create_engine_for, session_factory
from phoneservice.web import EXTENSION, SETTINGS

SESSIONS = "phoneservice.sessions"
OVERRIDE_CACHE = "phoneservice.override_cache"


def sessions() -> sessionmaker[Session]:
    """The app's session factory on the configured database (default: SQLite in the instance)."""
    found: sessionmaker[Session] | None = current_app.extensions.get(SESSIONS)
    if found is None:
        settings: Settings = current_app.extensions[SETTINGS]
        found = session_factory(create_engine_for(settings.database()))
        current_app.extensions[SESSIONS] = found
    return found


def engine() -> Engine:
    """The engine under :func:`sessions`: the process's one pool (``/readyz`` probes it)."""
    bound: Engine = sessions().kw["bind"]
    return bound


def accounts() -> AccountService:
    """Accounts, tokens and the audit log."""
    return AccountService(sessions(), current_app.extensions[EXTENSION].clock)


def callbacks() -> CallbackService:
    """The callback queue over the app's registry."""
    hours = current_app.extensions[EXTENSION]
    return CallbackService(sessions(), hours.registry, hours.clock)


def calls() -> CallService:
    """The logged calls (read only: the web stores none)."""
    return CallService(sessions())


def overrides() -> OverrideService:
    """Manual overrides; a write drops this process's cached ones at once."""
    hours = current_app.extensions[EXTENSION]
    cache: OverrideCache = current_app.extensions[OVERRIDE_CACHE]
    return OverrideService(sessions(), hours.holder, hours.clock, cache.invalidate)


def override_cache(app: Flask, settings: Settings) -> OverrideCache:
    """The overrides the app's hours service applies; none while there is no database."""

    def load() -> tuple[Override, ...]:
        if not has_database(settings):
            return ()
        with app.app_context():  # the hours service may be asked outside a request
            return overrides().in_force()

    cache = app.extensions[OVERRIDE_CACHE] = OverrideCache(load)
    return cache


def has_database(settings: Settings) -> bool:
    """Whether a database is configured or the instance's SQLite file exists (never made here)."""
    return bool(settings.database_url) or (Path(settings.instance) / DATABASE_FILE).exists()
