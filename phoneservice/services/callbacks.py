"""Use cases of the callback queue (SPEC §6, §11): one transaction per call, clock injected.

:meth:`CallbackService.apply` is the exception: :class:`CallService` calls it inside the
transaction that stores new calls, so a call and what it did to the queue are committed
together, and a call stored twice (it is not new the second time) does nothing twice.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import uuid4

from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from phoneservice.domain.callbacks import rules
from phoneservice.domain.callbacks.originate import check_device
from phoneservice.domain.callbacks.rules import Attempt, Callback, CallbackRules
from phoneservice.domain.calls.records import CallRecord
from phoneservice.domain.errors import require_aware
from phoneservice.domain.hours.calendar import MUNICIPAL, Calendar
from phoneservice.registry import Registry
from phoneservice.registry.holder import RegistryHolder, as_holder
from phoneservice.services.hours import HoursService
from phoneservice.services.overrides import OverrideService
from phoneservice.storage.accounts import AccountRepository
from phoneservice.storage.callback_repository import CallbackRepository
from phoneservice.storage.callbacks import RetentionRepository

Clock = Callable[[], datetime]
Change = Callable[[Callback, datetime], Callback]
IsOpen = Callable[[str, datetime], bool]  # HoursService.is_open
LOST_AFTER = timedelta(minutes=10)  # a placed call without outcome this long is "lost"


class CallbackNotFound(LookupError):
    """No callback has the id asked for."""


class UnitClosed(rules.CallbackError):
    """The task's unit is closed now: a call is placed only when the agent confirms."""


class NoDevice(rules.CallbackError):
    """The person placing the call has no phone of their own set on their account."""


@dataclass(frozen=True, slots=True)
class PlacedCall:
    """A call requested through the PBX: the task, and the attempt's fixed ChannelId."""

    view: CallbackView
    channel_id: str


@dataclass(frozen=True, slots=True)
class OriginateJob:
    """A requested call for the worker to place: what its Originate needs."""

    callback_id: int
    channel_id: str
    agent_device: str
    citizen_number: str = field(repr=False)  # never in a log line (SPEC §11)
    unit: str


@dataclass(frozen=True, slots=True)
class CallbackView:
    """A task as staff see it at one instant."""

    callback: Callback
    overdue: bool


@dataclass(frozen=True, slots=True)
class PurgeReport:
    """What a retention purge erased: tasks and calls that lost their number."""

    now: datetime
    cutoff: datetime
    callbacks: int
    calls: int
    expired: int  # open tasks closed as expired (counted in ``callbacks`` too)


