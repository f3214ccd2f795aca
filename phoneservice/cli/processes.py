"""The long-running processes: ``worker`` (leader lock, scheduler and AMI connections)."""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from phoneservice import logs
from phoneservice.bootstrap import build_call_log, queue_log_file, restart_settings
from phoneservice.cli.common import EXIT_FAILURE, EXIT_OK, Clock, UsageError, common_options
from phoneservice.cli.reload import hot_reload, live_registry
from phoneservice.domain.hours.status import statuses
from phoneservice.pbx.client import AmiClient, AmiTarget, parse_targets
from phoneservice.registry import Registry
from phoneservice.registry.holder import RegistryHolder, current
from phoneservice.services.callbacks import CallbackService
from phoneservice.services.calls import CallService
from phoneservice.services.clock import system_clock
from phoneservice.services.monitoring import PbxStateService
from phoneservice.services.overrides import OverrideCache, OverrideService
from phoneservice.settings import Settings
from phoneservice.storage.engine import create_engine_for, session_factory
from phoneservice.storage.leader import LeaderError, LeaderLock, watch
from phoneservice.storage.migrate import upgrade
from phoneservice.worker.amistate import AmiStateReporter
from phoneservice.worker.follower import (
    OriginateOutbox,
    PbxFollower,
    follow_all,
    stop_on_signals,
    watch_overrides,
)
from phoneservice.worker.jobs.scheduler import JobScheduler, build_scheduler
from phoneservice.worker.jobs.tasks import RECONCILE, UNIT_STATE, Action, Tasks
from phoneservice.worker.jobs.triggers import OverrideSource, no_overrides

_log = logging.getLogger("phoneservice.worker.follower")
STANDBY_POLL = 1.0  # seconds between a standby's attempts to take the lock
LOCK_CHECK_EVERY = 2.0  # seconds between the active worker's checks that it still holds it
LOCK_CHECK_DEADLINE = 10.0  # a check that hangs this long counts as a lost lock
OVERRIDE_LOOKBACK = timedelta(hours=2)  # ended overrides still apply to calls this old


def register(commands: Any) -> None:
    """Add the process commands to the parser."""
    worker = commands.add_parser(
        "worker",
        parents=[common_options()],
        help="scheduler and AMI connections (one active worker per database, others wait)",
    )
    worker.set_defaults(run=cmd_worker)


def configure_logging(settings: Settings) -> None:
    """Log to stderr as ``PHONESERVICE_LOG_FORMAT`` says; the AMI secret is masked if it shows."""
    logs.configure(settings.log_format, [settings.ami_secret])


Source = Registry | RegistryHolder  # a holder: a hot reload applies to new calls and jobs


def followers(
    settings: Settings,
    registry: Source,
    sessions: sessionmaker[Session],
    overrides: OverrideSource = no_overrides,
) -> list[PbxFollower]:
    """One client and one call log per PBX in ``PHONESERVICE_AMI_URL``."""
    if not settings.ami_url:
        return []
    targets = _targets(settings)
    callbacks = CallbackService(sessions, registry, system_clock)
    service = CallService(sessions, callbacks, current(registry).timezone)
    reader = queue_log_file([settings.queue_log]) if settings.queue_log else None
    outbox = OriginateOutbox(callbacks)
    states = PbxStateService(sessions)
    return [
        PbxFollower(
            AmiClient(target),
            build_call_log(
                registry,
                target.name,
                service.store_for(target.name),
                queue_log=reader,
                since=service.resume_point(target.name),
                overrides=overrides,
            ),
            # callbacks are placed through the first PBX (docs/worker.md)
            originates=outbox if n == 0 else None,
            state=AmiStateReporter(target.name, states.save),
        )
        for n, target in enumerate(targets)
    ]


