"""The composition root: every collaborator is built and wired here, and only here.

:func:`build` returns the process's :class:`Services`. What is costly is made on first
use: the database engine (and with it SQLAlchemy, SQLModel and Alembic) only when a
database service is first asked for, so that the commands over the registry alone
(``status``, ``hours``, ``deadline``, ``export``, ``check-config``) never import it unless
a database exists whose manual overrides they must honour.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from phoneservice.domain.hours.status import Override
from phoneservice.registry import Registry
from phoneservice.registry.holder import RegistryHolder, as_holder, current
from phoneservice.services.clock import Clock, system_clock
from phoneservice.services.hours import HoursService, no_overrides
from phoneservice.settings import Settings, SettingsError

if TYPE_CHECKING:  # imported when first used: SQLAlchemy and argon2 are slow to import,
    # and the call log is not needed by the commands over the registry
    from argon2 import PasswordHasher
    from sqlalchemy import Engine
    from sqlalchemy.orm import sessionmaker
    from sqlmodel import Session

    from phoneservice.domain.calls.queuelog import QueueLogCalls
    from phoneservice.domain.calls.tracker import CallTracker
    from phoneservice.domain.evaluation.model import LoadCell
    from phoneservice.services.accounts import AccountService, Pruned
    from phoneservice.services.audit import AuditService
    from phoneservice.services.callbacks import CallbackService, PurgeReport
    from phoneservice.services.calllog import CallLog, QueueLogReader, Store
    from phoneservice.services.calls import CallService
    from phoneservice.services.evaluation import EvaluationService
    from phoneservice.services.identity import IdentityService
    from phoneservice.services.ingest import Recordings
    from phoneservice.services.monitoring import MonitoringService, PbxStateService
    from phoneservice.services.override_cache import OverrideCache
    from phoneservice.services.overrides import OverrideService
    from phoneservice.services.reports import ReportService
    from phoneservice.services.tokens import TokenService
    from phoneservice.storage.leader import LeaderLock

__all__ = [
    "OVERRIDE_LOOKBACK",
    "SchemaBehind",
    "Services",
    "build",
    "build_call_log",
    "build_queue_log_calls",
    "build_tracker",
    "is_open_function",
    "queue_log_file",
    "restart_settings",
]

Overrides = Callable[[], Sequence[Override]]
IsOpen = Callable[[str, datetime], bool]
# A holder: units and hours are looked up in the registry in use at each call, so a hot
# reload applies to the next call. Its [pbx] settings and short_abandon_seconds are read
# when the tracker is built: they change with a worker restart (docs/worker.md).
Source = Registry | RegistryHolder
OVERRIDE_LOOKBACK = timedelta(hours=2)  # ended overrides still apply to calls this old
T = TypeVar("T")


class SchemaBehind(RuntimeError):
    """The database's schema is older than this version's; only ``db upgrade`` changes it."""


def build(
    settings: Settings,
    clock: Clock = system_clock,
    *,
    registry: Source | None = None,
    migrate: bool = False,
    check_schema: bool = True,
    hasher: PasswordHasher | None = None,
    quick_reads: bool = False,
) -> Services:
    """The services of one process over ``settings``.

    ``registry`` defaults to the file the settings name, loaded now (a bad file raises
    ``ConfigError``) and reloadable. With ``migrate`` the database is brought to the
    latest schema when it is first used (``db upgrade``, ``run`` and ``demo``). Without,
    a database that is behind is refused (:class:`SchemaBehind`) and a SQLite file not
    made yet is made at the latest schema; ``check_schema=False`` does neither (a web
    app under gunicorn: ``/readyz`` tells what it finds).
    ``hasher`` hashes passwords (argon2's default cost when None). With ``quick_reads``
    the hours service reads the stored overrides with the backend's own driver until the
    engine exists (the registry commands: no SQLAlchemy to import).
    """
    if registry is None:
        registry = RegistryHolder.load(settings.config, lambda: clock().date())
    holder = as_holder(registry)
    return Services(
        settings,
        clock,
        holder,
        migrate=migrate,
        check_schema=check_schema,
        hasher=hasher,
        quick_reads=quick_reads,
    )


class Services:
    """The process's services over one registry holder and (when asked) one database."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        holder: RegistryHolder,
        *,
        migrate: bool = False,
        check_schema: bool = True,
        hasher: PasswordHasher | None = None,
        quick_reads: bool = False,
    ) -> None:
        self.settings, self.clock, self.holder = settings, clock, holder
        self.migrate, self.check_schema, self.hasher = migrate, check_schema, hasher
        self.quick_reads = quick_reads
        self._guard = threading.RLock()  # web threads may ask for the engine at once
        self._made: dict[str, object] = {}
        self.hours = HoursService(holder, clock, self._stored_overrides)

    @property
    def registry(self) -> Registry:
        """The registry in use now (a reload swaps it between two questions)."""
        return self.holder.registry

    def has_database(self) -> bool:
        """Whether a database exists to be read (never made by asking)."""
        return self.settings.has_database()

    # -- the database -------------------------------------------------------------------

    @property
    def sessions(self) -> sessionmaker[Session]:
        """Sessions on the configured database; the one engine of this process."""
        return self._once("sessions", self._connect)

    @property
    def engine(self) -> Engine:
        """The engine under :attr:`sessions` (the scheduler's job store, ``/readyz``)."""
        bound: Engine = self.sessions.kw["bind"]
        return bound

    def _connect(self) -> sessionmaker[Session]:
        """Migrate or check the schema, then make the engine (SQLAlchemy imported here)."""
        from phoneservice.storage.engine import create_engine_for, session_factory
        from phoneservice.storage.migrate import revisions, upgrade

        url = self.settings.database()
        if self.migrate or (self.check_schema and not self.settings.has_database()):
            # a SQLite file that does not exist yet holds nothing: made at the latest schema;
            # the registry's zone dates the roll-up's days (migration 0007's backfill)
            upgrade(url, timezone=self.registry.timezone.key)
        elif self.check_schema:
            found, latest = revisions(url)
            if found != latest:
                raise SchemaBehind(
                    f"the database schema is at revision {found or 'none'}, this version "
                    f"needs {latest}: run `phoneservice db upgrade`"
                )
        return session_factory(create_engine_for(url))

    def connect(self) -> None:
        """Make the engine now (migrating when built to), not at the first request."""
        self._once("sessions", self._connect)

    def leader_lock(self) -> LeaderLock:
        """The lock the active worker holds; a database that allows none is a SettingsError."""
        from phoneservice.storage.leader import LeaderError, LeaderLock

        try:
            return LeaderLock.for_url(self.settings.database())
        except LeaderError as exc:
            raise SettingsError(f"PHONESERVICE_DATABASE_URL: {exc}") from exc

    # -- manual overrides ---------------------------------------------------------------

    @property
    def override_cache(self) -> OverrideCache:
        """The overrides this process applies, re-read at most every ~2 s (web, CLI)."""
        return self._once("override_cache", self._override_cache)

    def _override_cache(self) -> OverrideCache:
        from phoneservice.services.override_cache import OverrideCache

        return OverrideCache(self._in_force)

    def _in_force(self) -> Sequence[Override]:
        """The stored overrides in force, through the engine or (quick reads) the driver."""
        if self.quick_reads and "sessions" not in self._made:
            from phoneservice.storage.override_reader import in_force

            return in_force(self.settings.database(), self.clock(), self.registry.timezone)
        return self.overrides.in_force()

    def _stored_overrides(self) -> Sequence[Override]:
        """The hours service's override source; none while there is no database."""
        if "override_cache" not in self._made and not self.has_database():
            return ()
        return self.override_cache()

    @property
    def overrides(self) -> OverrideService:
        """Manual overrides; a write drops this process's cached ones at once."""
        return self._once("overrides", self._override_service)

    def _override_service(self) -> OverrideService:
        from phoneservice.services.overrides import OverrideService

        def invalidate() -> None:
            if "override_cache" in self._made:
                self.override_cache.invalidate()

        return OverrideService(self.sessions, self.holder, self.clock, invalidate)

    @property
    def live_overrides(self) -> OverrideCache:
        """The worker's overrides: read only by ``refresh`` (off the event loop, every 15 s).

        Those ended in the last ``OVERRIDE_LOOKBACK`` stay, so a call is judged by what
        held when it came.
        """
        return self._once("live_overrides", self._live_overrides)

    def _live_overrides(self) -> OverrideCache:
        from phoneservice.services.override_cache import OverrideCache

        return OverrideCache(lambda: self.overrides.in_force(OVERRIDE_LOOKBACK), ttl=None)

    @property
    def live_hours(self) -> HoursService:
        """The hours service of the call log and the scheduler, over :attr:`live_overrides`."""
        return self._once(
            "live_hours", lambda: HoursService(self.holder, self.clock, self.live_overrides)
        )

    # -- the services on the database ---------------------------------------------------

    @property
    def accounts(self) -> AccountService:
        """Accounts and sign-in."""
        from phoneservice.services.accounts import AccountService

        return self._once(
            "accounts",
            lambda: AccountService(self.sessions, self.clock, self.hasher, registry=self.holder),
        )

    @property
    def tokens(self) -> TokenService:
        """API tokens."""
        from phoneservice.services.tokens import TokenService

        return self._once("tokens", lambda: TokenService(self.sessions, self.clock))

    @property
    def identity(self) -> IdentityService:
        """Accounts of the people the identity provider signs in."""
        from phoneservice.services.identity import IdentityService

        return self._once("identity", lambda: IdentityService(self.sessions, self.clock))

    @property
    def audit(self) -> AuditService:
        """The audit log."""
        from phoneservice.services.audit import AuditService

        return self._once("audit", lambda: AuditService(self.sessions, self.clock))

    @property
    def callbacks(self) -> CallbackService:
        """The callback queue; "is the unit open" is the hours service's answer."""
        from phoneservice.services.callbacks import CallbackService

        return self._once(
            "callbacks",
            lambda: CallbackService(self.sessions, self.holder, self.clock, self.hours.is_open),
        )

    @property
    def calls(self) -> CallService:
        """Logged calls; storing one opens, joins or closes its callback task."""
        from phoneservice.services.calls import CallService

        return self._once(
            "calls", lambda: CallService(self.sessions, self.callbacks, self.registry.timezone)
        )

    @property
    def reports(self) -> ReportService:
        """The figures of SPEC §7 over the registry in use now."""
        from phoneservice.services.report_cache import ReportCache
        from phoneservice.services.reports import ReportService

        cache = self._once("report_cache", ReportCache)
        return ReportService(self.sessions, self.registry, self.clock, cache=cache)

    @property
    def evaluations(self) -> EvaluationService:
        """The service evaluation (SPEC §13) over the registry in use now."""
        from phoneservice.services.evaluation import EvaluationService

        return EvaluationService(self.reports, self.load_cells, self.registry, self.clock)

    def load_cells(self, first: date, last: date, unit: str | None) -> list[LoadCell]:
        """The staffing roll-up's cells of ``first``-``last`` (one unit, or all)."""
        from phoneservice.storage.loads import LoadRepository

        with self.sessions() as session:
            return LoadRepository(session).cells(first, last, unit)

    def monitoring(self, cache_seconds: float | None = None) -> MonitoringService:
        """The reader of counts and AMI state (``/readyz``, ``/metrics``), made once."""
        from phoneservice.services.monitoring import CACHE_SECONDS, MonitoringService

        seconds = CACHE_SECONDS if cache_seconds is None else cache_seconds
        return self._once(
            "monitoring", lambda: MonitoringService(self.sessions, self.clock, seconds)
        )

    @property
    def pbx_states(self) -> PbxStateService:
        """The worker's writes of its AMI connection state."""
        from phoneservice.services.monitoring import PbxStateService

        return self._once("pbx_states", lambda: PbxStateService(self.sessions))

    # -- the call log -------------------------------------------------------------------

    def call_log(
        self, pbx: str, *, queue_log: QueueLogReader | None = None, since: datetime | None = None
    ) -> CallLog:
        """The call-log pipeline of one PBX, storing into :attr:`calls`.

        Both witnesses (AMI and queue_log) ask :attr:`live_hours` whether the unit was
        open: the caller refreshes :attr:`live_overrides` (the worker's poller, ``ingest``).
        """
        return build_call_log(
            self.holder,
            pbx,
            self.calls.store_for(pbx),
            queue_log=queue_log,
            since=since,
            is_open=self.live_hours.is_open,
        )

    @property
    def recordings(self) -> Recordings:
        """How ``ingest`` tells recorded AMI streams apart and reads them (the AMI transport's)."""
        from phoneservice.pbx.queue_log import parse_queue_log
        from phoneservice.pbx.recorded import is_recording, message_batches
        from phoneservice.services.ingest import Recordings

        return Recordings(is_recording, message_batches, parse_queue_log)

    def purge(self, now: datetime | None = None) -> tuple[PurgeReport, Pruned]:
        """The retention purge (nightly in the worker, and ``purge``): numbers past
        ``retention_days``, then login attempts and audit entries past their own retention."""
        at = now or self.clock()
        report = self.callbacks.purge(at)
        days = self.settings
        pruned = self.accounts.prune(
            at, attempt_days=days.login_attempt_days, audit_days=days.audit_days
        )
        return report, pruned

    def close(self) -> None:
        """Give the engine's connections back (tests, the end of ``run``)."""
        sessions = self._made.get("sessions")
        if sessions is not None:
            cast("sessionmaker[Any]", sessions).kw["bind"].dispose()

    def _once(self, name: str, make: Callable[[], T]) -> T:
        """The collaborator called ``name``, made by ``make`` the first time it is asked."""
        found = self._made.get(name)
        if found is None:
            with self._guard:
                found = self._made.get(name)
                if found is None:
                    found = self._made[name] = make()
        return cast(T, found)


