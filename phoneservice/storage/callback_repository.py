"""The callback repository: the only code that builds SQL for callback tasks. It never commits.

One open task per ``(caller_number, unit)`` is the partial unique index
``ux_callbacks_open_caller_number_unit``; :meth:`CallbackRepository.insert` uses it as
its ``ON CONFLICT`` target, so two writers racing to open the same task cannot make two.
Every write that may close, reopen or re-acknowledge a task keeps the callback roll-up
in step in the same transaction (:class:`~phoneservice.storage.callback_rollup.CallbackRollup`),
which needs the registry's time zone.
"""

from __future__ import annotations

import builtins
from collections import Counter
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, case, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from phoneservice.domain.callbacks.rules import (
    AGENT_ANSWERED,
    IN_FLIGHT,
    LOST,
    OPEN,
    REQUESTED,
    SENT,
    Attempt,
    Callback,
)
from phoneservice.domain.calls.records import ANSWERED, CLOSED
from phoneservice.storage.callback_rollup import CallbackRollup
from phoneservice.storage.callbacks import (
    ATTEMPTS,
    CALLBACKS,
    CALLS,
    EVIDENCE,
    attempt_values,
    callback_values,
    to_attempt,
    to_callback,
)
from phoneservice.storage.models import OPEN_ONLY
from phoneservice.storage.types import to_utc

SENT_ON = (SENT, AGENT_ANSWERED)  # sent to the PBX, not decided: what a reconnect asks after

_IN_CHUNK = 500  # ids per IN (...) list: well under every backend's parameter limit


