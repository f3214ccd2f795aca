"""Users: a session epoch, the agent's own device and the identity provider's subject.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03

- ``session_epoch``: every session carries the epoch it was made in; raising it (log out
  everywhere, a new password, disabling, a new role or units) ends every session at once.
- ``agent_device``: the PBX channel that rings first when this agent calls a citizen back,
  set by an admin and checked against the registry's ``[pbx] agent_device_pattern``.
- ``oidc_subject``: ``issuer|sub`` of an account that signs in through the municipality's
  identity provider (null for local accounts); unique.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the three columns."""
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("agent_device", sa.String(), nullable=True))
        batch.add_column(sa.Column("oidc_subject", sa.String(), nullable=True))
        batch.create_unique_constraint("uq_users_oidc_subject", ["oidc_subject"])


def downgrade() -> None:
    """Drop them."""
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("uq_users_oidc_subject", type_="unique")
        batch.drop_column("oidc_subject")
        batch.drop_column("agent_device")
        batch.drop_column("session_epoch")
