"""One active worker per database: the leader lock in one process, and real workers.

The same tests run on SQLite (``flock`` on a file beside the database) and PostgreSQL (a
session-level advisory lock), through the ``database_url`` fixture.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import make_url, text

from phoneservice.storage.engine import create_engine_for
from phoneservice.storage.leader import (
    LOCK_SUFFIX,
    FileLeaderLock,
    LeaderError,
    LeaderLock,
    Leadership,
    PostgresLeaderLock,
    masked,
    watch,
)
from tests.conftest import postgres_schema_url

TAKEOVER = 30.0  # seconds: the bound within which a standby must take over
STARTUP = 60.0  # seconds: the bound within which a worker must say what it is
ACTIVE = "worker active"
STANDBY = "worker standby: another worker holds the lock on"
SECRET = "hemmelig-kode"  # put into PostgreSQL URLs; must never reach a log

REGISTRY = """
[registry]
name = "Testkommune"
timezone = "Europe/Copenhagen"

[calendar]
country = "DK"
workday_end = "15:00"

[[unit]]
id = "borgerservice"
name = "Borgerservice"
kind = "centre"
phone = "+45 56 57 57 57"

[unit.hours]
"mon-fri" = ["10:00-14:00"]
"""


@pytest.fixture
def locks(database_url: str) -> Iterator[Callable[[], LeaderLock]]:
    """Makes leader locks on the test database; releases them all afterwards."""
    made: list[LeaderLock] = []

    def make() -> LeaderLock:
        made.append(LeaderLock.for_url(database_url))
        return made[-1]

    yield make
    for lock in made:
        lock.release()


def test_two_holders_cannot_both_hold_it(locks):
    first, second = locks(), locks()
    assert first.try_acquire() is True
    assert second.try_acquire() is False
    assert first.still_held() and not second.still_held()
    assert first.try_acquire() is True  # asking again while holding it is harmless
    first.release()
    assert not first.still_held()
    assert second.try_acquire() is True
    assert first.try_acquire() is False


def test_release_is_idempotent(locks):
    lock = locks()
    lock.release()
    assert lock.try_acquire()
    lock.release()
    lock.release()
    assert locks().try_acquire()


def test_standby_waits_logs_once_and_takes_over(locks, caplog):
    first, second = locks(), locks()
    assert first.try_acquire()

    async def scenario() -> bool:
        waiting = asyncio.create_task(second.wait_acquire(poll=0.05))
        await asyncio.sleep(0.5)
        assert not waiting.done()
        await asyncio.to_thread(first.release)
        return await asyncio.wait_for(waiting, TAKEOVER)

    with caplog.at_level(logging.INFO, logger="phoneservice.storage.leader"):
        assert asyncio.run(scenario()) is True
    assert second.still_held()
    said = [r.getMessage() for r in caplog.records if STANDBY in r.getMessage()]
    assert len(said) == 1, said


def test_standby_stops_waiting_when_asked(locks):
    first, second = locks(), locks()
    assert first.try_acquire()

    async def scenario() -> bool:
        stop = asyncio.Event()
        waiting = asyncio.create_task(second.wait_acquire(poll=0.05, stop=stop))
        await asyncio.sleep(0.2)
        stop.set()
        return await asyncio.wait_for(waiting, TAKEOVER)

    assert asyncio.run(scenario()) is False
    assert not second.still_held()


def test_watch_steps_down_when_another_worker_took_the_lock(locks, database_url):
    lock = locks()
    assert lock.try_acquire()
    lose(lock, database_url)
    other = locks()
    assert other.try_acquire()
    stop, leadership = asyncio.Event(), Leadership()

    async def scenario() -> bool:
        return await asyncio.wait_for(
            watch(lock, stop, every=0.05, deadline=5, leadership=leadership), TAKEOVER
        )

    assert asyncio.run(scenario()) is True
    assert stop.is_set() and not leadership.confirmed
    assert other.still_held()


def test_watch_takes_a_lock_nobody_holds_back_without_stopping(locks, database_url, caplog):
    """A lock lost with no other worker (the database restarted): taken back, the worker
    never stops."""
    lock = locks()
    assert lock.try_acquire()
    stop = asyncio.Event()

    async def scenario() -> bool:
        watching = asyncio.create_task(watch(lock, stop, every=0.05, deadline=5))
        await asyncio.sleep(0.2)
        lose(lock, database_url)
        deadline = time.monotonic() + TAKEOVER
        while "taken back" not in caplog.text and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        stop.set()
        return await asyncio.wait_for(watching, TAKEOVER)

    with caplog.at_level(logging.INFO, logger="phoneservice.storage.leader"):
        assert asyncio.run(scenario()) is False
    assert lock.still_held() and locks().try_acquire() is False
    assert caplog.text.count("taken back") == 1
    assert "another worker holds it" not in caplog.text


def test_watch_pauses_leadership_while_the_database_is_away(locks, database_url, caplog):
    """While the lock can be neither confirmed nor taken, leadership is in doubt: one line
    when that starts, one when the lock is ours again; the worker never stops."""
    lock = locks()
    assert lock.try_acquire()
    stop, leadership = asyncio.Event(), Leadership()
    away = {"yes": True}
    real_acquire = lock.try_acquire

    def unreachable() -> bool:
        raise OSError("connection refused")

    def try_acquire() -> bool:
        return unreachable() if away["yes"] else real_acquire()

    async def scenario() -> list[bool]:
        watching = asyncio.create_task(
            watch(lock, stop, every=0.05, deadline=5, leadership=leadership, retry_cap=0.2)
        )
        await asyncio.sleep(0.2)
        lock.try_acquire = try_acquire  # type: ignore[method-assign]
        lose(lock, database_url)
        seen = []
        for _ in range(100):  # about a second of doubt, several retries
            seen.append(leadership.confirmed)
            await asyncio.sleep(0.01)
        away["yes"] = False
        deadline = time.monotonic() + TAKEOVER
        while "ours again" not in caplog.text and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        stop.set()
        assert await asyncio.wait_for(watching, TAKEOVER) is False
        return seen

    with caplog.at_level(logging.INFO, logger="phoneservice.storage.leader"):
        seen = asyncio.run(scenario())
    assert False in seen  # in doubt meanwhile; watch returned False: never stepped down
    assert leadership.confirmed and lock.still_held()
    assert caplog.text.count("cannot be confirmed") == 1
    assert caplog.text.count("ours again") == 1


def test_watch_returns_quietly_on_stop(locks):
    lock = locks()
    assert lock.try_acquire()

    async def scenario() -> bool:
        stop = asyncio.Event()
        watching = asyncio.create_task(watch(lock, stop, every=0.05, deadline=5))
        await asyncio.sleep(0.2)
        stop.set()
        return await asyncio.wait_for(watching, TAKEOVER)

    assert asyncio.run(scenario()) is False
    assert lock.still_held()


def lose(lock: LeaderLock, database_url: str) -> None:
    """Take the lock away behind its holder's back, as a crash or an operator would."""
    if isinstance(lock, PostgresLeaderLock):
        terminate_lock_sessions(database_url)
    else:
        assert isinstance(lock, FileLeaderLock)
        lock.path.unlink()  # a new file at the path is not the one we locked


