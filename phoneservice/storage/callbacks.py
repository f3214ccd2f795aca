"""Callback tables as SQL handles, rows to domain records and back, and the retention purge.

:class:`RetentionRepository` erases personal data (SPEC §11) with a few set-based
``UPDATE`` statements: the columns of :data:`~phoneservice.storage.personal.PERSONAL_COLUMNS`
(numbers, names, notes, reasons) go, statistics stay. Tasks left open past retention are
first closed as ``expired`` (SPEC §13), so that no number is kept for ever; the tasks
closed so are counted into the callback roll-up in the same transaction.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import fields
from datetime import datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    RowMapping,
    Table,
    and_,
    case,
    inspect,
    literal,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from phoneservice.domain.callbacks.rules import EXPIRED, OPEN, UNREACHABLE, Attempt, Callback
from phoneservice.storage.callback_rollup import CallbackRollup
from phoneservice.storage.models import AttemptRow, CallbackCallRow, CallbackRow, CallRow
from phoneservice.storage.personal import ERASED_AT, PERSONAL_COLUMNS, erased
from phoneservice.storage.types import to_utc

CALLBACKS = cast(Table, inspect(CallbackRow).local_table)
EVIDENCE = cast(Table, inspect(CallbackCallRow).local_table)
ATTEMPTS = cast(Table, inspect(AttemptRow).local_table)
CALLS = cast(Table, inspect(CallRow).local_table)

# Fields of the records that are not columns of their rows.
_DERIVED = frozenset({"id", "attempts", "missed_calls", "short_abandons"})
CALLBACK_COLUMNS = tuple(f.name for f in fields(Callback) if f.name not in _DERIVED)
ATTEMPT_COLUMNS = tuple(f.name for f in fields(Attempt) if f.name != "id")


def callback_values(callback: Callback) -> dict[str, Any]:
    """The ``callbacks`` columns of a task (without its id)."""
    return {name: getattr(callback, name) for name in CALLBACK_COLUMNS}


def attempt_values(callback_id: int, attempt: Attempt) -> dict[str, Any]:
    """The ``callback_attempts`` row of an attempt."""
    return {"callback_id": callback_id, **{n: getattr(attempt, n) for n in ATTEMPT_COLUMNS}}


def to_callback(
    row: RowMapping, attempts: tuple[Attempt, ...], counts: tuple[int, int]
) -> Callback:
    """The domain task of a ``callbacks`` row, its attempts and its evidence counts."""
    values = {name: row[name] for name in CALLBACK_COLUMNS}
    missed, short = counts
    return Callback(
        **values, id=row["id"], attempts=attempts, missed_calls=missed, short_abandons=short
    )


def to_attempt(row: RowMapping) -> Attempt:
    """The domain attempt of a ``callback_attempts`` row."""
    return Attempt(**{name: row[name] for name in ATTEMPT_COLUMNS}, id=row["id"])


class RetentionRepository:
    """Erases caller numbers and free text past retention; never touches a statistic."""

    def __init__(self, session: Session, timezone: ZoneInfo | None = None) -> None:
        self._session = session
        self._timezone = timezone  # the registry's: expiring tasks counts them (roll-up)

    def expire_open(self, cutoff: datetime, now: datetime) -> int:
        """Close tasks opened at or before ``cutoff`` and still open as expired; how many."""
        if self._timezone is None:
            raise ValueError("expiring callbacks needs the registry's time zone (the roll-up)")
        old = and_(CALLBACKS.c.state == OPEN, CALLBACKS.c.created_at <= to_utc(cutoff))
        expire = update(CALLBACKS).where(old)
        expired = expire.values(state=UNREACHABLE, resolution=EXPIRED, closed_at=now)
        ids = [int(i) for i in self._session.execute(expired.returning(CALLBACKS.c.id)).scalars()]
        rollup = CallbackRollup(self._session.connection(), self._timezone)
        rollup.move(Counter(), rollup.cells_of(ids))  # open before: counted nowhere
        return len(ids)

    def erase_closed(self, cutoff: datetime, now: datetime) -> tuple[int, int]:
        """Erase tasks closed at or before ``cutoff``, or expired, and their calls; how many."""
        due = and_(
            CALLBACKS.c.state != OPEN,
            or_(CALLBACKS.c.closed_at <= to_utc(cutoff), CALLBACKS.c.resolution == EXPIRED),
            CALLBACKS.c.number_erased_at.is_(None),
        )
        tasks = select(CALLBACKS.c.id).where(due)
        evidence = select(EVIDENCE.c.call_id).where(EVIDENCE.c.callback_id.in_(tasks))
        calls = self._erase_calls(CALLS.c.id.in_(evidence), now)
        notes = update(ATTEMPTS).where(ATTEMPTS.c.callback_id.in_(tasks), _holds(ATTEMPTS))
        self._session.execute(notes.values(erased(ATTEMPTS.name)))
        erase = update(CALLBACKS).where(due).values({**erased(CALLBACKS.name), ERASED_AT: now})
        return self._rowcount(erase), calls

    def erase_old_calls(self, cutoff: datetime, now: datetime) -> int:
        """Erase calls that arrived before ``cutoff`` and are no open task's evidence."""
        open_tasks = select(CALLBACKS.c.id).where(CALLBACKS.c.state == OPEN)
        held = select(EVIDENCE.c.call_id).where(EVIDENCE.c.callback_id.in_(open_tasks))
        return self._erase_calls(
            and_(CALLS.c.arrived_at < to_utc(cutoff), CALLS.c.id.not_in(held)), now
        )

    def _erase_calls(self, which: ColumnElement[bool], now: datetime) -> int:
        """Blank the personal columns of the chosen calls that still hold any; how many.

        Only a call that had a number is marked erased: a withheld one (perhaps with a
        name) stays withheld, as the report counts it (``ix_calls_withheld``).
        """
        erase = update(CALLS).where(which, _holds(CALLS), CALLS.c.number_erased_at.is_(None))
        when = literal(now, CALLS.c.number_erased_at.type)  # UTC, as the column stores it
        mark = case((CALLS.c.caller_number.is_not(None), when), else_=null())
        return self._rowcount(erase.values({**erased(CALLS.name), ERASED_AT: mark}))

    def _rowcount(self, statement: Any) -> int:
        """Run an UPDATE; the number of rows it changed."""
        return int(getattr(self._session.execute(statement), "rowcount", 0) or 0)


def _holds(table: Table) -> ColumnElement[bool]:
    """Rows of ``table`` that still hold personal data in any of its personal columns."""
    return or_(*(table.c[name].is_not(None) for name in PERSONAL_COLUMNS[table.name]))
