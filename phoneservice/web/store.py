"""The web process's database: one engine per app, made on first use, and the services on it.

The board and the public API never touch the database; pages with personal data, the
authenticated API and the admin do, through the services built here per request.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from phoneservice.accounts import AccountService
from phoneservice.callbacks import CallbackService
from phoneservice.settings import Settings
from phoneservice.storage.engine import create_engine_for, session_factory
from phoneservice.web import EXTENSION, SETTINGS

SESSIONS = "phoneservice.sessions"


def sessions() -> sessionmaker[Session]:
    """The app's session factory on the configured database (default: SQLite in the instance)."""
    found: sessionmaker[Session] | None = current_app.extensions.get(SESSIONS)
    if found is None:
        settings: Settings = current_app.extensions[SETTINGS]
        found = session_factory(create_engine_for(settings.database()))
        current_app.extensions[SESSIONS] = found
    return found


def accounts() -> AccountService:
    """Accounts, tokens and the audit log."""
    return AccountService(sessions(), current_app.extensions[EXTENSION].clock)


def callbacks() -> CallbackService:
    """The callback queue over the app's registry."""
    hours = current_app.extensions[EXTENSION]
    return CallbackService(sessions(), hours.registry, hours.clock)