class CallbackService:
    """The callback queue over one registry; each public method is one transaction."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        registry: Registry | RegistryHolder,
        clock: Clock,
        is_open: IsOpen | None = None,
        *,
        hours: HoursService | None = None,
    ) -> None:
        self.sessions = sessions
        self.holder = as_holder(registry)
        self.clock = clock
        # Open or closed is the hours service's answer, overrides included: ``is_open`` is
        # its method; without it (or ``hours``), one over the overrides stored here is asked.
        if is_open is None:
            stored = OverrideService(sessions, self.holder, clock).in_force
            is_open = (hours or HoursService(self.holder, clock, stored)).is_open
        self.is_open = is_open

    @property
    def registry(self) -> Registry:
        """The registry in use now (a hot reload applies to the next task)."""
        return self.holder.registry

    @property
    def rules(self) -> CallbackRules:
        """The registry's ``[callbacks]`` settings as domain rules."""
        settings = self.registry.callbacks
        return CallbackRules(settings.outside_hours, settings.max_attempts)

    def now(self) -> datetime:
        """The current instant from the injected clock (aware, or an error)."""
        now = self.clock()
        require_aware(now, "clock()")
        return now

    def apply(self, session: Session, inserted: Sequence[tuple[int, CallRecord]]) -> None:
        """Open, join or close tasks for calls just stored (in arrival order), in ``session``."""
        repo, now, settings = self._repository(session), self.now(), self.rules
        for call_id, call in sorted(inserted, key=lambda pair: (pair[1].arrived_at, pair[0])):
            kind = rules.meaning(call, settings)
            if kind == rules.MISSED:
                self._missed(repo, call_id, call, now)
            elif kind == rules.REACHED_US:
                self._answered(repo, call)

    def list(
        self,
        unit: str | None = None,
        state: str | None = None,
        units: Collection[str] | None = None,
    ) -> builtins.list[CallbackView]:
        """Tasks of ``unit`` or ``units`` (all when neither), overdue first, then by due time."""
        scope = _scope(unit, units)
        now = self.now()
        with self.sessions() as session:
            found = self._repository(session).list(scope, state)
        views = [CallbackView(c, c.overdue(now)) for c in found]
        return sorted(views, key=lambda v: (not v.overdue, v.callback.due_at, v.callback.id))

    def get(self, callback_id: int) -> CallbackView:
        """One task; :class:`CallbackNotFound` when there is none."""
        with self.sessions() as session:
            found = _existing(self._repository(session), callback_id)
        return CallbackView(found, found.overdue(self.now()))

    def claim(self, callback_id: int, user: str, force: bool = False) -> CallbackView:
        """Take the task; another's claim is refused unless ``force`` (an admin taking over)."""
        return self._change(callback_id, lambda c, now: rules.claim(c, user, now, force=force))

    def release(self, callback_id: int, user: str) -> CallbackView:
        """Give the task back to the queue."""
        return self._change(callback_id, lambda c, _now: rules.release(c, user))

    def attempt(
        self,
        callback_id: int,
        user: str,
        outcome: str,
        note: str | None = None,
        channel_id: str | None = None,
    ) -> CallbackView:
        """Record a try to reach the citizen; it may close the task (SPEC §6)."""
        limit = self.rules.max_attempts

        def record(callback: Callback, now: datetime) -> Callback:
            tried = Attempt(now, user, outcome, note, channel_id)
            return rules.record_attempt(callback, tried, limit)

        return self._change(callback_id, record)

    def place_call(
        self,
        callback_id: int,
        user: str,
        *,
        confirm_closed: bool = False,
        now: datetime | None = None,
    ) -> PlacedCall:
        """Ask the worker to call the citizen from ``user``'s own phone (SPEC §6): a requested
        attempt with a fresh ChannelId. The phone is the device an admin set on the account,
        checked against ``[pbx] agent_device_pattern`` in the transaction that queues the
        call: :class:`NoDevice` without one, ``DeviceRefused`` when it does not match.
        :class:`UnitClosed` while the unit is closed, unless ``confirm_closed``; refused on a
        closed or erased task, another's claim, or while a placed call is in flight. Placing
        a call claims an unclaimed task for ``user``.
        """
        at = self._at(now)
        channel_id = f"cb{callback_id}-{uuid4().hex[:12]}"
        with self.sessions() as session:
            repo = self._repository(session)
            found = _existing(repo, callback_id, lock=True)
            device = self._device_of(AccountRepository(session), user)
            if found.is_open and not confirm_closed and not self.is_open(found.unit, at):
                raise UnitClosed(f"{found.unit} is closed now: confirm to call the citizen anyway")
            attempt = Attempt(
                at, user, None, channel_id=channel_id, status=rules.REQUESTED, agent_device=device
            )
            repo.save(rules.place_call(found, attempt, at, LOST_AFTER))
            stored = _existing(repo, callback_id)
            session.commit()
        return PlacedCall(CallbackView(stored, stored.overdue(at)), channel_id)

    def due_originates(
        self, pbx_units: Collection[str] | None = None, limit: int = 20
    ) -> builtins.list[OriginateJob]:
        """Requested calls (of ``pbx_units``), oldest first; stale ones are marked lost first."""
        now = self.now()
        with self.sessions() as session:
            repo = self._repository(session)
            repo.lose_stale_calls(now - LOST_AFTER)
            found = repo.requested_calls(pbx_units, limit)
            session.commit()
        return [
            OriginateJob(callback_id, str(a.channel_id), str(a.agent_device), number, unit)
            for callback_id, a, number, unit in found
        ]

    @property
    def device_pattern(self) -> re.Pattern[str]:
        """The pattern every agent device must match: the registry's in use now."""
        return self.registry.pbx.agent_device_pattern

    def mark_sent(self, channel_id: str) -> bool:
        """Take a requested call (committed before the Originate goes): False if taken already."""
        with self.sessions() as session:
            taken = self._repository(session).set_call_status(
                channel_id, (rules.REQUESTED,), rules.SENT
            )
            session.commit()
        return taken

    def agent_answered(self, channel_id: str) -> bool:
        """The agent answered a sent call: the citizen's phone rings now. False when the
        call is not ``sent`` (decided already, or never sent): nothing changes then."""
        with self.sessions() as session:
            moved = self._repository(session).set_call_status(
                channel_id, (rules.SENT,), rules.AGENT_ANSWERED
            )
            session.commit()
        return moved

    def resolve(
        self,
        channel_id: str,
        outcome: str,
        at: datetime | None = None,
        reason: str | None = None,
    ) -> CallbackView | None:
        """Record what became of a placed call; idempotent. None when no task placed it.

        ``reached``/``no_answer``/``busy`` are the attempt's outcome (reached closes the
        task as done, called back; failures count toward ``max_attempts``);
        ``agent_no_answer``, ``failed`` and ``lost`` only set its status (and ``reason``,
        why it was never sent, its note).
        """
        when = self._at(at)
        limit = self.rules.max_attempts
        with self.sessions() as session:
            repo = self._repository(session)
            callback_id = repo.callback_of_call(channel_id)
            if callback_id is None:
                return None
            found = _existing(repo, callback_id, lock=True)
            decided = rules.resolve_call(found, channel_id, outcome, when, limit, reason)
            if decided is not found:
                repo.save(decided)
                for attempt in decided.attempts:
                    if attempt.channel_id == channel_id:
                        repo.update_attempt(attempt)
            stored = _existing(repo, callback_id)
            session.commit()
        return CallbackView(stored, stored.overdue(when))

    def sent_calls(self, pbx_units: Collection[str] | None = None) -> builtins.list[str]:
        """ChannelIds of calls sent (of ``pbx_units``) still without an outcome."""
        with self.sessions() as session:
            return self._repository(session).sent_calls(pbx_units)

    def lose_stale_calls(self, now: datetime | None = None) -> int:
        """Placed calls requested more than LOST_AFTER ago without an outcome become lost."""
        at = self._at(now)
        with self.sessions() as session:
            lost = self._repository(session).lose_stale_calls(at - LOST_AFTER)
            session.commit()
        return lost

    def note(self, callback_id: int, user: str, text: str | None) -> CallbackView:
        """Set the task's short note (empty clears it)."""
        return self._change(callback_id, lambda c, _now: rules.set_note(c, user, text))

    def cancel(self, callback_id: int, user: str, reason: str) -> CallbackView:
        """Close the task as cancelled, with the reason staff give."""
        return self._change(callback_id, lambda c, now: rules.cancel(c, user, reason, now))

    def mark_overdue(self, now: datetime | None = None) -> builtins.list[CallbackView]:
        """Mark tasks that became overdue; the newly marked ones, for alerts (once each)."""
        at = self._at(now)
        with self.sessions() as session:
            repo = self._repository(session)
            fresh = [c for c in repo.list(state=rules.OPEN, overdue_at=at) if c.overdue_at is None]
            marked = [rules.mark_overdue(c, at) for c in fresh]
            for callback in marked:
                repo.save(callback)
            session.commit()
        return [CallbackView(c, True) for c in marked]

    def overdue_count(self, unit: str | None = None, now: datetime | None = None) -> int:
        """How many open tasks (of ``unit``) are past their deadline now: for /metrics."""
        at = self._at(now)
        with self.sessions() as session:
            return self._repository(session).count_overdue(at, unit)

    def purge(self, now: datetime | None = None) -> PurgeReport:
        """Erase numbers ``retention_days`` after a task closes, and of old calls (SPEC §11).

        A task still open ``retention_days`` after it was opened is closed as ``expired``
        (SPEC §13) and erased with the others.
        """
        at = self._at(now)
        cutoff = at - timedelta(days=self.registry.callbacks.retention_days)
        with self.sessions() as session:
            retention = RetentionRepository(session, self.registry.timezone)
            expired = retention.expire_open(cutoff, at)
            tasks, their_calls = retention.erase_closed(cutoff, at)
            old_calls = retention.erase_old_calls(cutoff, at)
            session.commit()
        return PurgeReport(at, cutoff, tasks, their_calls + old_calls, expired)

    def unacknowledgeable(self, unit: str | None, start: datetime, end: datetime) -> int:
        """Missed calls in ``[start, end)`` that no task can acknowledge: withheld numbers."""
        counted = self.rules.outside_hours == rules.OUTSIDE_HOURS_CALLBACK
        with self.sessions() as session:
            repo = self._repository(session)
            return repo.withheld_missed(unit, start, end, closed_count=counted)

    def _missed(
        self, repo: CallbackRepository, call_id: int, call: CallRecord, now: datetime
    ) -> None:
        """Join the pair's open task, or open one (closed at once if the caller got through)."""
        number, unit = str(call.caller_number), str(call.unit)
        callback_id = self._open_task_id(repo, number, unit)
        if callback_id is None:
            fresh = rules.open_callback(call, self._calendar(unit), self.registry.timezone, now)
            reached = repo.answered_after(number, unit, call.arrived_at)
            if reached is not None:
                fresh = rules.caller_reached_us(fresh, rules.answered_at(*reached))
            callback_id = repo.insert(fresh) or self._open_task_id(repo, number, unit)
        if callback_id is None:  # the insert lost a race, and the winner is gone already
            raise RuntimeError(f"no open callback for a caller of {unit} after inserting one")
        repo.add_evidence(callback_id, call_id)

    def _answered(self, repo: CallbackRepository, call: CallRecord) -> None:
        """Close the pair's open task when this answered call came after its first missed call."""
        found = repo.open_for(str(call.caller_number), str(call.unit))
        if found is not None:
            closed = rules.caller_reached_us(found, rules.answered_at(call.arrived_at, call.wait_s))
            if closed is not found:
                repo.save(closed)

    def _open_task_id(self, repo: CallbackRepository, number: str, unit: str) -> int | None:
        """The id of the pair's open task, or None."""
        found = repo.open_for(number, unit)
        return None if found is None else found.id

    def _device_of(self, accounts: AccountRepository, user: str) -> str:
        """The own phone of the person ``user``, if it matches the registry's pattern now."""
        row = accounts.user_by_name(user)
        if row is None or not row.active or not row.agent_device:
            raise NoDevice(f"{user} has no phone set: ask an admin to set your phone")
        return check_device(row.agent_device, self.device_pattern)

    def _calendar(self, unit_id: str) -> Calendar:
        """The unit's calendar; the municipal one for a unit no longer in the registry."""
        unit = self.registry.units.get(unit_id)
        if unit is not None:
            return unit.schedule.calendar
        calendars = self.registry.calendars
        return calendars.get(MUNICIPAL) or next(iter(calendars.values()))

    def _change(self, callback_id: int, change: Change) -> CallbackView:
        """Load a task locked, apply a domain action, store it, commit: one transaction."""
        now = self.now()
        with self.sessions() as session:
            repo = self._repository(session)
            repo.save(change(_existing(repo, callback_id, lock=True), now))
            stored = _existing(repo, callback_id)
            session.commit()
        return CallbackView(stored, stored.overdue(now))

    def _repository(self, session: Session) -> CallbackRepository:
        """The callback repository on ``session``, in the registry's zone (the roll-up)."""
        return CallbackRepository(session, self.registry.timezone)

    def _at(self, now: datetime | None) -> datetime:
        """The given instant (aware), or the clock's."""
        if now is None:
            return self.now()
        require_aware(now, "now")
        return now


def _existing(repo: CallbackRepository, callback_id: int, *, lock: bool = False) -> Callback:
    """The stored task, or :class:`CallbackNotFound`."""
    found = repo.get(callback_id, lock=lock)
    if found is None:
        raise CallbackNotFound(f"no callback with id {callback_id}")
    return found


def _scope(unit: str | None, units: Collection[str] | None) -> Collection[str] | None:
    """The units to list: ``unit`` within ``units`` when both are given, None for all."""
    if unit is None:
        return units
    return [unit] if units is None or unit in units else []
