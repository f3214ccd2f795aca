"""The worker process of ``phoneservice worker`` and ``run``: the leader lock, then the work.

A worker waits (standby) until it holds the leader lock; the active worker connects (the
schema was checked at start; ``run`` migrates it), reads the stored overrides, follows
every PBX of ``PHONESERVICE_AMI_URL`` and runs the scheduler until a signal; if another
worker takes the lock, it steps down to standby. A database outage never ends it.
``run`` hosts the same worker in a :class:`WorkerThread` beside the web server.
"""

from __future__ import annotations

import _thread
import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Callable
from datetime import datetime

from phoneservice.bootstrap import Services, queue_log_file, restart_settings
from phoneservice.pbx.client import AmiClient
from phoneservice.pbx.translate import wanted
from phoneservice.registry import Registry
from phoneservice.storage.leader import LeaderLock, Leadership, watch
from phoneservice.worker.amistate import AmiStateReporter
from phoneservice.worker.dialer import OriginateOutbox
from phoneservice.worker.follower import (
    PbxFollower,
    follow_all,
    stop_on_signals,
    watch_overrides,
)
from phoneservice.worker.jobs.scheduler import JobScheduler, build_scheduler
from phoneservice.worker.jobs.tasks import PURGE, RECONCILE, UNIT_STATE, Action, Tasks

_log = logging.getLogger("phoneservice.worker.follower")
_run_log = logging.getLogger("phoneservice.run")  # what ``run`` says about its worker thread
EXIT_OK, EXIT_FAILURE = 0, 1
STANDBY_POLL = 1.0  # seconds between a standby's attempts to take the lock
LOCK_CHECK_EVERY = 2.0  # seconds between the active worker's checks that it still holds it
LOCK_CHECK_DEADLINE = 10.0  # a check that hangs this long counts as a lost lock


def followers(services: Services, leadership: Leadership | None = None) -> list[PbxFollower]:
    """One client and one call log per PBX in ``PHONESERVICE_AMI_URL``."""
    settings = services.settings
    if not settings.ami_targets:
        return []
    reader = queue_log_file([settings.queue_log]) if settings.queue_log else None
    outbox = OriginateOutbox(services.callbacks)
    events = wanted(services.registry.pbx.hours_variable)
    return [
        PbxFollower(
            AmiClient(target, events=events),
            services.call_log(
                target.name, queue_log=reader, since=services.calls.resume_point(target.name)
            ),
            # callbacks are placed through the first PBX (docs/worker.md)
            originates=outbox if n == 0 else None,
            state=AmiStateReporter(target.name, services.pbx_states.save),
            leadership=leadership,
        )
        for n, target in enumerate(settings.ami_targets)
    ]


async def serve(services: Services, lock: LeaderLock, stop: asyncio.Event | None = None) -> int:
    """Standby until the lock is ours, then be the active worker until a signal.

    ``stop`` is set by SIGTERM/SIGINT, or by the caller when it passes one (``run``
    hosts this in a thread, where signals do not reach the loop). A worker whose lock
    another worker took steps down to standby; a database outage never ends it. The
    exit code is 0.
    """
    if stop is None:
        stop = asyncio.Event()
        stop_on_signals(stop)
    try:
        while await lock.wait_acquire(poll=STANDBY_POLL, stop=stop):
            _log.info("worker active: this worker holds the lock on %s", lock.name)
            if not await _active(services, lock, stop):
                break
            lock.release()  # another worker is active: back to standby
    finally:
        lock.release()
    return EXIT_OK


async def _active(services: Services, lock: LeaderLock, stop: asyncio.Event) -> bool:
    """Run the scheduler and the followers until ``stop``; True if another worker took over."""
    term, leadership = asyncio.Event(), Leadership()  # term: stop, or the lock taken
    relay = asyncio.create_task(_relay(stop, term))
    watcher = asyncio.create_task(
        watch(lock, term, LOCK_CHECK_EVERY, LOCK_CHECK_DEADLINE, leadership)
    )
    await asyncio.to_thread(services.connect)  # one engine for calls and jobs
    overrides = services.live_overrides
    await asyncio.to_thread(overrides.refresh)  # before the first call is judged
    found = await asyncio.to_thread(followers, services, leadership)
    if not found:
        _log.info("PHONESERVICE_AMI_URL is not set: the AMI part stays idle")
    for follower in found:
        _log.info("following PBX %s", follower.client.target.name)
    scheduler = _scheduler(services, leadership)
    loop = asyncio.get_running_loop()
    scheduler.tasks.register(RECONCILE, lambda _now: _ask_recheck(loop, found))
    await asyncio.to_thread(scheduler.start)
    unsubscribe = _follow_reloads(services, scheduler)
    replan = scheduler.wake_unit_state  # an override starting or ending is a change
    poller = asyncio.create_task(watch_overrides(overrides.refresh, replan, term))
    try:
        await follow_all(found, term)
    finally:
        unsubscribe()
        term.set()
        relay.cancel()
        await poller
        await asyncio.to_thread(scheduler.shutdown)
        _log.info("scheduler stopped")  # APScheduler's own lines show only at DEBUG
    return await watcher