# -- the pipelines of the call log, wired from plain parts (also used by tests, bench) ----


def is_open_function(registry: Source, overrides: Overrides = no_overrides) -> IsOpen:
    """The registry's answer to "was this unit in phone hours at this instant?"."""
    return HoursService(registry, system_clock, overrides).is_open


def _unit_id(found: object) -> str | None:
    """The id of a unit found in the registry, or None."""
    return getattr(found, "id", None)


def build_tracker(
    registry: Source,
    pbx: str,
    overrides: Overrides = no_overrides,
    *,
    is_open: IsOpen | None = None,
) -> CallTracker:
    """A call tracker for one PBX, asking the registry for units and phone hours."""
    from phoneservice.domain.calls.tracker import CallTracker

    settings = current(registry)
    return CallTracker(
        pbx=pbx,
        unit_for_queue=lambda queue: _unit_id(current(registry).unit_for_queue(queue)),
        unit_for_did=lambda did: _unit_id(current(registry).unit_for_did(did)),
        is_open=is_open or is_open_function(registry, overrides),
        inbound_contexts=frozenset(settings.pbx.inbound_contexts),
        short_abandon_seconds=settings.callbacks.short_abandon_seconds,
        caller_region=settings.country,
    )


def build_queue_log_calls(
    registry: Source,
    pbx: str,
    overrides: Overrides = no_overrides,
    *,
    is_open: IsOpen | None = None,
) -> QueueLogCalls:
    """Rebuilds calls from queue_log for one PBX."""
    from phoneservice.domain.calls.queuelog import QueueLogCalls

    return QueueLogCalls(
        pbx=pbx,
        unit_for_queue=lambda queue: _unit_id(current(registry).unit_for_queue(queue)),
        is_open=is_open or is_open_function(registry, overrides),
        short_abandon_seconds=current(registry).callbacks.short_abandon_seconds,
        caller_region=current(registry).country,
    )


def queue_log_file(paths: Iterable[Path]) -> QueueLogReader:
    """A reader over queue_log files that reads only what was appended since it last read."""
    from phoneservice.pbx.queue_log import QueueLogTail

    return QueueLogTail(paths)


def build_call_log(
    registry: Source,
    pbx: str,
    store: Store,
    *,
    queue_log: QueueLogReader | None = None,
    since: datetime | None = None,
    overrides: Overrides = no_overrides,
    is_open: IsOpen | None = None,
) -> CallLog:
    """The call-log pipeline for one PBX; both witnesses ask the same ``is_open``."""
    from phoneservice.pbx.translate import Translator
    from phoneservice.services.calllog import CallLog

    is_open = is_open or is_open_function(registry, overrides)
    return CallLog(
        build_tracker(registry, pbx, is_open=is_open),
        build_queue_log_calls(registry, pbx, is_open=is_open),
        store,
        queue_log,
        since,
        translate=Translator(current(registry).pbx.hours_variable),
    )


def restart_settings(registry: Registry) -> tuple[object, ...]:
    """What a running call log took from the registry when it was built (see ``Source``)."""
    return (registry.pbx, registry.callbacks.short_abandon_seconds, registry.country)