def terminate_lock_sessions(database_url: str, pid: int | None = None) -> int:
    """End the PostgreSQL sessions that hold a worker lock on this schema."""
    engine = create_engine_for(database_url)
    pattern = "phoneservice-worker %" if pid is None else f"phoneservice-worker %:{pid}"
    try:
        with engine.begin() as connection:
            return len(
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(a.pid) FROM pg_locks l"
                        " JOIN pg_stat_activity a ON a.pid = l.pid"
                        " WHERE l.locktype = 'advisory' AND l.objsubid = 2"
                        " AND a.application_name LIKE :pattern"
                    ),
                    {"pattern": pattern},
                ).all()
            )
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_schemas_of_one_database_each_get_a_worker():
    first_schema, second_schema = postgres_schema_url(), postgres_schema_url()
    try:
        first_url, second_url = next(first_schema), next(second_schema)
        a, b, c = (LeaderLock.for_url(url) for url in (first_url, second_url, first_url))
        try:
            assert a.try_acquire() and b.try_acquire()
            assert not c.try_acquire()
        finally:
            for lock in (a, b, c):
                lock.release()
    finally:
        first_schema.close()
        second_schema.close()


def test_sqlite_lock_file_sits_beside_the_database_and_names_the_holder(tmp_path):
    lock = LeaderLock.for_url(f"sqlite:///{tmp_path / 'phoneservice.sqlite3'}")
    assert isinstance(lock, FileLeaderLock)
    try:
        assert lock.try_acquire()
        assert lock.path == tmp_path / f"phoneservice.sqlite3{LOCK_SUFFIX}"
        assert f"pid={os.getpid()}" in lock.path.read_text()
    finally:
        lock.release()


