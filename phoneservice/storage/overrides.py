"""Manual overrides (SPEC §4.4): the only SQL for the ``overrides`` table."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, or_
from sqlmodel import Session, col, select

from phoneservice.storage.models import OverrideRow


class OverrideRepository:
    """Reads and writes overrides in one session; the caller commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: OverrideRow) -> OverrideRow:
        """Insert an override; its id is set on return."""
        self.session.add(row)
        self.session.flush()
        return row

    def get(self, override_id: int) -> OverrideRow | None:
        """The override with this id."""
        return self.session.get(OverrideRow, override_id)

    def active(self, now: datetime) -> Sequence[OverrideRow]:
        """Overrides not over at ``now`` (in force, or starting later), by start."""
        query = select(OverrideRow).where(col(OverrideRow.end) > now, _not_ended(now))
        return self.session.exec(query.order_by(col(OverrideRow.start), col(OverrideRow.id))).all()

    def recent(self, since: datetime, now: datetime) -> Sequence[OverrideRow]:
        """Overrides made since ``since`` or not over yet, newest first."""
        current = (col(OverrideRow.end) > now) & _not_ended(now)
        query = select(OverrideRow).where(or_(col(OverrideRow.created_at) >= since, current))
        return self.session.exec(query.order_by(col(OverrideRow.id).desc())).all()


def _not_ended(now: datetime) -> ColumnElement[bool]:
    """The SQL condition "not ended early at or before ``now``"."""
    return or_(col(OverrideRow.ended_at).is_(None), col(OverrideRow.ended_at) > now)
