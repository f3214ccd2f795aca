"""Accounts, API tokens, the audit log, manual overrides and the PBX connection state.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23

SPEC §4.4 (overrides), §9 (``/metrics`` reads ``pbx_state``) and §11 (accounts, hashed
tokens, the access log). Frozen: types and CHECK text are spelled out, not imported.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES = "role IN ('viewer', 'agent', 'admin')"


def instant(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    """A UTC instant: timestamptz on PostgreSQL, naive UTC DATETIME on SQLite."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def text(name: str, *, nullable: bool = True) -> sa.Column[str]:
    """A string column."""
    return sa.Column(name, sa.String(), nullable=nullable)


def upgrade() -> None:
    """Create the seven tables."""
    create_accounts()
    create_audit()
    create_overrides()
    create_pbx_state()


def create_accounts() -> None:
    """Users, the units an agent serves, and API tokens."""
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        text("username", nullable=False),
        text("display_name", nullable=False),
        text("password_hash", nullable=False),
        text("role", nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        instant("created_at"),
        instant("password_changed_at"),
        sa.CheckConstraint(ROLES, name="ck_users_role"),
        sa.UniqueConstraint("username", name="uq_users_username"),
    )
    op.create_table(
        "user_units",
        sa.Column("user_id", sa.Integer(), primary_key=True),
        sa.Column("unit", sa.String(), primary_key=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_user_units_user_id_users", ondelete="CASCADE"
        ),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), primary_key=True),
        text("name", nullable=False),
        text("prefix", nullable=False),
        text("token_hash", nullable=False),
        text("scopes", nullable=False),
        text("units"),
        text("created_by", nullable=False),
        instant("created_at"),
        instant("last_used_at", nullable=True),
        instant("revoked_at", nullable=True),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
    )


def create_audit() -> None:
    """Who saw or changed what (SPEC §11), and login attempts for the rate limit."""
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        instant("at"),
        text("actor", nullable=False),
        text("action", nullable=False),
        text("subject", nullable=False),
        text("detail"),
        text("remote_addr"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), primary_key=True),
        instant("at"),
        text("username", nullable=False),
        text("remote_addr", nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_login_attempts_username_at", "login_attempts", ["username", "at"])
    op.create_index("ix_login_attempts_remote_addr_at", "login_attempts", ["remote_addr", "at"])


def create_overrides() -> None:
    """Manual overrides (SPEC §4.4): kept after they end, as their own audit trail."""
    op.create_table(
        "overrides",
        sa.Column("id", sa.Integer(), primary_key=True),
        text("unit", nullable=False),
        instant("start"),
        instant("end"),
        sa.Column("open", sa.Boolean(), nullable=False),
        text("reason", nullable=False),
        text("author", nullable=False),
        instant("created_at"),
        instant("ended_at", nullable=True),
        text("ended_by"),
    )
    op.create_index("ix_overrides_end", "overrides", ["end"])


def create_pbx_state() -> None:
    """The worker's AMI connection per PBX, for ``/readyz`` and ``/metrics`` in the web."""
    op.create_table(
        "pbx_state",
        sa.Column("pbx", sa.String(), primary_key=True),
        sa.Column("connected", sa.Boolean(), nullable=False),
        sa.Column("reconnects", sa.Integer(), nullable=False),
        instant("last_event_at", nullable=True),
        instant("updated_at"),
        text("worker"),
    )


def downgrade() -> None:
    """Drop the seven tables."""
    for table in (
        "pbx_state",
        "overrides",
        "login_attempts",
        "audit_log",
        "api_tokens",
        "user_units",
        "users",
    ):
        op.drop_table(table)
