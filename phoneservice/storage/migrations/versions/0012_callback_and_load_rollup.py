"""The roll-up of closed callbacks and the staffing roll-up of queued calls.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03

- ``callback_day_cells``: closed tasks per local date of their first missed call, unit,
  final report status and bucket of the time to acknowledge (docs/reports.md).
- ``call_load_cells`` and ``call_agent_hours``: calls in phone hours that reached a
  unit's queue per local date, unit and local hour of the week, and the agents who
  answered one in each such hour (the evaluation's staffing table).
- ``ix_callbacks_open_first_call_at``: the open tasks, which the report counts directly.

Filled from the stored calls and tasks like migration 0007 (the registry's zone from
``upgrade(url, timezone=...)``, else UTC); the backfills are the live ones
(``phoneservice.storage.rollup.backfill_loads``,
``phoneservice.storage.callback_rollup.backfill_callbacks``): if a later migration
changes these tables, give this one a copy of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import context, op

from phoneservice.storage.callback_rollup import backfill_callbacks
from phoneservice.storage.rollup import backfill_loads

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_ONLY = "state = 'open'"


def upgrade() -> None:
    """Create the tables and the index, and fill the roll-ups."""
    op.create_index(
        "ix_callbacks_open_first_call_at",
        "callbacks",
        ["first_call_at", "unit"],
        postgresql_where=sa.text(OPEN_ONLY),
        sqlite_where=sa.text(OPEN_ONLY),
    )
    create_tables()
    zone = _timezone()
    backfill_loads(op.get_bind(), zone)
    backfill_callbacks(op.get_bind(), zone)


def create_tables() -> None:
    """``callback_day_cells``, ``call_load_cells`` and ``call_agent_hours``."""
    op.create_table(
        "callback_day_cells",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("unit", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("ack_bucket", sa.Integer(), nullable=False),
        sa.Column("callbacks", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day", "unit", "status", "ack_bucket", name="pk_callback_day_cells"
        ),
    )
    sums = ("calls", "answered", "talked", "talk_s", "waited_s", "abandoned", "agents")
    op.create_table(
        "call_load_cells",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("unit", sa.String(), nullable=False),
        sa.Column("hour_of_week", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in sums),
        sa.PrimaryKeyConstraint("day", "unit", "hour_of_week", name="pk_call_load_cells"),
    )
    op.create_table(
        "call_agent_hours",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("unit", sa.String(), nullable=False),
        sa.Column("hour_of_week", sa.Integer(), nullable=False),
        sa.Column("agent", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("day", "unit", "hour_of_week", "agent", name="pk_call_agent_hours"),
    )


def _timezone() -> ZoneInfo:
    """The registry's zone if the caller of the upgrade passed it, else UTC."""
    zone = context.config.attributes.get("timezone")
    return ZoneInfo("UTC" if zone is None else str(zone))


def downgrade() -> None:
    """Drop the tables and the index."""
    op.drop_table("call_agent_hours")
    op.drop_table("call_load_cells")
    op.drop_table("callback_day_cells")
    op.drop_index("ix_callbacks_open_first_call_at", table_name="callbacks")