class CallbackRepository:
    """Callback tasks, their evidence calls and their attempts."""

    def __init__(self, session: Session, timezone: ZoneInfo | None = None) -> None:
        self._session = session
        self._timezone = timezone  # the registry's: writes that change a task need it

    def insert(self, callback: Callback) -> int | None:
        """Store a new task; its id, or None when an open task for its pair exists already."""
        dialect = postgresql if self._backend() == "postgresql" else sqlite
        statement = dialect.insert(CALLBACKS).values(**callback_values(callback))
        skipping = statement.on_conflict_do_nothing(
            index_elements=["caller_number", "unit"], index_where=text(OPEN_ONLY)
        )
        found = self._session.execute(skipping.returning(CALLBACKS.c.id)).scalar_one_or_none()
        if found is not None and callback.state != OPEN:  # stored closed: count it now
            rollup = self._rollup()
            rollup.move(Counter(), rollup.cells_of([int(found)]))
        return None if found is None else int(found)

    def add_evidence(self, callback_id: int, call_id: int) -> bool:
        """Keep a missed call as evidence of a task; False when the call is evidence already."""
        dialect = postgresql if self._backend() == "postgresql" else sqlite
        statement = dialect.insert(EVIDENCE).values(callback_id=callback_id, call_id=call_id)
        skipping = statement.on_conflict_do_nothing(index_elements=["call_id"])
        result = self._session.execute(skipping.returning(EVIDENCE.c.call_id))
        return result.scalar_one_or_none() is not None

    def save(self, callback: Callback) -> None:
        """Write a changed task back, with the attempts that are not stored yet."""
        if callback.id is None:
            raise ValueError("save() needs a stored task; insert() a new one")
        values = callback_values(callback)
        changed = update(CALLBACKS).where(CALLBACKS.c.id == callback.id).values(values)
        new = [attempt_values(callback.id, a) for a in callback.attempts if a.id is None]
        with self._rollup().changing([callback.id]):
            self._session.execute(changed)
            if new:
                self._session.execute(ATTEMPTS.insert(), new)

    def update_attempt(self, attempt: Attempt) -> None:
        """Write a stored attempt's outcome, status and note back (a placed call was decided)."""
        if attempt.id is None:
            raise ValueError("update_attempt() needs a stored attempt")
        values = {"outcome": attempt.outcome, "status": attempt.status, "note": attempt.note}
        owner = select(ATTEMPTS.c.callback_id).where(ATTEMPTS.c.id == attempt.id)
        tasks = [int(found) for found in self._session.execute(owner).scalars()]
        with self._rollup().changing(tasks):  # an outcome may acknowledge a closed task
            self._session.execute(
                update(ATTEMPTS).where(ATTEMPTS.c.id == attempt.id).values(values)
            )

    def callback_of_call(self, channel_id: str) -> int | None:
        """The id of the task that placed the call with this ChannelId, or None."""
        query = select(ATTEMPTS.c.callback_id).where(ATTEMPTS.c.channel_id == channel_id)
        found = self._session.execute(query).scalar_one_or_none()
        return None if found is None else int(found)

    def requested_calls(
        self, units: Collection[str] | None, limit: int
    ) -> builtins.list[tuple[int, Attempt, str, str]]:
        """Placed calls no worker took yet, oldest first: (task id, attempt, number, unit)."""
        query = (
            select(ATTEMPTS, CALLBACKS.c.caller_number, CALLBACKS.c.unit)
            .join(CALLBACKS, CALLBACKS.c.id == ATTEMPTS.c.callback_id)
            .where(
                ATTEMPTS.c.status == REQUESTED,
                ATTEMPTS.c.outcome.is_(None),
                CALLBACKS.c.state == OPEN,
                CALLBACKS.c.caller_number.is_not(None),
            )
            .order_by(ATTEMPTS.c.at, ATTEMPTS.c.id)
            .limit(limit)
        )
        if units is not None:
            query = query.where(CALLBACKS.c.unit.in_(sorted(units)))
        return [
            (int(row["callback_id"]), to_attempt(row), str(row["caller_number"]), str(row["unit"]))
            for row in self._session.execute(query).mappings()
        ]

    def sent_calls(self, units: Collection[str] | None) -> builtins.list[str]:
        """The ChannelIds of calls sent to the PBX (the agent may have answered) whose outcome
        is not known yet."""
        query = (
            select(ATTEMPTS.c.channel_id)
            .join(CALLBACKS, CALLBACKS.c.id == ATTEMPTS.c.callback_id)
            .where(ATTEMPTS.c.status.in_(SENT_ON), ATTEMPTS.c.outcome.is_(None))
            .order_by(ATTEMPTS.c.at, ATTEMPTS.c.id)
        )
        if units is not None:
            query = query.where(CALLBACKS.c.unit.in_(sorted(units)))
        return [str(row[0]) for row in self._session.execute(query) if row[0]]

    def set_call_status(self, channel_id: str, before: Collection[str], after: str) -> bool:
        """Move a placed call without outcome from a status in ``before`` to ``after``."""
        statement = (
            update(ATTEMPTS)
            .where(
                ATTEMPTS.c.channel_id == channel_id,
                ATTEMPTS.c.outcome.is_(None),
                ATTEMPTS.c.status.in_(sorted(before)),
            )
            .values(status=after)
        )
        return bool(getattr(self._session.execute(statement), "rowcount", 0))

    def lose_stale_calls(self, placed_before: datetime) -> int:
        """Placed calls requested before ``placed_before`` and still without outcome: lost."""
        statement = (
            update(ATTEMPTS)
            .where(
                ATTEMPTS.c.status.in_(IN_FLIGHT),
                ATTEMPTS.c.outcome.is_(None),
                ATTEMPTS.c.at < to_utc(placed_before),
            )
            .values(status=LOST)
        )
        return int(getattr(self._session.execute(statement), "rowcount", 0) or 0)

    def get(self, callback_id: int, *, lock: bool = False) -> Callback | None:
        """The task with this id (locked for update when asked), or None."""
        query = select(CALLBACKS).where(CALLBACKS.c.id == callback_id)
        found = self._callbacks(query.with_for_update() if lock else query)
        return found[0] if found else None

    def open_for(self, caller_number: str, unit: str) -> Callback | None:
        """The open task of a ``(caller_number, unit)`` pair, or None."""
        query = select(CALLBACKS).where(
            CALLBACKS.c.state == OPEN,
            CALLBACKS.c.caller_number == caller_number,
            CALLBACKS.c.unit == unit,
        )
        found = self._callbacks(query)
        return found[0] if found else None

    def list(
        self,
        units: Collection[str] | None = None,
        state: str | None = None,
        overdue_at: datetime | None = None,
    ) -> builtins.list[Callback]:
        """Tasks of ``units`` (all when None) in ``state``; only those overdue at a given time."""
        query = select(CALLBACKS)
        if units is not None:
            query = query.where(CALLBACKS.c.unit.in_(sorted(units)))
        if state is not None:
            query = query.where(CALLBACKS.c.state == state)
        if overdue_at is not None:
            query = query.where(*_overdue(overdue_at))
        return self._callbacks(query.order_by(CALLBACKS.c.due_at, CALLBACKS.c.id))

    def count_overdue(self, now: datetime, unit: str | None = None) -> int:
        """How many open tasks are past their deadline at ``now``."""
        query = select(func.count()).select_from(CALLBACKS).where(*_overdue(now))
        if unit is not None:
            query = query.where(CALLBACKS.c.unit == unit)
        return int(self._session.execute(query).scalar_one())

    def answered_after(
        self, caller_number: str, unit: str, after: datetime
    ) -> tuple[datetime, int | None] | None:
        """The first answered call of the pair that arrived after ``after``: (arrival, wait)."""
        query = (
            select(CALLS.c.arrived_at, CALLS.c.wait_s)
            .where(
                CALLS.c.caller_number == caller_number,
                CALLS.c.unit == unit,
                CALLS.c.outcome == ANSWERED,
                CALLS.c.arrived_at > to_utc(after),
            )
            .order_by(CALLS.c.arrived_at)
            .limit(1)
        )
        row = self._session.execute(query).first()
        return None if row is None else (to_utc(row[0]), row[1])

    def withheld_missed(
        self, unit: str | None, start: datetime, end: datetime, *, closed_count: bool
    ) -> int:
        """Missed calls in ``[start, end)`` whose number was withheld (not erased by a purge)."""
        terms = [
            CALLS.c.outcome != ANSWERED,
            CALLS.c.caller_number.is_(None),
            CALLS.c.number_erased_at.is_(None),
            CALLS.c.unit.is_not(None) if unit is None else CALLS.c.unit == unit,
            CALLS.c.arrived_at >= to_utc(start),
            CALLS.c.arrived_at < to_utc(end),
        ]
        if not closed_count:
            terms.append(CALLS.c.outcome != CLOSED)
        query = select(func.count()).select_from(CALLS).where(*terms)
        return int(self._session.execute(query).scalar_one())

    def _callbacks(self, query: Select[Any]) -> builtins.list[Callback]:
        """The tasks a query selects, each with its attempts and evidence counts."""
        rows = self._session.execute(query).mappings().all()
        ids = [row["id"] for row in rows]
        attempts, counts = self._attempts_of(ids), self._counts_of(ids)
        return [
            to_callback(row, tuple(attempts.get(row["id"], ())), counts.get(row["id"], (0, 0)))
            for row in rows
        ]

    def _attempts_of(self, ids: Sequence[int]) -> dict[int, builtins.list[Attempt]]:
        """The attempts of these tasks, by task id, oldest first."""
        found: dict[int, builtins.list[Attempt]] = {}
        for chunk in _chunks(ids):
            query = select(ATTEMPTS).where(ATTEMPTS.c.callback_id.in_(chunk))
            for row in self._session.execute(
                query.order_by(ATTEMPTS.c.at, ATTEMPTS.c.id)
            ).mappings():
                found.setdefault(row["callback_id"], []).append(to_attempt(row))
        return found

    def _counts_of(self, ids: Sequence[int]) -> dict[int, tuple[int, int]]:
        """(missed calls, short abandons) of these tasks, by task id."""
        short = func.sum(case((CALLS.c.short_abandon, 1), else_=0))
        found: dict[int, tuple[int, int]] = {}
        for chunk in _chunks(ids):
            query = (
                select(EVIDENCE.c.callback_id, func.count(), short)
                .join(CALLS, CALLS.c.id == EVIDENCE.c.call_id)
                .where(EVIDENCE.c.callback_id.in_(chunk))
                .group_by(EVIDENCE.c.callback_id)
            )
            for callback_id, missed, shorts in self._session.execute(query):
                found[callback_id] = (int(missed), int(shorts or 0))
        return found

    def _rollup(self) -> CallbackRollup:
        """The callback roll-up in the registry's zone, which a writing repository needs."""
        if self._timezone is None:
            raise ValueError("changing callbacks needs the registry's time zone (the roll-up)")
        return CallbackRollup(self._session.connection(), self._timezone)

    def _backend(self) -> str:
        """The session's dialect name (``sqlite``, ``postgresql``)."""
        return self._session.get_bind().dialect.name


def _overdue(now: datetime) -> tuple[ColumnElement[bool], ...]:
    """The WHERE terms of "open and past its deadline at ``now``"."""
    return CALLBACKS.c.state == OPEN, CALLBACKS.c.due_at < to_utc(now)


def _chunks(ids: Sequence[int]) -> builtins.list[Sequence[int]]:
    """``ids`` cut into IN-list sized pieces."""
    return [ids[start : start + _IN_CHUNK] for start in range(0, len(ids), _IN_CHUNK)]
