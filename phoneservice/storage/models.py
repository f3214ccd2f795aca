"""Tables as SQLModel models; the repositories convert them to and from domain records.

Constraints and indexes carry explicit names so that the Alembic migrations, SQLite and
PostgreSQL all agree on them. Every instant is a :class:`UTCDateTime`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKeyConstraint, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from phoneservice.domain.callrecords import OUTCOMES
from phoneservice.storage.types import UTCDateTime

# SPEC §5.1. The migration spells these lists out; the contract tests store every value.
CALL_SOURCES = ("ami", "queue_log", "cdr")


def one_of(column: str, values: tuple[str, ...]) -> str:
    """The SQL of a CHECK that ``column`` holds one of ``values``."""
    listed = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({listed})"


class CallRow(SQLModel, table=True):
    """One citizen call (SPEC §5.1); ``(pbx, uniqueid)`` is its idempotency key."""

    __tablename__ = "calls"
    __table_args__ = (
        UniqueConstraint("pbx", "uniqueid", name="uq_calls_pbx_uniqueid"),
        CheckConstraint(one_of("source", CALL_SOURCES), name="ck_calls_source"),
        CheckConstraint(one_of("outcome", OUTCOMES), name="ck_calls_outcome"),
        Index("ix_calls_unit_arrived_at", "unit", "arrived_at"),
        Index("ix_calls_arrived_at", "arrived_at"),
        Index("ix_calls_caller_number_unit", "caller_number", "unit"),
    )

    id: int | None = Field(default=None, primary_key=True)
    pbx: str
    uniqueid: str
    linkedid: str
    unit: str | None = None
    queue: str | None = None
    caller_number: str | None = None  # personal data: erased by the retention purge
    caller_name: str | None = None  # personal data: erased with the number
    arrived_at: datetime = Field(sa_type=UTCDateTime)
    during_hours: bool
    pbx_hours: str | None = None
    hours_disagree: bool
    outcome: str
    short_abandon: bool
    wait_s: int | None = None
    ring_attempts: int
    talk_s: int | None = None
    agent: str | None = None
    ended_at: datetime = Field(sa_type=UTCDateTime)
    source: str
    number_erased_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SegmentRow(SQLModel, table=True):
    """One queue visit of a call, in order; deleted with its call."""

    __tablename__ = "call_segments"
    __table_args__ = (
        ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name="fk_call_segments_call_id_calls", ondelete="CASCADE"
        ),
        UniqueConstraint("call_id", "position", name="uq_call_segments_call_id_position"),
    )

    id: int | None = Field(default=None, primary_key=True)
    call_id: int
    position: int
    queue: str
    unit: str | None = None
    joined_at: datetime = Field(sa_type=UTCDateTime)
    left_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    outcome: str
    wait_s: int | None = None
    ring_attempts: int
    ring_no_answers: int
    agent: str | None = None
    talk_s: int | None = None