@pytest.mark.parametrize("alias", ["file", "folder"])
def test_a_symlinked_database_path_shares_the_lock_of_the_real_file(tmp_path, alias):
    real = tmp_path / "data" / "phoneservice.sqlite3"
    real.parent.mkdir()
    real.touch()
    if alias == "file":
        linked = tmp_path / "alias.sqlite3"
        linked.symlink_to(real)
    else:
        (tmp_path / "link").symlink_to(real.parent, target_is_directory=True)
        linked = tmp_path / "link" / real.name
    first = LeaderLock.for_url(f"sqlite:///{real}")
    second = LeaderLock.for_url(f"sqlite:///{linked}")
    try:
        assert first.try_acquire()
        assert not second.try_acquire()  # one database, one active worker
        assert isinstance(second, FileLeaderLock)
        assert second.path == real.with_name(real.name + LOCK_SUFFIX)
    finally:
        first.release()
        second.release()


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "mysql://u@h/db"])
def test_urls_without_a_lock_are_refused(url):
    with pytest.raises(LeaderError):
        LeaderLock.for_url(url)


def test_names_never_show_a_password():
    lock = LeaderLock.for_url("postgresql://ops:hemmelig@db.example:5432/phone")
    try:
        assert "hemmelig" not in lock.name and "***" in lock.name
    finally:
        lock.release()
    assert "hemmelig" not in masked("postgresql://ops:hemmelig@db/phone")


# -- real worker processes ---------------------------------------------------------------


class Worker:
    """A ``phoneservice worker`` process whose log goes to a file."""

    def __init__(
        self,
        name: str,
        tmp_path: Path,
        database_url: str,
        *,
        registry: str = REGISTRY,
        settings: dict[str, str] | None = None,
    ) -> None:
        self.log = tmp_path / f"{name}.log"
        config = tmp_path / "opening_hours.toml"
        config.write_text(registry, encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("PHONESERVICE_")}
        env |= {
            "PHONESERVICE_DATABASE_URL": with_password(database_url),
            "PHONESERVICE_CONFIG": str(config),
            "PHONESERVICE_INSTANCE": str(tmp_path / "instance"),
        }
        env |= settings or {}
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "phoneservice", "worker"],
                cwd=tmp_path,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def says(self, needle: str) -> bool:
        return needle in self.text()

    def wait_for(self, needle: str, timeout: float) -> float:
        """Seconds until the log holds ``needle``; fails after ``timeout`` or on exit."""
        start = time.monotonic()
        while not self.says(needle):
            if self.process.poll() is not None and not self.says(needle):
                pytest.fail(f"worker exited ({self.process.returncode}):\n{self.text()}")
            if time.monotonic() - start > timeout:
                pytest.fail(f"no {needle!r} within {timeout} s:\n{self.text()}")
            time.sleep(0.05)
        return time.monotonic() - start

    def stop(self) -> int:
        """SIGTERM, then wait; kill if it does not stop."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STARTUP)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def with_password(database_url: str) -> str:
    """PostgreSQL URLs get a password (the test server trusts, so it is never checked)."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        return database_url
    return url.set(password=SECRET).render_as_string(hide_password=False)


@pytest.fixture
def workers(tmp_path: Path, database_url: str) -> Iterator[Callable[[str], Worker]]:
    """Starts workers on the test database; stops every one of them afterwards."""
    started: list[Worker] = []

    def start(name: str) -> Worker:
        started.append(Worker(name, tmp_path, database_url))
        return started[-1]

    yield start
    for worker in started:
        worker.stop()


