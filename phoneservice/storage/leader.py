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
import time
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
RETRY_FIRST, RETRY_CAP = 1.0, 30.0  # seconds between attempts to take back a doubted lock
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
        waiting = unreachable = False
        while not stop.is_set():
            got = await asyncio.to_thread(self.attempt, not unreachable)
            if got:
                return True
            if got is None:
                unreachable = True
            elif not waiting:
                waiting = True
                _log.info("worker standby: another worker holds the lock on %s", self.name)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(poll):  # not wait_for: it can lose a cancel on 3.11
                    await stop.wait()
        return False

    def attempt(self, say: bool = True) -> bool | None:
        """One try; None when the database cannot be reached (logged only if ``say``)."""
        try:
            return self.try_acquire()
        except Exception as exc:
            if say:
                _log.warning("leader lock on %s: cannot try it: %s", self.name, _brief(exc))
            return None


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
            if self.still_held():
                return True
            self.release()  # the file was removed or replaced: lock the one there now
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
            _log.warning("leader lock on %s: connection lost: %s", self.name, _brief(exc))
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


class Leadership:
    """Whether the active worker may take the actions only one worker may take.

    Placing callback calls and the scheduled jobs ask it; following the PBX and storing
    calls do not (stored calls are idempotent by ``(pbx, uniqueid)``).
    """

    def __init__(self) -> None:
        self.confirmed = True


async def watch(
    lock: LeaderLock,
    stop: asyncio.Event,
    every: float,
    deadline: float,
    leadership: Leadership | None = None,
    retry_cap: float = RETRY_CAP,
) -> bool:
    """Check the lock every ``every`` s until ``stop``; True when another worker took it.

    A check that fails or takes longer than ``deadline`` (a connection that hangs may be
    one the server has already dropped) puts the lock in doubt: ``leadership`` is not
    confirmed, and the lock is taken again with a capped backoff. It ends the doubt when
    the lock is ours again; when another worker holds it, ``stop`` is set (this worker
    steps down to standby). One log line when the doubt starts, one when it ends.
    """
    leadership = leadership or Leadership()
    doubt_since: float | None = None
    wait = every
    while not stop.is_set():
        found = await _confirm(lock, deadline)
        if found == "taken":
            leadership.confirmed = False
            _log.error("worker lost the leader lock on %s: another worker holds it", lock.name)
            stop.set()
            return True
        held = found != "unknown"
        if held and doubt_since is not None:
            took = time.monotonic() - doubt_since
            _log.warning("leader lock on %s: ours again after %.0f s", lock.name, took)
            doubt_since, wait = None, every
        elif found == "retaken":
            _log.warning("leader lock on %s: lost and taken back at once", lock.name)
        elif not held and doubt_since is None:
            _log.error(
                "leader lock on %s: cannot be confirmed; callbacks and scheduled jobs "
                "pause until it is",
                lock.name,
            )
            doubt_since, wait = time.monotonic(), RETRY_FIRST
        elif not held:
            wait = min(wait * 2, retry_cap)
        leadership.confirmed = held
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait):
                await stop.wait()
    return False


async def _confirm(lock: LeaderLock, deadline: float) -> str:
    """``held`` (still ours), ``retaken`` (lost, then taken again), ``taken`` (another
    worker holds it) or ``unknown`` (the database is away, or the check hangs)."""
    try:
        async with asyncio.timeout(deadline):
            if await asyncio.to_thread(lock.still_held):
                return "held"
            got = await asyncio.to_thread(lock.attempt, False)
    except TimeoutError:
        return "unknown"
    if got is None:
        return "unknown"
    return "retaken" if got else "taken"


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
