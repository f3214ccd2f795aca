"""The ``pbx_state`` table: the active worker's AMI connection per PBX. Never commits.

The worker writes it (on connect, on disconnect, and at most every few seconds while
events flow); the web reads it for ``/readyz`` and ``/metrics``, which run in other
processes and so cannot ask the worker's memory.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, cast

from sqlalchemy import ColumnElement, RowMapping, Table, func, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from phoneservice.domain.pbx_state import PbxState
from phoneservice.storage.models import PbxStateRow

PBX_STATE = cast(Table, inspect(PbxStateRow).local_table)


class PbxStateRepository:
    """Upsert and read the connection state of each PBX."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def save(self, state: PbxState) -> None:
        """Insert or replace the row of ``state.pbx``; a missing ``last_event_at`` keeps the old."""
        values = asdict(state)
        stmt = self._insert().values(values)
        new = stmt.excluded
        changes: dict[str, ColumnElement[Any]] = {n: new[n] for n in values if n != "pbx"}
        changes["last_event_at"] = func.coalesce(new.last_event_at, PBX_STATE.c.last_event_at)
        self._session.execute(stmt.on_conflict_do_update(index_elements=["pbx"], set_=changes))

    def _insert(self) -> postgresql.Insert | sqlite.Insert:
        """The backend's INSERT, which has ``ON CONFLICT ... DO UPDATE``."""
        dialect = self._session.get_bind().dialect.name
        if dialect == "postgresql":
            return postgresql.insert(PBX_STATE)
        if dialect == "sqlite":
            return sqlite.insert(PBX_STATE)
        raise NotImplementedError(f"no upsert for the {dialect} backend")

    def all(self) -> list[PbxState]:
        """Every PBX's row, by name."""
        rows = self._session.execute(select(PBX_STATE).order_by(PBX_STATE.c.pbx)).mappings()
        return [_state(row) for row in rows]


def _state(row: RowMapping) -> PbxState:
    """The record of one row (its instants come back aware, in UTC)."""
    return PbxState(**dict(row))
