"""Use cases over stored calls: storing what the pipeline finished, listing for staff."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from phoneservice.domain.calls.records import CallRecord
from phoneservice.storage.repositories import CallRepository, WatermarkRepository
from phoneservice.storage.rollup import RollupRepository


class NewCalls(Protocol):
    """What follows from calls stored for the first time (callbacks), in the same transaction."""

    def apply(self, session: Session, inserted: Sequence[tuple[int, CallRecord]]) -> None:
        """React to the calls just inserted, each with its id, without committing."""


class CallService:
    """Stores and lists calls; each call of a method is one transaction."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        callbacks: NewCalls | None = None,
        timezone: ZoneInfo | None = None,
    ) -> None:
        self.sessions = sessions
        self.callbacks = callbacks
        # The registry's: the roll-up counts calls per local day. Without a registry
        # (tools that never read the reports) the days are UTC days.
        self.timezone = timezone or ZoneInfo("UTC")

    def store(
        self, records: Sequence[CallRecord], pbx: str | None = None, seen: datetime | None = None
    ) -> int:
        """Store new calls (duplicates ignored) with their callbacks; how far ``pbx`` was read."""
        with self.sessions() as session:
            inserted = CallRepository(session, self.timezone).add_new(records)
            if self.callbacks is not None and inserted:
                self.callbacks.apply(session, inserted)
            if pbx is not None and seen is not None:
                WatermarkRepository(session).advance(pbx, seen)
            session.commit()
        return len(inserted)

    def rebuild_rollup(self) -> None:
        """Recount the daily roll-up from every stored call (after a time zone change)."""
        with self.sessions() as session:
            RollupRepository(session, self.timezone).rebuild()
            session.commit()

    def store_for(self, pbx: str) -> Callable[[Sequence[CallRecord], datetime | None], int]:
        """The store function of one PBX's call log."""
        return lambda records, seen: self.store(records, pbx, seen)

    def resume_point(self, pbx: str) -> datetime | None:
        """Where a (re)started worker reconciles ``pbx`` from: its watermark, else its last call."""
        with self.sessions() as session:
            mark = WatermarkRepository(session).get(pbx)
            return mark or CallRepository(session).latest_end(pbx)

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