async def _relay(stop: asyncio.Event, term: asyncio.Event) -> None:
    """Set ``term`` when ``stop`` is set."""
    await stop.wait()
    term.set()


def _scheduler(services: Services, leadership: Leadership | None = None) -> JobScheduler:
    """The scheduler on the worker's database: overdue marking, purge, unit state."""
    tasks = worker_tasks(services)
    if leadership is not None:  # no job runs while the lock is in doubt
        tasks.may_run = lambda: leadership.confirmed
    return build_scheduler(
        services.engine, services.registry, tasks, services.clock, services.live_hours
    )


def worker_tasks(services: Services) -> Tasks:
    """The scheduler's actions: overdue marking, the purge (numbers, then login attempts and
    audit entries past their retention) and the unit-state log."""
    tasks = Tasks(services.clock)
    tasks.register_callbacks(services.callbacks)
    tasks.register(PURGE, services.purge)
    tasks.register(UNIT_STATE, _unit_state_logger(services))
    return tasks


def _follow_reloads(services: Services, scheduler: JobScheduler) -> Callable[[], None]:
    """After a reload: re-plan the unit-state job; say what needs a restart to apply."""
    holder = services.holder
    if holder.path is None:  # a registry built in memory never reloads
        return lambda: None
    built = restart_settings(holder.registry)

    def on_reload(new: Registry) -> None:
        scheduler.replan(new)
        if restart_settings(new) != built:
            _log.warning(
                "registry reloaded: the [pbx] table and callbacks.short_abandon_seconds "
                "apply to the call log after a worker restart"
            )

    return holder.subscribe(on_reload)


def _ask_recheck(loop: asyncio.AbstractEventLoop, found: list[PbxFollower]) -> None:
    """The reconcile job (a scheduler thread) asks each follower, on the followers' loop."""
    for follower in found:
        loop.call_soon_threadsafe(follower.request_recheck)


def _unit_state_logger(services: Services) -> Action:
    """Until the board pushes updates: log how many units are open after a change."""

    def log_state(now: datetime) -> None:
        found = services.live_hours.status((), now)
        opened = sum(entry.status.open for entry in found)
        _log.info("unit state at %s: %d of %d open", now.isoformat(), opened, len(found))

    return log_state


class WorkerThread(threading.Thread):
    """The worker of ``phoneservice worker`` on its own asyncio loop in this thread (``run``).

    A worker that ends on its own (a lost lock, a failure) interrupts the main thread with
    SIGTERM, so the web server beside it stops too.
    """

    def __init__(self, services: Services, lock: LeaderLock) -> None:
        # A daemon thread: a worker that does not stop within the timeout does not keep
        # the process alive (the lock dies with it).
        super().__init__(name="phoneservice-worker", daemon=True)
        self._services, self._lock = services, lock
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._started = threading.Event()
        self._guard = threading.Lock()
        self._stopping = False
        self.code: int | None = None

    def run(self) -> None:
        """Run the worker until :meth:`stop`; if it ends first, stop the web server too."""
        try:
            self.code = asyncio.run(self._main())
        except BaseException as exc:  # a message in the log, never a traceback
            _run_log.error("worker failed: %s: %s", type(exc).__name__, exc)
            self.code = EXIT_FAILURE
        finally:
            self._started.set()
            with self._guard:
                ended_alone = not self._stopping
            if ended_alone:
                _run_log.error(
                    "the worker stopped (exit code %s): stopping the web server", self.code
                )
                _thread.interrupt_main(signal.SIGTERM)  # handled by the server's handler

    async def _main(self) -> int:
        self._loop, self._stop_event = asyncio.get_running_loop(), asyncio.Event()
        self._started.set()
        return await serve(self._services, self._lock, stop=self._stop_event)

    def stop(self, timeout: float) -> None:
        """Ask the worker to stop (it stores what it holds) and wait up to ``timeout`` s."""
        with self._guard:
            self._stopping = True
        if not self.is_alive():
            return
        self._started.wait(timeout)
        loop, stop = self._loop, self._stop_event
        if loop is not None and stop is not None:
            # RuntimeError: the loop has already closed, the worker has ended
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stop.set)
        self.join(timeout)
        if self.is_alive():
            _run_log.error("the worker did not stop within %.0f s", timeout)
            self.code = EXIT_FAILURE
