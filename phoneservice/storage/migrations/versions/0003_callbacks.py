"""Callbacks (SPEC §6): tasks, their evidence calls and their attempts.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24

Frozen: types, CHECK text and the partial index are spelled out, not imported.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATE_RULE = (
    "(state = 'open' AND resolution IS NULL AND closed_at IS NULL AND caller_number IS NOT NULL)"
    " OR (state = 'done' AND resolution IN ('caller_reached_us', 'called_back')"
    " AND closed_at IS NOT NULL)"
    " OR (state = 'unreachable' AND resolution = 'unreachable' AND closed_at IS NOT NULL)"
    " OR (state = 'cancelled' AND resolution = 'cancelled' AND closed_at IS NOT NULL)"
)
ATTEMPT_OUTCOMES = "outcome IN ('reached', 'no_answer', 'busy', 'voicemail', 'wrong_number')"
OPEN_ONLY = "state = 'open'"


def instant(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    """A UTC instant: timestamptz on PostgreSQL, naive UTC DATETIME on SQLite."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def text(name: str, *, nullable: bool = True) -> sa.Column[str]:
    """A string column."""
    return sa.Column(name, sa.String(), nullable=nullable)


def upgrade() -> None:
    """Create ``callbacks``, ``callback_calls`` and ``callback_attempts``."""
    create_callbacks()
    create_evidence()
    create_attempts()


def create_callbacks() -> None:
    """The tasks, with one open task per (caller_number, unit) as a partial unique index."""
    op.create_table(
        "callbacks",
        sa.Column("id", sa.Integer(), primary_key=True),
        text("unit", nullable=False),
        text("caller_number"),
        text("state", nullable=False),
        instant("created_at"),
        instant("due_at"),
        instant("first_call_at"),
        text("claimed_by"),
        instant("claimed_at", nullable=True),
        text("resolution"),
        instant("closed_at", nullable=True),
        text("closed_by"),
        text("note"),
        text("cancel_reason"),
        instant("overdue_at", nullable=True),
        instant("number_erased_at", nullable=True),
        sa.CheckConstraint(STATE_RULE, name="ck_callbacks_state"),
    )
    op.create_index(
        "ux_callbacks_open_caller_number_unit",
        "callbacks",
        ["caller_number", "unit"],
        unique=True,
        sqlite_where=sa.text(OPEN_ONLY),
        postgresql_where=sa.text(OPEN_ONLY),
    )
    op.create_index("ix_callbacks_state_due_at", "callbacks", ["state", "due_at"])
    op.create_index("ix_callbacks_unit_state", "callbacks", ["unit", "state"])
    op.create_index("ix_callbacks_closed_at", "callbacks", ["closed_at"])


def create_evidence() -> None:
    """The missed calls of each task; a call belongs to one task at most."""
    op.create_table(
        "callback_calls",
        sa.Column("callback_id", sa.Integer(), primary_key=True),
        sa.Column("call_id", sa.Integer(), primary_key=True),
        sa.ForeignKeyConstraint(
            ["callback_id"],
            ["callbacks.id"],
            name="fk_callback_calls_callback_id_callbacks",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name="fk_callback_calls_call_id_calls", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("call_id", name="uq_callback_calls_call_id"),
    )


def create_attempts() -> None:
    """The attempts to reach the citizen; a placed call has its own ChannelId."""
    op.create_table(
        "callback_attempts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("callback_id", sa.Integer(), nullable=False),
        instant("at"),
        text("by", nullable=False),
        text("outcome"),
        text("note"),
        text("channel_id"),
        text("status"),
        sa.ForeignKeyConstraint(
            ["callback_id"],
            ["callbacks.id"],
            name="fk_callback_attempts_callback_id_callbacks",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(ATTEMPT_OUTCOMES, name="ck_callback_attempts_outcome"),
        sa.UniqueConstraint("channel_id", name="uq_callback_attempts_channel_id"),
    )
    op.create_index("ix_callback_attempts_callback_id", "callback_attempts", ["callback_id"])


def downgrade() -> None:
    """Drop the three tables."""
    op.drop_table("callback_attempts")
    op.drop_table("callback_calls")
    op.drop_index("ux_callbacks_open_caller_number_unit", table_name="callbacks")
    op.drop_table("callbacks")
