"""The daily roll-up of calls for the reports, and the reports' two partial indexes.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23

``call_day_cells`` and ``call_hour_cells`` count the calls per local day and combination
of the report's inputs (docs/reports.md); the write path keeps them up to date from now
on, and this migration fills them from the calls already stored. The local day needs
the registry's time zone, which a migration does not know: ``upgrade(url,
timezone=...)`` hands it over through the Alembic config attributes, and without it the
backfill counts UTC days (``phoneservice db rebuild-rollup`` recomputes it for the
registry's zone). The backfill is not frozen like the tables: it is
``phoneservice.storage.rollup.backfill_calls``, so that it counts exactly as the write path
does. If a later migration changes these tables, give this one a copy of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import context, op

from phoneservice.storage.rollup import backfill_calls

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WITHHELD = "caller_number IS NULL AND number_erased_at IS NULL"


def upgrade() -> None:
    """Create the indexes and the roll-up tables, and fill the roll-up."""
    op.create_index(
        "ix_calls_outside_hours",
        "calls",
        ["arrived_at", "unit"],
        postgresql_where=sa.text("NOT during_hours"),
        sqlite_where=sa.text("during_hours = 0"),
    )
    op.create_index(
        "ix_calls_withheld",
        "calls",
        ["arrived_at", "unit", "outcome"],
        postgresql_where=sa.text(WITHHELD),
        sqlite_where=sa.text(WITHHELD),
    )
    create_rollup()
    backfill_calls(op.get_bind(), _timezone())


def create_rollup() -> None:
    """``call_day_cells`` and ``call_hour_cells``, keyed by their primary keys."""
    op.create_table(
        "call_day_cells",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("unit", sa.String(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("short_abandon", sa.Boolean(), nullable=False),
        sa.Column("during_hours", sa.Boolean(), nullable=False),
        sa.Column("wait_s", sa.Integer(), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day",
            "unit",
            "outcome",
            "short_abandon",
            "during_hours",
            "wait_s",
            name="pk_call_day_cells",
        ),
    )
    op.create_table(
        "call_hour_cells",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("unit", sa.String(), nullable=False),
        sa.Column("hour_of_week", sa.Integer(), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "unit", "hour_of_week", name="pk_call_hour_cells"),
    )


def _timezone() -> ZoneInfo:
    """The registry's zone if the caller of the upgrade passed it, else UTC."""
    zone = context.config.attributes.get("timezone")
    return ZoneInfo("UTC" if zone is None else str(zone))


def downgrade() -> None:
    """Drop the roll-up and the indexes."""
    op.drop_table("call_hour_cells")
    op.drop_table("call_day_cells")
    op.drop_index("ix_calls_withheld", table_name="calls")
    op.drop_index("ix_calls_outside_hours", table_name="calls")
