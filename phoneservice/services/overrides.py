"""Manual overrides (SPEC §4.4): close a unit now, or open it outside its hours, until an end.

An override always starts when it is made and has a fixed end: "for N minutes", "until
a time" and "until the unit's next change" (asked of the hours service then, overrides in
force included, so it is refused for a unit that an override has closed already) all
become an instant. Ending one early sets ``ended_at``; its effective end is the earlier
of the two. Nothing runs when an override ends: the hours engine reads its end. Each
create and end is written to the audit log in the same transaction.

The hours engine asks for the overrides on every question, so
:class:`~phoneservice.services.override_cache.OverrideCache` keeps them in the process for
a short while (docs/web.md, docs/worker.md).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from phoneservice.domain.hours.status import HORIZON_DAYS, Override
from phoneservice.domain.units import Unit
from phoneservice.registry import Registry
from phoneservice.registry.holder import RegistryHolder, current
from phoneservice.services.hours import HoursService
from phoneservice.storage.accounts import AccountRepository
from phoneservice.storage.models import AuditRow, OverrideRow
from phoneservice.storage.overrides import OverrideRepository

_log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
MAX_REASON = 200
MAX_AHEAD = timedelta(days=HORIZON_DAYS)  # as far as the hours engine looks
MAX_MINUTES = HORIZON_DAYS * 24 * 60
RECENT_DAYS = 30
MAX_ID = 2**31 - 1  # the id column is a 32-bit integer on PostgreSQL


class OverrideError(ValueError):
    """An override that cannot be made or ended; ``code`` names why, the message explains."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class OverrideNotFound(OverrideError):
    """No override has this id."""


@dataclass(frozen=True, slots=True)
class Until:
    """When a new override ends: after some minutes, at a time, or at the next change."""

    minutes: int | None = None
    at: datetime | None = None
    next_change: bool = False

    def __post_init__(self) -> None:
        given = (self.minutes is not None) + (self.at is not None) + self.next_change
        if given != 1:
            raise OverrideError("end", "give exactly one of minutes, until or until_next_change")
        if self.minutes is not None and not 1 <= self.minutes <= MAX_MINUTES:
            raise OverrideError("minutes", f"minutes must be from 1 to {MAX_MINUTES}")
        if self.at is not None and self.at.utcoffset() is None:
            raise OverrideError("end", "the end needs a time zone")


@dataclass(frozen=True, slots=True)
class OverrideRecord:
    """A stored override as people see it, times in the registry's zone."""

    id: int
    unit: str
    start: datetime
    end: datetime
    open: bool
    reason: str
    author: str
    created_at: datetime
    ended_at: datetime | None = None
    ended_by: str | None = None

    @property
    def effective_end(self) -> datetime:
        """The planned end, or the moment it was ended early."""
        return self.end if self.ended_at is None else min(self.end, self.ended_at)

    def over(self, now: datetime) -> bool:
        """Whether it has ended (by itself or early) at ``now``."""
        return self.effective_end <= now

    def override(self) -> Override | None:
        """The domain override the hours engine applies (None when ended before it began)."""
        fields = (self.unit, self.start, self.end, self.open, self.reason, self.author)
        return Override.as_stored(*fields, self.ended_at)


