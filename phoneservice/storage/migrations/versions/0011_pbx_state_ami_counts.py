"""PBX state: the AMI queue's depth and the messages dropped, for ``/metrics``.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03

- ``queue_depth``: AMI messages the active worker has received but not handled yet
  (``phoneservice_ami_queue_depth``).
- ``dropped``: AMI messages it dropped since it started, each one followed by a new
  connection and a resync: a message over the size limit, or one that found the queue
  full (``phoneservice_ami_dropped_total``).

Rows written before this revision read 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the two counts."""
    with op.batch_alter_table("pbx_state") as batch:
        batch.add_column(sa.Column("queue_depth", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("dropped", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    """Drop them."""
    with op.batch_alter_table("pbx_state") as batch:
        batch.drop_column("dropped")
        batch.drop_column("queue_depth")
