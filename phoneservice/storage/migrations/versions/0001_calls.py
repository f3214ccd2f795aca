"""Calls and their queue visits (SPEC §5.1).

Revision ID: 0001
Revises:
Create Date: 2026-01-12

Frozen: this file spells out its types and CHECK lists instead of importing the models,
so that later changes to the models cannot change what it did.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SOURCES = "source IN ('ami', 'queue_log', 'cdr')"
OUTCOMES = "outcome IN ('answered', 'abandoned', 'timeout', 'closed', 'unanswered', 'unknown')"


def instant(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    """A UTC instant: timestamptz on PostgreSQL, naive UTC DATETIME on SQLite."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    """Create ``calls`` and ``call_segments``."""
    create_calls()
    create_segments()


def create_calls() -> None:
    """The calls table, its idempotency key and its report indexes."""
    op.create_table(
        "calls",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("pbx", sa.String(), nullable=False),
        sa.Column("uniqueid", sa.String(), nullable=False),
        sa.Column("linkedid", sa.String(), nullable=False),
        sa.Column("unit", sa.String(), nullable=True),
        sa.Column("queue", sa.String(), nullable=True),
        sa.Column("caller_number", sa.String(), nullable=True),
        sa.Column("caller_name", sa.String(), nullable=True),
        instant("arrived_at"),
        sa.Column("during_hours", sa.Boolean(), nullable=False),
        sa.Column("pbx_hours", sa.String(), nullable=True),
        sa.Column("hours_disagree", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("short_abandon", sa.Boolean(), nullable=False),
        sa.Column("wait_s", sa.Integer(), nullable=True),
        sa.Column("ring_attempts", sa.Integer(), nullable=False),
        sa.Column("talk_s", sa.Integer(), nullable=True),
        sa.Column("agent", sa.String(), nullable=True),
        instant("ended_at"),
        sa.Column("source", sa.String(), nullable=False),
        instant("number_erased_at", nullable=True),
        sa.UniqueConstraint("pbx", "uniqueid", name="uq_calls_pbx_uniqueid"),
        sa.CheckConstraint(SOURCES, name="ck_calls_source"),
        sa.CheckConstraint(OUTCOMES, name="ck_calls_outcome"),
    )
    op.create_index("ix_calls_unit_arrived_at", "calls", ["unit", "arrived_at"])
    op.create_index("ix_calls_arrived_at", "calls", ["arrived_at"])
    op.create_index("ix_calls_caller_number_unit", "calls", ["caller_number", "unit"])


def create_segments() -> None:
    """One row per queue visit, deleted with its call."""
    op.create_table(
        "call_segments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("queue", sa.String(), nullable=False),
        sa.Column("unit", sa.String(), nullable=True),
        instant("joined_at"),
        instant("left_at", nullable=True),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("wait_s", sa.Integer(), nullable=True),
        sa.Column("ring_attempts", sa.Integer(), nullable=False),
        sa.Column("ring_no_answers", sa.Integer(), nullable=False),
        sa.Column("agent", sa.String(), nullable=True),
        sa.Column("talk_s", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name="fk_call_segments_call_id_calls", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("call_id", "position", name="uq_call_segments_call_id_position"),
    )


def downgrade() -> None:
    """Drop both tables."""
    op.drop_table("call_segments")
    op.drop_table("calls")