def active_marker(database_url: str, tmp_path: Path) -> int | None:
    """The pid of the worker that holds the lock, as an operator would find it."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        lock_file = Path(f"{url.database}{LOCK_SUFFIX}")
        found = re.search(r"pid=(\d+)", lock_file.read_text())
        return int(found.group(1)) if found else None
    engine = create_engine_for(database_url)
    try:
        with engine.connect() as connection:
            names = connection.execute(
                text(
                    "SELECT a.application_name FROM pg_locks l"
                    " JOIN pg_stat_activity a ON a.pid = l.pid"
                    " WHERE l.locktype = 'advisory' AND l.objsubid = 2 AND l.granted"
                    " AND a.application_name LIKE 'phoneservice-worker %'"
                )
            ).scalars()
            pids = [int(name.rsplit(":", 1)[1]) for name in names]
    finally:
        engine.dispose()
    assert len(pids) <= 1, pids
    return pids[0] if pids else None


@pytest.mark.slow
def test_one_worker_is_active_and_the_standby_takes_over(workers, database_url, tmp_path):
    first = workers("first")
    first.wait_for(ACTIVE, STARTUP)
    second = workers("second")
    second.wait_for(STANDBY, STARTUP)
    assert not second.says(ACTIVE) and first.process.poll() is None
    assert active_marker(database_url, tmp_path) == first.pid
    assert SECRET not in first.text() + second.text()

    first.process.send_signal(signal.SIGKILL)
    first.process.wait()
    took = second.wait_for(ACTIVE, TAKEOVER)
    print(f"failover after kill -9: {took:.2f} s ({make_url(database_url).get_backend_name()})")
    assert active_marker(database_url, tmp_path) == second.pid
    assert first.text().count(ACTIVE) == 1 and second.text().count(ACTIVE) == 1
    assert second.stop() == 0


@pytest.mark.slow
def test_a_third_worker_stays_standby_while_one_is_active(workers):
    first = workers("first")
    first.wait_for(ACTIVE, STARTUP)
    others = [workers("second"), workers("third")]
    for other in others:
        other.wait_for(STANDBY, STARTUP)
    first.stop()
    took = [other for other in others if other.says(ACTIVE)]
    deadline = time.monotonic() + TAKEOVER
    while not took and time.monotonic() < deadline:
        time.sleep(0.05)
        took = [other for other in others if other.says(ACTIVE)]
    time.sleep(2.5)  # two more standby polls: a second taker would show by now
    assert len([other for other in others if other.says(ACTIVE)]) == 1


@pytest.mark.slow
def test_a_standby_stops_cleanly_on_sigterm(workers):
    first = workers("first")
    first.wait_for(ACTIVE, STARTUP)
    second = workers("second")
    second.wait_for(STANDBY, STARTUP)
    assert second.stop() == 0
    assert not second.says(ACTIVE)


@pytest.mark.slow
def test_a_worker_that_loses_its_lock_takes_it_back_and_stays(workers, database_url, tmp_path):
    first = workers("first")
    first.wait_for(ACTIVE, STARTUP)
    if make_url(database_url).get_backend_name() == "postgresql":
        assert terminate_lock_sessions(database_url, first.pid) == 1
    else:
        Path(f"{make_url(database_url).database}{LOCK_SUFFIX}").unlink()
    first.wait_for("taken back", TAKEOVER)
    assert first.process.poll() is None
    assert active_marker(database_url, tmp_path) == first.pid
    assert first.stop() == 0


@pytest.mark.slow
def test_a_worker_whose_lock_another_took_steps_down_to_standby(workers, database_url):
    first = workers("first")
    first.wait_for(ACTIVE, STARTUP)
    other = LeaderLock.for_url(database_url)
    try:
        if make_url(database_url).get_backend_name() == "postgresql":
            assert terminate_lock_sessions(database_url, first.pid) == 1
        else:
            Path(f"{make_url(database_url).database}{LOCK_SUFFIX}").unlink()
        assert other.try_acquire()  # before the worker's next check (every 2 s)
        first.wait_for("another worker holds it", TAKEOVER)
        first.wait_for(STANDBY, TAKEOVER)
        assert first.process.poll() is None
    finally:
        other.release()
    deadline = time.monotonic() + TAKEOVER
    while first.text().count(ACTIVE) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert first.text().count(ACTIVE) == 2  # active again once the lock was free
    assert first.stop() == 0
