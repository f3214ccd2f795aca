"""Tables as SQLModel models; the repositories convert them to and from domain records.

Constraints and indexes carry explicit names so that the Alembic migrations, SQLite and
PostgreSQL all agree on them. Every instant is a :class:`UTCDateTime`.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKeyConstraint,
    Index,
    PrimaryKeyConstraint,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel

from phoneservice.domain.accounts import ROLES
from phoneservice.domain.callbacks.rules import ATTEMPT_OUTCOMES
from phoneservice.domain.calls.records import OUTCOMES
from phoneservice.storage.types import UTCDateTime

# SPEC §5.1. The migration spells these lists out; the contract tests store every value.
CALL_SOURCES = ("ami", "queue_log", "cdr")


def one_of(column: str, values: tuple[str, ...]) -> str:
    """The SQL of a CHECK that ``column`` holds one of ``values``."""
    listed = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({listed})"


# The partial indexes' WHERE clauses, as the report's queries write them (SQLAlchemy
# renders ``NOT during_hours`` as ``during_hours = 0`` on SQLite).
OUTSIDE_HOURS = "NOT during_hours"
OUTSIDE_HOURS_SQLITE = "during_hours = 0"
WITHHELD = "caller_number IS NULL AND number_erased_at IS NULL"


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
        Index("ix_calls_unit_outcome_hours_disagree", "unit", "outcome", "hours_disagree"),
        # Partial: calls outside phone hours (the closed-hours backfill), and withheld
        # numbers (the report's withheld pass, which stays on calls: the purge changes it).
        Index(
            "ix_calls_outside_hours",
            "arrived_at",
            "unit",
            postgresql_where=text(OUTSIDE_HOURS),
            sqlite_where=text(OUTSIDE_HOURS_SQLITE),
        ),
        Index(
            "ix_calls_withheld",
            "arrived_at",
            "unit",
            "outcome",
            postgresql_where=text(WITHHELD),
            sqlite_where=text(WITHHELD),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    pbx: str
    uniqueid: str
    linkedid: str
    unit: str | None = None
    queue: str | None = None
    caller_number: str | None = None  # personal data: erased by the retention purge
    caller_name: str | None = None  # personal data: erased with the number
    caller_raw: str | None = None  # personal data: the CallerIDNum as received, erased with it
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


DAY_KEY = ("day", "unit", "outcome", "short_abandon", "during_hours", "wait_s")
HOUR_KEY = ("day", "unit", "hour_of_week")


class CallDayCellRow(SQLModel, table=True):
    """The daily roll-up: calls per local day and combination of the report's inputs.

    Kept in the transaction that inserts calls; sentinels instead of NULL in the key
    (unit ``''``, wait ``-1``) so the primary key is the ``ON CONFLICT`` target everywhere.
    """

    __tablename__ = "call_day_cells"
    __table_args__ = (PrimaryKeyConstraint(*DAY_KEY, name="pk_call_day_cells"),)

    day: date  # local date of arrival, in the registry's time zone
    unit: str  # '' : the call matched no unit
    outcome: str
    short_abandon: bool
    during_hours: bool
    wait_s: int  # answered calls with a known wait; -1 for every other call
    calls: int


class CallHourCellRow(SQLModel, table=True):
    """Calls outside phone hours per local day, unit and local hour of the week."""

    __tablename__ = "call_hour_cells"
    __table_args__ = (PrimaryKeyConstraint(*HOUR_KEY, name="pk_call_hour_cells"),)

    day: date
    unit: str  # '' : the call matched no unit
    hour_of_week: int  # 0 is Monday 00:00-01:00 local time
    calls: int


LOAD_KEY = ("day", "unit", "hour_of_week")
AGENT_KEY = ("day", "unit", "hour_of_week", "agent")


class CallLoadCellRow(SQLModel, table=True):
    """The staffing roll-up: queued calls in phone hours per local day, unit and local
    hour of the week (calls with a unit and a queue only), kept like ``call_day_cells``.
    """

    __tablename__ = "call_load_cells"
    __table_args__ = (PrimaryKeyConstraint(*LOAD_KEY, name="pk_call_load_cells"),)

    day: date
    unit: str
    hour_of_week: int  # 0 is Monday 00:00-01:00 local time
    calls: int
    answered: int
    talked: int  # answered calls with a known talk time
    talk_s: int  # their talk time, summed
    waited_s: int  # every call's wait in the queue (unknown: 0), summed
    abandoned: int  # abandoned and timeout
    agents: int  # agents who answered a call in this hour: its rows of call_agent_hours


class CallAgentHourRow(SQLModel, table=True):
    """An agent answered a queued call in phone hours in this local hour of the day."""

    __tablename__ = "call_agent_hours"
    __table_args__ = (PrimaryKeyConstraint(*AGENT_KEY, name="pk_call_agent_hours"),)

    day: date
    unit: str
    hour_of_week: int
    agent: str


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


class WatermarkRow(SQLModel, table=True):
    """How far each PBX's event stream has been read: where a restarted worker reconciles from."""

    __tablename__ = "pbx_watermarks"

    pbx: str = Field(primary_key=True)
    last_event_at: datetime = Field(sa_type=UTCDateTime)


