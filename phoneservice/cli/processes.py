"""The long-running processes: ``worker`` (leader lock, scheduler and AMI connections)."""

from __future__ import annotations

import argparse
import asyncio
import logging
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from phoneservice.bootstrap import build_call_log, queue_log_file
from phoneservice.callbacks import CallbackService
from phoneservice.callservice import CallService
from phoneservice.cli.common import EXIT_FAILURE, EXIT_OK, Clock, UsageError, common_options, load
from phoneservice.domain.hours import statuses
from phoneservice.jobs.leader import LeaderError, LeaderLock, watch
from phoneservice.jobs.scheduler import JobScheduler, build_scheduler
from phoneservice.jobs.tasks import RECONCILE, UNIT_STATE, Action, Tasks
from phoneservice.pbx.client import AmiClient, AmiTarget, parse_targets
from phoneservice.registry import Registry
from phoneservice.services import system_clock
from phoneservice.settings import Settings
from phoneservice.storage.engine import create_engine_for, session_factory
from phoneservice.storage.migrate import upgrade
from phoneservice.worker import OriginateOutbox, PbxFollower, follow_all, stop_on_signals

_log = logging.getLogger("phoneservice.worker")
STANDBY_POLL = 1.0  # seconds between a standby's attempts to take the lock
LOCK_CHECK_EVERY = 2.0  # seconds between the active worker's checks that it still holds it
LOCK_CHECK_DEADLINE = 10.0  # a check that hangs this long counts as a lost lock


def register(commands: Any) -> None:
    """Add the process commands to the parser."""
    worker = commands.add_parser(
        "worker",
        parents=[common_options()],
        help="scheduler and AMI connections (one active worker per database, others wait)",
    )
    worker.set_defaults(run=cmd_worker)


def configure_logging(settings: Settings) -> None:
    """Log to stderr; never the AMI secret (the client does not put it in any message)."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def followers(
    settings: Settings, registry: Registry, sessions: sessionmaker[Session]
) -> list[PbxFollower]:
    """One client and one call log per PBX in ``PHONESERVICE_AMI_URL``."""
    if not settings.ami_url:
        return []
    targets = _targets(settings)
    callbacks = CallbackService(sessions, registry, system_clock)
    service = CallService(sessions, callbacks)
    reader = queue_log_file([settings.queue_log]) if settings.queue_log else None
    outbox = OriginateOutbox(callbacks)
    return [
        PbxFollower(
            AmiClient(target),
            build_call_log(
                registry,
                target.name,
                service.store_for(target.name),
                queue_log=reader,
                since=service.resume_point(target.name),
            ),
            # callbacks are placed through the first PBX (docs/worker.md)
            originates=outbox if n == 0 else None,
        )
        for n, target in enumerate(targets)
    ]


def cmd_worker(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    """Wait for the leader lock, then run the scheduler and follow every PBX until a signal."""
    configure_logging(settings)
    registry = load(args, settings, clock)
    if settings.ami_url:
        _targets(settings)  # a bad AMI URL is reported now, not once this worker is active
    url = settings.database()
    try:
        lock = LeaderLock.for_url(url)
    except LeaderError as exc:
        raise UsageError(f"PHONESERVICE_DATABASE_URL: {exc}") from exc
    return asyncio.run(_serve(settings, registry, url, lock, clock))


async def _serve(
    settings: Settings,
    registry: Registry,
    url: str,
    lock: LeaderLock,
    clock: Clock,
    stop: asyncio.Event | None = None,
) -> int:
    """Standby until the lock is ours, then be the active worker until a signal or loss.

    ``stop`` is set by SIGTERM/SIGINT, or by the caller when it passes one (``run``
    hosts this in a thread, where signals do not reach the loop).
    """
    if stop is None:
        stop = asyncio.Event()
        stop_on_signals(stop)
    try:
        if not await lock.wait_acquire(poll=STANDBY_POLL, stop=stop):
            return EXIT_OK  # stopped while standby
        _log.info("worker active: this worker holds the lock on %s", lock.name)
        lost = await _active(settings, registry, url, lock, stop, clock)
    finally:
        lock.release()
    return EXIT_FAILURE if lost else EXIT_OK


async def _active(
    settings: Settings,
    registry: Registry,
    url: str,
    lock: LeaderLock,
    stop: asyncio.Event,
    clock: Clock,
) -> bool:
    """Run the scheduler and the followers while the lock holds; True if it was lost."""
    watcher = asyncio.create_task(watch(lock, stop, LOCK_CHECK_EVERY, LOCK_CHECK_DEADLINE))
    await asyncio.to_thread(upgrade, url)
    engine = create_engine_for(url)  # one engine for the worker's calls, callbacks and jobs
    sessions = session_factory(engine)
    found = await asyncio.to_thread(followers, settings, registry, sessions)
    if not found:
        _log.info("PHONESERVICE_AMI_URL is not set: the AMI part stays idle")
    for follower in found:
        _log.info("following PBX %s", follower.client.target.name)
    scheduler = _scheduler(engine, sessions, registry, clock)
    loop = asyncio.get_running_loop()
    scheduler.tasks.register(RECONCILE, lambda _now: _ask_recheck(loop, found))
    await asyncio.to_thread(scheduler.start)
    try:
        await follow_all(found, stop)
    finally:
        stop.set()
        await asyncio.to_thread(scheduler.shutdown)
    return await watcher


def _scheduler(
    engine: Engine, sessions: sessionmaker[Session], registry: Registry, clock: Clock
) -> JobScheduler:
    """The scheduler on the worker's database: overdue marking, purge, unit state."""
    tasks = Tasks(clock)
    tasks.register_callbacks(CallbackService(sessions, registry, clock))
    tasks.register(UNIT_STATE, _unit_state_logger(registry))
    return build_scheduler(engine, registry, tasks, clock)


def _ask_recheck(loop: asyncio.AbstractEventLoop, found: list[PbxFollower]) -> None:
    """The reconcile job (a scheduler thread) asks each follower, on the followers' loop."""
    for follower in found:
        loop.call_soon_threadsafe(follower.request_recheck)


def _unit_state_logger(registry: Registry) -> Action:
    """Until the board pushes updates: log how many units are open after a change."""

    def log_state(now: datetime) -> None:
        units = list(registry.units.values())
        found = statuses(((unit.schedule, ()) for unit in units), now)
        open_ids = [unit.id for unit, state in zip(units, found, strict=True) if state.open]
        _log.info("unit state at %s: %d of %d open", now.isoformat(), len(open_ids), len(units))

    return log_state


def _targets(settings: Settings) -> list[AmiTarget]:
    """The PBXs in ``PHONESERVICE_AMI_URL``; a bad URL is a usage error."""
    try:
        return parse_targets(settings.ami_url or "", settings.ami_secret or "")
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
