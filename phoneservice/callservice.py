"""Use cases over stored calls: storing what the pipeline finished, listing for staff."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from phoneservice.domain.callrecords import CallRecord
from phoneservice.storage.repositories import CallRepository


class CallService:
    """Stores and lists calls; each call of a method is one transaction."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def store(self, records: Sequence[CallRecord]) -> int:
        """Store finished calls (duplicates are ignored); the number that were new."""
        with self.sessions() as session:
            added = CallRepository(session).add_many(records)
            session.commit()
        return added

    def calls(
        self,
        unit: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int = 1000,
    ) -> list[CallRecord]:
        """Logged calls, oldest first, filtered by unit and arrival time."""
        with self.sessions() as session:
            repo = CallRepository(session)
            return repo.list(unit=unit, start=start, end=end, limit=limit)