# SPEC §6: each state with the resolutions it allows; an open task has a number to call.
# ``expired`` (SPEC §13): the purge closed a task open longer than ``retention_days``.
CALLBACK_STATE_RULE = (
    "(state = 'open' AND resolution IS NULL AND closed_at IS NULL AND caller_number IS NOT NULL)"
    " OR (state = 'done' AND resolution IN ('caller_reached_us', 'called_back')"
    " AND closed_at IS NOT NULL)"
    " OR (state = 'unreachable' AND resolution IN ('unreachable', 'expired')"
    " AND closed_at IS NOT NULL)"
    " OR (state = 'cancelled' AND resolution = 'cancelled' AND closed_at IS NOT NULL)"
)
OPEN_ONLY = "state = 'open'"


class CallbackRow(SQLModel, table=True):
    """One callback task; at most one open task per ``(caller_number, unit)``."""

    __tablename__ = "callbacks"
    __table_args__ = (
        CheckConstraint(CALLBACK_STATE_RULE, name="ck_callbacks_state"),
        Index(
            "ux_callbacks_open_caller_number_unit",
            "caller_number",
            "unit",
            unique=True,
            sqlite_where=text(OPEN_ONLY),
            postgresql_where=text(OPEN_ONLY),
        ),
        Index("ix_callbacks_state_due_at", "state", "due_at"),
        Index("ix_callbacks_unit_state", "unit", "state"),
        Index("ix_callbacks_closed_at", "closed_at"),
        # Partial: the open tasks, which the report counts directly (the rest is rolled up).
        Index(
            "ix_callbacks_open_first_call_at",
            "first_call_at",
            "unit",
            sqlite_where=text(OPEN_ONLY),
            postgresql_where=text(OPEN_ONLY),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    unit: str
    caller_number: str | None = None  # personal data: erased by the retention purge
    state: str
    created_at: datetime = Field(sa_type=UTCDateTime)
    due_at: datetime = Field(sa_type=UTCDateTime)
    first_call_at: datetime = Field(sa_type=UTCDateTime)
    claimed_by: str | None = None
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolution: str | None = None
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_by: str | None = None
    note: str | None = None  # free text: erased with the number
    cancel_reason: str | None = None  # free text: erased with the number
    overdue_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    number_erased_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


CALLBACK_KEY = ("day", "unit", "status", "ack_bucket")


class CallbackDayCellRow(SQLModel, table=True):
    """The callback roll-up: closed tasks per local date of their first missed call, unit,
    final report status and bucket of the time to acknowledge (-1: never acknowledged).

    Open tasks are not counted here (their status depends on the time of the report).
    """

    __tablename__ = "callback_day_cells"
    __table_args__ = (PrimaryKeyConstraint(*CALLBACK_KEY, name="pk_callback_day_cells"),)

    day: date  # local date of first_call_at, in the registry's time zone
    unit: str
    status: str  # on_time, late, unreachable, cancelled
    ack_bucket: int  # lower edge in seconds (domain.reports.buckets.EDGES); -1: none
    callbacks: int


class CallbackCallRow(SQLModel, table=True):
    """A missed call kept as evidence of a callback; a call is evidence of one task at most."""

    __tablename__ = "callback_calls"
    __table_args__ = (
        ForeignKeyConstraint(
            ["callback_id"],
            ["callbacks.id"],
            name="fk_callback_calls_callback_id_callbacks",
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name="fk_callback_calls_call_id_calls", ondelete="CASCADE"
        ),
        UniqueConstraint("call_id", name="uq_callback_calls_call_id"),
    )

    callback_id: int = Field(primary_key=True)
    call_id: int = Field(primary_key=True)


class AttemptRow(SQLModel, table=True):
    """One try to reach the citizen of a callback; ``outcome`` is NULL while a placed call runs."""

    __tablename__ = "callback_attempts"
    __table_args__ = (
        ForeignKeyConstraint(
            ["callback_id"],
            ["callbacks.id"],
            name="fk_callback_attempts_callback_id_callbacks",
            ondelete="CASCADE",
        ),
        CheckConstraint(one_of("outcome", ATTEMPT_OUTCOMES), name="ck_callback_attempts_outcome"),
        UniqueConstraint("channel_id", name="uq_callback_attempts_channel_id"),
        Index("ix_callback_attempts_callback_id", "callback_id"),
        Index("ix_callback_attempts_status", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    callback_id: int
    at: datetime = Field(sa_type=UTCDateTime)
    by: str
    outcome: str | None = None
    note: str | None = None  # free text: erased with the number
    channel_id: str | None = None  # the AMI Originate ChannelId: one per attempt
    # requested → sent (→ agent_answered) → resolved | agent_no_answer | failed | lost
    status: str | None = None
    agent_device: str | None = None  # the AMI channel that rings first: the agent's phone


class UserRow(SQLModel, table=True):
    """A local account; the password only as an argon2 hash."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(one_of("role", ROLES), name="ck_users_role"),
        UniqueConstraint("username", name="uq_users_username"),
        UniqueConstraint("oidc_subject", name="uq_users_oidc_subject"),
    )

    id: int | None = Field(default=None, primary_key=True)
    username: str
    display_name: str
    password_hash: str = Field(repr=False)
    role: str
    active: bool
    created_at: datetime = Field(sa_type=UTCDateTime)
    password_changed_at: datetime = Field(sa_type=UTCDateTime)
    # Raised to end every session of the user at once (sessions carry the epoch they began in).
    session_epoch: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    agent_device: str | None = None  # the PBX channel of the agent's own phone (set by an admin)
    oidc_subject: str | None = None  # "issuer|sub" for accounts of the identity provider


class UserUnitRow(SQLModel, table=True):
    """A unit whose callbacks (and citizens' numbers) an agent may see."""

    __tablename__ = "user_units"
    __table_args__ = (
        ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_user_units_user_id_users", ondelete="CASCADE"
        ),
    )

    user_id: int = Field(primary_key=True)
    unit: str = Field(primary_key=True)


class ApiTokenRow(SQLModel, table=True):
    """An integration's token, stored as its SHA-256; ``prefix`` identifies it to people."""

    __tablename__ = "api_tokens"
    __table_args__ = (UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str
    prefix: str
    token_hash: str = Field(repr=False)
    scopes: str  # space-separated: read-status, callbacks
    units: str | None = None  # space-separated unit ids; NULL: every unit
    created_by: str
    created_at: datetime = Field(sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AuditRow(SQLModel, table=True):
    """Who saw or changed what, and when (SPEC §11's access log, and every change)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime)
    actor: str
    action: str
    subject: str
    detail: str | None = None
    remote_addr: str | None = None


class LoginAttemptRow(SQLModel, table=True):
    """One try to sign in: the rate limit counts the failures, in every web process."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_username_at", "username", "at"),
        Index("ix_login_attempts_remote_addr_at", "remote_addr", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime)
    username: str
    remote_addr: str
    ok: bool


class OverrideRow(SQLModel, table=True):
    """A manual override (SPEC §4.4); an ended one stays as the record of what was done."""

    __tablename__ = "overrides"
    __table_args__ = (Index("ix_overrides_end", "end"),)

    id: int | None = Field(default=None, primary_key=True)
    unit: str
    start: datetime = Field(sa_type=UTCDateTime)
    end: datetime = Field(sa_type=UTCDateTime)
    open: bool
    reason: str
    author: str
    created_at: datetime = Field(sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ended_by: str | None = None


class PbxStateRow(SQLModel, table=True):
    """The active worker's AMI connection to one PBX, as ``/readyz`` and ``/metrics`` show it."""

    __tablename__ = "pbx_state"

    pbx: str = Field(primary_key=True)
    connected: bool
    reconnects: int
    last_event_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    worker: str | None = None
    queue_depth: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    dropped: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
