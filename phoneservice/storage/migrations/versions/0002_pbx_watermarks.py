"""How far each PBX's event stream was read, so a restarted worker knows its gap.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``pbx_watermarks``."""
    op.create_table(
        "pbx_watermarks",
        sa.Column("pbx", sa.String(), primary_key=True),
        sa.Column("last_event_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    """Drop ``pbx_watermarks``."""
    op.drop_table("pbx_watermarks")
