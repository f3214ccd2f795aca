"""Repositories: the only code that builds SQL. They never commit; the services do.

:class:`CallRepository` speaks SQLAlchemy Core on the session: an
``INSERT ... ON CONFLICT (pbx, uniqueid) DO NOTHING RETURNING`` for the calls (an
executemany on SQLite, one statement over column arrays on PostgreSQL), then one bulk
insert of the segments of the calls that were new. ``(pbx, uniqueid)`` is the
idempotency key, so ingesting the same stream or file twice adds nothing; the calls that
were new are counted into the daily roll-up (:mod:`phoneservice.storage.rollup`) in the
same transaction.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Insert,
    RowMapping,
    Select,
    Table,
    func,
    inspect,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from phoneservice.domain.calls.records import CallRecord, Segment
from phoneservice.storage.bulk import from_arrays
from phoneservice.storage.models import CallRow, SegmentRow, WatermarkRow
from phoneservice.storage.rollup import RollupRepository
from phoneservice.storage.types import to_utc

CALLS = cast(Table, inspect(CallRow).local_table)
SEGMENTS = cast(Table, inspect(SegmentRow).local_table)
DEFAULT_LIMIT = 1000
_IN_CHUNK = 500  # ids per IN (...) list: well under every backend's parameter limit

_CALL_FIELDS = tuple(f.name for f in fields(CallRecord) if f.name != "segments")
_SEGMENT_FIELDS = tuple(f.name for f in fields(Segment))

Key = tuple[str, str]


class CallRepository:
    """Finished calls and their queue visits, stored once per ``(pbx, uniqueid)``."""

    def __init__(self, session: Session, timezone: ZoneInfo | None = None) -> None:
        self._session = session
        self._timezone = timezone  # the registry's: only writing needs it (the roll-up)

    def add(self, record: CallRecord) -> bool:
        """Store one call; False when a call with its ``(pbx, uniqueid)`` is already stored."""
        return self.add_many([record]) == 1

    def add_many(self, records: Iterable[CallRecord]) -> int:
        """Store the calls not stored yet (first of a key wins); the number inserted."""
        return len(self.add_new(records))

    def add_new(self, records: Iterable[CallRecord]) -> builtins.list[tuple[int, CallRecord]]:
        """Store the calls not stored yet; the ones inserted now, with their ids, in order.

        The calls inserted now (only those) are counted into the daily roll-up too.
        """
        unique = _first_per_key(records)
        if not unique:
            return []
        rows = [_call_values(record) for record in unique.values()]
        inserted = self._insert_new_calls(rows)
        segments = [
            _segment_values(call_id, position, segment)
            for key, call_id in inserted.items()
            for position, segment in enumerate(unique[key].segments)
        ]
        if segments:
            self._insert_segments(segments)
        new = [(inserted[key], record) for key, record in unique.items() if key in inserted]
        self._rollup().add(record for _, record in new)
        return new

    def _rollup(self) -> RollupRepository:
        """The roll-up in the registry's zone, which a repository that writes must be given."""
        if self._timezone is None:
            raise ValueError("storing calls needs the registry's time zone (the daily roll-up)")
        return RollupRepository(self._session, self._timezone)

    def get(self, pbx: str, uniqueid: str) -> CallRecord | None:
        """The call with this key, or None."""
        query = select(CALLS).where(CALLS.c.pbx == pbx, CALLS.c.uniqueid == uniqueid)
        found = self._records(query)
        return found[0] if found else None

    def list(
        self,
        unit: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int | None = DEFAULT_LIMIT,
    ) -> builtins.list[CallRecord]:
        """Calls that arrived in ``[start, end)``, of ``unit`` when given, oldest first."""
        query = select(CALLS).where(*_filters(unit, start, end))
        query = query.order_by(CALLS.c.arrived_at, CALLS.c.id).limit(limit)
        return self._records(query)

    def count(
        self, unit: str | None = None, start: datetime | None = None, end: datetime | None = None
    ) -> int:
        """How many calls :meth:`list` would give without a limit."""
        query = select(func.count()).select_from(CALLS).where(*_filters(unit, start, end))
        return int(self._session.execute(query).scalar_one())

    def latest_end(self, pbx: str) -> datetime | None:
        """When the last stored call of ``pbx`` ended: where a restarted worker picks up."""
        query = select(func.max(CALLS.c.ended_at)).where(CALLS.c.pbx == pbx)
        value = self._session.execute(query).scalar_one_or_none()
        return None if value is None else to_utc(value)

    def _insert_new_calls(self, rows: Sequence[dict[str, Any]]) -> dict[Key, int]:
        """Insert the rows whose key is not stored yet; the id of each new one by its key."""
        backend = self._backend()
        if backend == "postgresql":
            result = self._session.execute(_skip_stored(from_arrays(CALLS, rows)))
        elif backend == "sqlite":
            result = self._session.execute(_skip_stored(sqlite.insert(CALLS)), rows)
        else:
            raise NotImplementedError(f"no idempotent insert for the {backend} backend")
        return {(pbx, uniqueid): call_id for call_id, pbx, uniqueid in result}

    def _insert_segments(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert the segments of new calls, in one statement on PostgreSQL."""
        if self._backend() == "postgresql":
            self._session.execute(from_arrays(SEGMENTS, rows))
        else:
            self._session.execute(SEGMENTS.insert(), rows)

    def _backend(self) -> str:
        """The session's dialect name (``sqlite``, ``postgresql``)."""
        return self._session.get_bind().dialect.name

    def _records(self, query: Select[Any]) -> builtins.list[CallRecord]:
        """The calls a query selects, with their segments in order."""
        calls = self._session.execute(query).mappings().all()
        segments = self._segments_of([row["id"] for row in calls])
        return [_record(row, segments.get(row["id"], ())) for row in calls]

    def _segments_of(self, call_ids: Sequence[int]) -> dict[int, builtins.list[Segment]]:
        """The segments of these calls, by call id, in visiting order."""
        found: dict[int, builtins.list[Segment]] = {}
        for start in range(0, len(call_ids), _IN_CHUNK):
            chunk = call_ids[start : start + _IN_CHUNK]
            query = select(SEGMENTS).where(SEGMENTS.c.call_id.in_(chunk))
            for row in self._session.execute(query.order_by(SEGMENTS.c.position)).mappings():
                found.setdefault(row["call_id"], []).append(_segment(row))
        return found


def _skip_stored(stmt: sqlite.Insert | postgresql.Insert) -> Insert:
    """The insert, skipping calls already stored and returning the keys of the new ones."""
    skipping = stmt.on_conflict_do_nothing(index_elements=["pbx", "uniqueid"])
    return skipping.returning(CALLS.c.id, CALLS.c.pbx, CALLS.c.uniqueid)


def _first_per_key(records: Iterable[CallRecord]) -> dict[Key, CallRecord]:
    """The records in order, the first one of each ``(pbx, uniqueid)`` only."""
    unique: dict[Key, CallRecord] = {}
    for record in records:
        unique.setdefault((record.pbx, record.uniqueid), record)
    return unique


def _filters(
    unit: str | None, start: datetime | None, end: datetime | None
) -> builtins.list[ColumnElement[bool]]:
    """The WHERE terms for a unit and a half-open arrival range."""
    terms: builtins.list[ColumnElement[bool]] = []
    if unit is not None:
        terms.append(CALLS.c.unit == unit)
    if start is not None:
        terms.append(CALLS.c.arrived_at >= to_utc(start))
    if end is not None:
        terms.append(CALLS.c.arrived_at < to_utc(end))
    return terms


def _call_values(record: CallRecord) -> dict[str, Any]:
    """The ``calls`` row of a record."""
    return {name: getattr(record, name) for name in _CALL_FIELDS}


def _segment_values(call_id: int, position: int, segment: Segment) -> dict[str, Any]:
    """The ``call_segments`` row of a call's visit."""
    values = {name: getattr(segment, name) for name in _SEGMENT_FIELDS}
    return {"call_id": call_id, "position": position, **values}


def _record(row: RowMapping, segments: Iterable[Segment]) -> CallRecord:
    """The domain record of a ``calls`` row."""
    return CallRecord(**{name: row[name] for name in _CALL_FIELDS}, segments=tuple(segments))


def _segment(row: RowMapping) -> Segment:
    """The domain segment of a ``call_segments`` row."""
    return Segment(**{name: row[name] for name in _SEGMENT_FIELDS})


class WatermarkRepository:
    """The last event instant read from each PBX."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, pbx: str) -> datetime | None:
        """How far ``pbx`` has been read, or None for a PBX never followed."""
        row = self._session.get(WatermarkRow, pbx)
        return None if row is None else to_utc(row.last_event_at)

    def advance(self, pbx: str, seen: datetime) -> None:
        """Move the mark forward to ``seen`` (never backwards)."""
        row = self._session.get(WatermarkRow, pbx)
        if row is None:
            self._session.add(WatermarkRow(pbx=pbx, last_event_at=seen))
        elif seen > to_utc(row.last_event_at):
            row.last_event_at = seen
