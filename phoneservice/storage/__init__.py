"""Storage: SQLModel tables, engines and sessions, Alembic migrations and repositories.

Repositories never commit: a service opens a session, uses them, and commits once.
"""

from phoneservice.storage.engine import create_engine_for, default_database_url, session_factory
from phoneservice.storage.migrate import upgrade
from phoneservice.storage.repositories import CallRepository
from phoneservice.storage.types import NaiveDatetimeError

__all__ = [
    "CallRepository",
    "NaiveDatetimeError",
    "create_engine_for",
    "default_database_url",
    "session_factory",
    "upgrade",
]
