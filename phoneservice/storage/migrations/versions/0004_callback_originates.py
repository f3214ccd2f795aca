"""Placed callback calls (SPEC §6): the agent's device of an attempt, and its status index.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23

A placed call is an attempt with ``outcome`` NULL and ``status`` 'requested'; the worker
finds those through ``ix_callback_attempts_status`` (the outbox of docs/callbacks.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``callback_attempts.agent_device`` and the index the worker polls."""
    op.add_column("callback_attempts", sa.Column("agent_device", sa.String(), nullable=True))
    op.create_index("ix_callback_attempts_status", "callback_attempts", ["status"])


def downgrade() -> None:
    """Drop the index and the column."""
    op.drop_index("ix_callback_attempts_status", table_name="callback_attempts")
    with op.batch_alter_table("callback_attempts") as batch:
        batch.drop_column("agent_device")