class OverrideService:
    """Create, end and list overrides over one database; each public method is one transaction."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        registry: Registry | RegistryHolder,
        clock: Clock,
        on_change: Callable[[], None] = lambda: None,
        *,
        hours: HoursService | None = None,
    ) -> None:
        self.sessions, self.registry, self.clock = sessions, registry, clock
        self.on_change = on_change  # e.g. this process's cache drops what it holds
        # "Until the next change" asks the hours service; without one given, one over the
        # overrides stored here, read afresh.
        self.hours = hours or HoursService(registry, clock, self.in_force)

    def create(
        self, unit_id: str, *, open: bool, reason: str, until: Until, author: str
    ) -> OverrideRecord:
        """Close (or open) ``unit_id`` from now until ``until``; raises ``UnknownUnitError``."""
        registry = current(self.registry)
        unit, now = registry.unit(unit_id), self._now(registry)
        row = OverrideRow(
            unit=unit.id,
            start=now,
            end=self._end(unit, now, open, until),
            open=open,
            reason=_reason(reason),
            author=author,
            created_at=now,
        )
        with self.sessions() as session:
            OverrideRepository(session).add(row)
            _audit(session, now, author, "override.create", row)
            session.commit()
        self.on_change()
        return self._record(row)

    def end(self, override_id: int, *, actor: str) -> OverrideRecord:
        """End an override now; refuses one that is already over."""
        now = self._now(current(self.registry))
        with self.sessions() as session:
            row = _existing(OverrideRepository(session), override_id)
            if self._record(row).over(now):
                raise OverrideError("over", f"override {override_id} is over already")
            row.ended_at, row.ended_by = now, actor
            _audit(session, now, actor, "override.end", row)
            session.commit()
        self.on_change()
        return self._record(row)

    def get(self, override_id: int) -> OverrideRecord:
        """One override by id."""
        with self.sessions() as session:
            return self._record(_existing(OverrideRepository(session), override_id))

    def active(self) -> list[OverrideRecord]:
        """Overrides not over yet, by start."""
        now = self.clock()
        with self.sessions() as session:
            return [self._record(row) for row in OverrideRepository(session).active(now)]

    def recent(self, days: int = RECENT_DAYS) -> list[OverrideRecord]:
        """Overrides made in the last ``days`` days or not over yet, newest first."""
        now = self.clock()
        with self.sessions() as session:
            rows = OverrideRepository(session).recent(now - timedelta(days=days), now)
            return [self._record(row) for row in rows]

    def in_force(self, lookback: timedelta = timedelta(0)) -> tuple[Override, ...]:
        """The domain overrides not over ``lookback`` ago: the hours engine's source."""
        since = self.clock() - lookback
        with self.sessions() as session:
            rows = OverrideRepository(session).active(since)
            found = (self._record(row).override() for row in rows)
            return tuple(o for o in found if o is not None)

    def _end(self, unit: Unit, now: datetime, open: bool, until: Until) -> datetime:
        """The instant ``until`` names, checked to be after now and within the horizon."""
        if until.minutes is not None:
            return now + timedelta(minutes=until.minutes)
        if until.at is None:
            return self._next_change(unit, now, open)
        end = until.at.astimezone(now.tzinfo)
        if end <= now:
            raise OverrideError("past", f"the end {end.isoformat()} is not after now")
        if end - now > MAX_AHEAD:
            raise OverrideError("far", f"the end may be at most {HORIZON_DAYS} days ahead")
        return end

    def _next_change(self, unit: Unit, now: datetime, open: bool) -> datetime:
        """The unit's next change, when it makes an override that changes something."""
        (found,) = self.hours.status((unit.id,), now)
        state = found.status
        if state.open == open:
            word = "open" if open else "closed"
            raise OverrideError(f"already_{word}", f"{unit.id} is {word} already")
        change = state.closes_at if state.open else state.next_open
        if change is None:
            raise OverrideError("no_change", f"{unit.id} has no scheduled change within a year")
        return change

    def _now(self, registry: Registry) -> datetime:
        """Now in the registry's zone, to the second (what people type and read)."""
        return self.clock().astimezone(registry.timezone).replace(microsecond=0)

    def _record(self, row: OverrideRow) -> OverrideRecord:
        """The record of a row, its times in the registry's zone."""
        tz = current(self.registry).timezone
        ended = None if row.ended_at is None else row.ended_at.astimezone(tz)
        return OverrideRecord(
            row.id or 0,
            row.unit,
            row.start.astimezone(tz),
            row.end.astimezone(tz),
            row.open,
            row.reason,
            row.author,
            row.created_at.astimezone(tz),
            ended,
            row.ended_by,
        )


def _existing(repo: OverrideRepository, override_id: int) -> OverrideRow:
    """The stored override, or :class:`OverrideNotFound` (also for ids no column can hold)."""
    row = repo.get(override_id) if 0 < override_id <= MAX_ID else None
    if row is None:
        raise OverrideNotFound("not_found", f"no override with id {override_id}")
    return row


def _reason(text: str) -> str:
    """A reason worth keeping: not blank, at most :data:`MAX_REASON` characters."""
    reason = " ".join(text.split())
    if not reason:
        raise OverrideError("reason", "a reason is required")
    if len(reason) > MAX_REASON:
        raise OverrideError("reason_long", f"the reason may have at most {MAX_REASON} characters")
    return reason


def _audit(session: Session, now: datetime, actor: str, action: str, row: OverrideRow) -> None:
    """The audit entry of an override, in the caller's transaction."""
    state = "open" if row.open else "closed"
    detail = f"#{row.id} {state} {row.start.isoformat()} to {row.end.isoformat()}: {row.reason}"
    entry = AuditRow(at=now, actor=actor, action=action, subject=row.unit, detail=detail)
    AccountRepository(session).audit(entry)
