"""The worker's scheduler: APScheduler 3.x with its job store in the application database.

A ``BackgroundScheduler`` runs in its own thread: its job store reads and writes the
database, and the worker's event loop (which carries the AMI sockets) must never wait on
that. The cron-like jobs are persisted (``apscheduler_jobs``) so that a run missed while
no worker was active happens at the next start; the unit-state job depends on the live
registry and lives in a memory store, rebuilt at every start.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine

from phoneservice.registry import Registry
from phoneservice.services.hours import HoursService
from phoneservice.worker.jobs import tasks as task_functions
from phoneservice.worker.jobs.tasks import Clock, Tasks
from phoneservice.worker.jobs.triggers import FirstPassCronTrigger, NextChangeTrigger

JOB_TABLE = "apscheduler_jobs"
PERSISTENT, VOLATILE = "default", "volatile"
OVERDUE, PURGE, UNIT_STATE, RECONCILE = "overdue", "purge", "unit-state", "reconcile"
PURGE_AT = (2, 30)  # local time, after the day's callbacks are closed and before opening
EXECUTOR_THREADS = 4


@dataclass(frozen=True)
class JobSpec:
    """One job: a stable id, a module-level function, its trigger and its store."""

    id: str
    func: Callable[[], None]
    trigger: BaseTrigger
    store: str = PERSISTENT


@dataclass
class JobScheduler:
    """A scheduler and the jobs it must hold; ``start`` adds them without duplicates."""

    scheduler: BackgroundScheduler
    jobs: tuple[JobSpec, ...]
    tasks: Tasks = field(default_factory=Tasks)
    hours: HoursService | None = None  # the unit-state trigger's answer

    def start(self) -> None:
        """Start; replace each job by id, keeping a stored run time that is still due."""
        task_functions.install(self.tasks)
        self.scheduler.start(paused=True)
        for spec in self.jobs:
            self._add(spec)
        self.scheduler.resume()

    def shutdown(self, wait: bool = True) -> None:
        """Stop; with ``wait`` the running jobs finish first."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=wait)

    def wake_unit_state(self) -> None:
        """Recompute the unit-state job's next run (after an override changed)."""
        job = self.scheduler.get_job(UNIT_STATE)
        if job is not None:
            self.scheduler.reschedule_job(UNIT_STATE, trigger=job.trigger)

    def replan(self, registry: Registry) -> None:
        """Plan the unit-state job over a reloaded registry: its units, its next change."""
        specs = [s for s in job_specs(registry, self.hours) if s.id == UNIT_STATE]
        if specs:
            self._add(specs[0], keep=False)
        elif self.scheduler.get_job(UNIT_STATE) is not None:
            self.scheduler.remove_job(UNIT_STATE)

    def _add(self, spec: JobSpec, keep: bool = True) -> None:
        """Add or replace one job; a stored run time for the same trigger survives if ``keep``."""
        kept = {}
        stored = self.scheduler.get_job(spec.id) if keep else None
        if stored is not None and _same_job(stored, spec) and stored.next_run_time:
            kept["next_run_time"] = stored.next_run_time  # a missed run still happens
        self.scheduler.add_job(
            spec.func,
            spec.trigger,
            id=spec.id,
            name=spec.id,
            jobstore=spec.store,
            replace_existing=True,
            coalesce=True,  # many missed runs make one
            max_instances=1,
            misfire_grace_time=None,  # however late: every job is safe to run late
            **kept,
        )


def build_scheduler(
    engine: Engine,
    registry: Registry,
    tasks: Tasks,
    clock: Clock | None = None,
    hours: HoursService | None = None,
) -> JobScheduler:
    """The worker's scheduler on ``engine``'s database, in the registry's time zone.

    ``clock`` (when given) becomes the clock the job functions read; the unit-state
    trigger asks ``hours`` (the worker's hours service, with its overrides) for the next
    change each time it is asked.
    """
    if clock is not None:
        tasks.clock = clock
    scheduler = BackgroundScheduler(
        jobstores={
            PERSISTENT: SQLAlchemyJobStore(engine=engine, tablename=JOB_TABLE),
            VOLATILE: MemoryJobStore(),
        },
        executors={"default": {"type": "threadpool", "max_workers": EXECUTOR_THREADS}},
        timezone=registry.timezone,
    )
    return JobScheduler(scheduler, job_specs(registry, hours), tasks, hours)


def job_specs(registry: Registry, hours: HoursService | None = None) -> tuple[JobSpec, ...]:
    """The worker's jobs (SPEC §6) with their stable ids."""
    tz = registry.timezone
    specs = [
        JobSpec(OVERDUE, task_functions.mark_overdue, IntervalTrigger(minutes=1, timezone=tz)),
        JobSpec(
            PURGE,
            task_functions.purge,
            FirstPassCronTrigger(hour=PURGE_AT[0], minute=PURGE_AT[1], timezone=tz),
        ),
        JobSpec(RECONCILE, task_functions.reconcile, IntervalTrigger(minutes=5, timezone=tz)),
    ]
    if registry.units:  # the hours service's answer: registry and overrides in use then
        answer = (hours or HoursService(registry)).next_change
        trigger = NextChangeTrigger(answer, tz)
        specs.append(JobSpec(UNIT_STATE, task_functions.unit_state, trigger, VOLATILE))
    return tuple(specs)


def _same_job(stored: object, spec: JobSpec) -> bool:
    """Whether a stored job runs the same function on the same schedule."""
    return getattr(stored, "func", None) is spec.func and str(
        getattr(stored, "trigger", None)
    ) == str(spec.trigger)