def cmd_worker(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    """Wait for the leader lock, then run the scheduler and follow every PBX until a signal."""
    configure_logging(settings)
    registry = live_registry(args, settings, clock)
    if settings.ami_url:
        _targets(settings)  # a bad AMI URL is reported now, not once this worker is active
    url = settings.database()
    try:
        lock = LeaderLock.for_url(url)
    except LeaderError as exc:
        raise UsageError(f"PHONESERVICE_DATABASE_URL: {exc}") from exc
    with hot_reload(registry):  # SIGHUP or a changed file: see cli/reload.py
        return asyncio.run(_serve(settings, registry, url, lock, clock))


async def _serve(
    settings: Settings,
    registry: Source,
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
    registry: Source,
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
    overrides = _stored_overrides(sessions, registry, clock)
    await asyncio.to_thread(overrides.refresh)  # before the first call is judged
    found = await asyncio.to_thread(followers, settings, registry, sessions, overrides)
    if not found:
        _log.info("PHONESERVICE_AMI_URL is not set: the AMI part stays idle")
    for follower in found:
        _log.info("following PBX %s", follower.client.target.name)
    scheduler = _scheduler(engine, sessions, registry, clock, overrides)
    loop = asyncio.get_running_loop()
    scheduler.tasks.register(RECONCILE, lambda _now: _ask_recheck(loop, found))
    await asyncio.to_thread(scheduler.start)
    unsubscribe = _follow_reloads(registry, scheduler)
    replan = scheduler.wake_unit_state  # an override starting or ending is a change
    poller = asyncio.create_task(watch_overrides(overrides.refresh, replan, stop))
    try:
        await follow_all(found, stop)
    finally:
        unsubscribe()
        stop.set()
        await poller
        await asyncio.to_thread(scheduler.shutdown)
    return await watcher


def _scheduler(
    engine: Engine,
    sessions: sessionmaker[Session],
    registry: Source,
    clock: Clock,
    overrides: OverrideSource = no_overrides,
) -> JobScheduler:
    """The scheduler on the worker's database: overdue marking, purge, unit state."""
    tasks = Tasks(clock)
    tasks.register_callbacks(CallbackService(sessions, registry, clock))
    tasks.register(UNIT_STATE, _unit_state_logger(registry, overrides))
    return build_scheduler(engine, current(registry), tasks, clock, overrides)


def _stored_overrides(
    sessions: sessionmaker[Session], registry: Source, clock: Clock
) -> OverrideCache:
    """The overrides the call log and the scheduler apply: re-read by ``watch_overrides``.

    Never read on the event loop: the poller refreshes them in a thread. Those ended in
    the last ``OVERRIDE_LOOKBACK`` stay, so a call is judged by what held when it came.
    """
    service = OverrideService(sessions, registry, clock)
    return OverrideCache(lambda: service.in_force(OVERRIDE_LOOKBACK), ttl=None)


def _follow_reloads(registry: Source, scheduler: JobScheduler) -> Callable[[], None]:
    """After a reload: re-plan the unit-state job; say what needs a restart to apply."""
    if not isinstance(registry, RegistryHolder):
        return lambda: None
    built = restart_settings(registry.registry)

    def on_reload(new: Registry) -> None:
        scheduler.replan(new)
        if restart_settings(new) != built:
            _log.warning(
                "registry reloaded: the [pbx] table and callbacks.short_abandon_seconds "
                "apply to the call log after a worker restart"
            )

    return registry.subscribe(on_reload)


def _ask_recheck(loop: asyncio.AbstractEventLoop, found: list[PbxFollower]) -> None:
    """The reconcile job (a scheduler thread) asks each follower, on the followers' loop."""
    for follower in found:
        loop.call_soon_threadsafe(follower.request_recheck)


def _unit_state_logger(registry: Source, overrides: OverrideSource = no_overrides) -> Action:
    """Until the board pushes updates: log how many units are open after a change."""

    def log_state(now: datetime) -> None:
        units, active = list(current(registry).units.values()), overrides()
        entries = ((unit.schedule, [o for o in active if o.unit == unit.id]) for unit in units)
        found = statuses(entries, now)
        open_ids = [unit.id for unit, state in zip(units, found, strict=True) if state.open]
        _log.info("unit state at %s: %d of %d open", now.isoformat(), len(open_ids), len(units))

    return log_state


def _targets(settings: Settings) -> list[AmiTarget]:
    """The PBXs in ``PHONESERVICE_AMI_URL``; a bad URL is a usage error."""
    try:
        return parse_targets(settings.ami_url or "", settings.ami_secret or "")
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
