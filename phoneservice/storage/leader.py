"""The leader lock: exactly one active worker per database; the others wait as standbys.

PostgreSQL: a session-level advisory lock on a dedicated connection held for the worker's
life; the server releases it when that session ends (process killed, connection lost).
SQLite: an exclusive ``flock`` on ``<database>.worker.lock``; the kernel releases it when
the process dies. Whoever holds the lock runs the scheduler and the AMI connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import socket
from abc import ABC, abstractmethod
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from phoneservice.storage.engine import database_url

_log = logging.getLogger(__name__)

LOCK_SUFFIX = ".worker.lock"
# The advisory lock's two-int key: a constant class ("wrkr") and the hash of the current
# schema, so deployments in separate schemas of one database each get their own worker.
# Two-int keys never collide with the one-bigint key that migrations take.
_LOCK_CLASS = 0x77726B72
# The lock connection must notice a dead network quickly (client side: keepalives and an
# unacknowledged-send limit) and the server must end the session of a dead worker host
# (server side: per-session keepalives), so that the standby can take over.
_CONNECT_ARGS: dict[str, Any] = {
    "connect_timeout": 10,
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 3,
    "tcp_user_timeout": 10_000,  # ms
}
_SESSION_SETTINGS = (
    "SET tcp_keepalives_idle = 10",
    "SET tcp_keepalives_interval = 5",
    "SET tcp_keepalives_count = 3",
    "SET idle_session_timeout = 0",  # PostgreSQL 14+; the lock session is idle by design
)
_HELD_SQL = text(
    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'"
    " AND pid = pg_backend_pid() AND granted AND objsubid = 2"
    " AND classid = CAST(:cls AS bigint)::oid AND objid = CAST(:obj AS integer)::oid)"
)


class LeaderError(ValueError):
    """The database URL allows no leader lock (an in-memory SQLite, an unknown backend)."""


def masked(url: str | URL) -> str:
    """The URL as it may be logged: the password hidden."""
    return make_url(url).render_as_string(hide_password=True)


class LeaderLock(ABC):
    """One worker's claim to be the active one; ``name`` says where, with no secret."""

    name: str

    @staticmethod
    def for_url(url: str | URL) -> LeaderLock:
        """The lock that fits the backend of ``url``."""
        parsed = database_url(url)
        if parsed.get_backend_name() == "postgresql":
            return PostgresLeaderLock(parsed)
        if parsed.get_backend_name() == "sqlite":
            return FileLeaderLock(_sqlite_file(parsed))
        raise LeaderError(f"no leader lock for {parsed.get_backend_name()} databases")

    @abstractmethod
    def try_acquire(self) -> bool:
        """Take the lock if it is free; True when this process holds it now."""

    @abstractmethod
    def still_held(self) -> bool:
        """Whether the lock is certainly still ours; False on any doubt."""

    @abstractmethod
    def release(self) -> None:
        """Give the lock up (idempotent)."""

    async def wait_acquire(self, poll: float = 1.0, stop: asyncio.Event | None = None) -> bool:
        """Poll until the lock is ours (True) or ``stop`` is set (False); log once."""
        stop = stop or asyncio.Event()
        waiting = False
        while not stop.is_set():
            if await asyncio.to_thread(self._attempt):
                return True
            if not waiting:
                waiting = True
                _log.info("worker standby: another worker holds the lock on %s", self.name)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(poll):  # not wait_for: it can lose a cancel on 3.11
                    await stop.wait()
        return False

    def _attempt(self) -> bool:
        """One try; a database that cannot be reached counts as "not yet"."""
        try:
            return self.try_acquire()
        except Exception as exc:
            _log.warning("leader lock on %s: cannot try it: %s", self.name, _brief(exc))
            return False


