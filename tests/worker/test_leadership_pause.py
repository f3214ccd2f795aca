"""While the leader lock is in doubt (its database connection failed), the worker takes no
action only one worker may take: scheduled jobs and callback calls wait; it never exits."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path

from phoneservice.pbx.client import AmiTarget
from phoneservice.storage.leader import FileLeaderLock, Leadership
from phoneservice.worker.follower import PbxFollower
from phoneservice.worker.jobs.tasks import PURGE, Tasks


def test_scheduled_jobs_are_skipped_while_the_lock_is_in_doubt():
    ran: list[datetime] = []
    leadership = Leadership()
    tasks = Tasks(lambda: datetime(2026, 5, 13, tzinfo=UTC))
    tasks.register(PURGE, ran.append)
    tasks.may_run = lambda: leadership.confirmed
    leadership.confirmed = False
    assert tasks.run(PURGE) is False and ran == []
    leadership.confirmed = True
    assert tasks.run(PURGE) is True and len(ran) == 1


class Outbox:
    """Counts the looks at the outbox of callback calls."""

    def __init__(self) -> None:
        self.looks = 0

    def due(self) -> list[object]:
        self.looks += 1
        return []


class Client:
    target = AmiTarget("lab", "127.0.0.1", 5038, "phoneservice", "s3cret")
    connected = True


class CallLog:
    def __init__(self) -> None:
        self.pending: list[object] = []


def test_callback_calls_wait_while_the_lock_is_in_doubt():
    leadership, outbox = Leadership(), Outbox()
    follower = PbxFollower(Client(), CallLog(), originates=outbox, leadership=leadership)  # type: ignore[arg-type]
    leadership.confirmed = False
    asyncio.run(follower._place_calls())
    assert outbox.looks == 0
    leadership.confirmed = True
    asyncio.run(follower._place_calls())
    assert outbox.looks == 1


class UnreachableLock(FileLeaderLock):
    """A lock whose database cannot be reached: every try fails."""

    def __init__(self, database: Path) -> None:
        super().__init__(database)
        self.tries = 0

    def try_acquire(self) -> bool:
        self.tries += 1
        raise OSError("connection refused")


def test_a_standby_that_cannot_reach_the_database_says_so_once(tmp_path, caplog):
    lock = UnreachableLock(tmp_path / "phoneservice.sqlite3")

    async def scenario() -> bool:
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(0.5, stop.set)
        return await lock.wait_acquire(poll=0.01, stop=stop)

    with caplog.at_level(logging.INFO, logger="phoneservice.storage.leader"):
        assert asyncio.run(scenario()) is False
    assert lock.tries > 5
    assert caplog.text.count("cannot try it") == 1
