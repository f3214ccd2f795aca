"""Calls: the caller's number as the PBX sent it.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

- ``caller_raw``: the CallerIDNum as received (``anonymous``, ``55193292``,
  ``004535456134``, ``+46…``), beside ``caller_number``, its E.164 form or null. Personal
  data: the retention purge erases it with the number. Calls stored before this revision
  keep null.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the column."""
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("caller_raw", sa.String(), nullable=True))


def downgrade() -> None:
    """Drop it."""
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("caller_raw")