class FileLeaderLock(LeaderLock):
    """An exclusive ``flock`` on a file beside the SQLite database."""

    def __init__(self, database: Path) -> None:
        self.database = database
        self.path = database.with_name(database.name + LOCK_SUFFIX)
        self.name = str(database)
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        """Lock the file without blocking; write who holds it into it."""
        if self._fd is not None:
            return self.still_held()
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        if not self.still_held():  # the file was replaced between open and lock
            self.release()
            return False
        os.ftruncate(fd, 0)
        os.write(fd, holder().encode())
        return True

    def still_held(self) -> bool:
        """Ours while the locked file is still the one at the lock path."""
        if self._fd is None:
            return False
        try:
            return os.stat(self.path).st_ino == os.fstat(self._fd).st_ino
        except OSError:
            return False

    def release(self) -> None:
        """Unlock and close; the file stays (removing it would race with a standby)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


class PostgresLeaderLock(LeaderLock):
    """A session-level advisory lock on one dedicated connection."""

    def __init__(self, url: URL) -> None:
        self.name = masked(url)
        self._engine: Engine = create_engine(
            url,
            poolclass=NullPool,
            hide_parameters=True,  # as every engine: no values in error messages
            connect_args={**_CONNECT_ARGS, "application_name": _app_name()},
        )
        self._connection: Connection | None = None
        self._key: int | None = None
        self._held = False

    def try_acquire(self) -> bool:
        """``pg_try_advisory_lock`` on the lock connection (opened on first use)."""
        if self._held:
            return self.still_held()
        connection = self._connect()
        try:
            got = connection.execute(
                text("SELECT pg_try_advisory_lock(:cls, :obj)"),
                {"cls": _LOCK_CLASS, "obj": self._key},
            ).scalar()
        except Exception:
            self._drop()
            raise
        self._held = bool(got)
        return self._held

    def still_held(self) -> bool:
        """Ask the server on the lock connection; a dead connection means lost."""
        if not self._held or self._connection is None:
            return False
        try:
            held = self._connection.execute(
                _HELD_SQL, {"cls": _LOCK_CLASS, "obj": self._key}
            ).scalar()
        except Exception as exc:
            _log.error("leader lock on %s: connection lost: %s", self.name, _brief(exc))
            self._drop()
            return False
        if not held:
            self._drop()
        return bool(held)

    def release(self) -> None:
        """Unlock and close the lock connection; ending the session releases it anyway."""
        if self._held and self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.execute(
                    text("SELECT pg_advisory_unlock(:cls, :obj)"),
                    {"cls": _LOCK_CLASS, "obj": self._key},
                )
        self._drop()
        self._engine.dispose()

    def _connect(self) -> Connection:
        """The dedicated autocommit connection, with its session settings and key."""
        if self._connection is None:
            connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            for statement in _SESSION_SETTINGS:
                with contextlib.suppress(Exception):  # older servers lack some settings
                    connection.execute(text(statement))
            self._key = connection.execute(
                text("SELECT hashtext(coalesce(current_schema(), ''))")
            ).scalar_one()
            self._connection = connection
        return self._connection

    def _drop(self) -> None:
        """Forget the connection (and with it the lock)."""
        connection, self._connection, self._held = self._connection, None, False
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.invalidate()
                connection.close()


async def watch(lock: LeaderLock, stop: asyncio.Event, every: float, deadline: float) -> bool:
    """Check the lock every ``every`` s until ``stop``; on loss set ``stop``, return True.

    A check that takes longer than ``deadline`` counts as lost: a connection that hangs
    may be one the server has already dropped, and the standby may be active by now.
    """
    while not stop.is_set():
        try:
            async with asyncio.timeout(deadline):
                held = await asyncio.to_thread(lock.still_held)
        except TimeoutError:
            held = False
        if not held:
            _log.error("worker lost the leader lock on %s: stopping", lock.name)
            stop.set()
            return True
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(every):
                await stop.wait()
    return False


def holder() -> str:
    """Who holds the lock: host, process id and since when (for operators)."""
    since = datetime.now(UTC).isoformat(timespec="seconds")
    return f"host={socket.gethostname()} pid={os.getpid()} since={since}\n"


def _app_name() -> str:
    """The lock session's ``application_name``: visible in ``pg_stat_activity``."""
    return f"phoneservice-worker {socket.gethostname()}:{os.getpid()}"[:63]


def _sqlite_file(url: URL) -> Path:
    """The real database file of a SQLite URL (symlinks resolved); in-memory has none.

    Resolved, so that two workers reaching one file by different paths (a symlink, ``..``)
    lock one lock file: the lock file's name is derived from this path.
    """
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise LeaderError("the worker needs a SQLite database file, not an in-memory one")
    return Path(url.database).resolve()


def _brief(exc: BaseException) -> str:
    """The first line of an error: driver messages can be long; URLs are not in them."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else ''}"
