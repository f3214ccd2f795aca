"""Callbacks: the resolution ``expired`` (SPEC §13) for tasks the purge closes.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03

A task open longer than ``retention_days`` is closed by the retention purge as
``unreachable`` with the resolution ``expired``, then erased like any closed task. The
CHECK that ties each state to its resolutions is replaced (SQLite: by copying the table,
in Alembic's batch mode, keeping the rows that reference it). Frozen: the CHECK text is
spelled out, not imported.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ck_callbacks_state"
RULE = (
    "(state = 'open' AND resolution IS NULL AND closed_at IS NULL AND caller_number IS NOT NULL)"
    " OR (state = 'done' AND resolution IN ('caller_reached_us', 'called_back')"
    " AND closed_at IS NOT NULL)"
    " OR (state = 'unreachable' AND resolution IN ({unreachable}) AND closed_at IS NOT NULL)"
    " OR (state = 'cancelled' AND resolution = 'cancelled' AND closed_at IS NOT NULL)"
)
WITH_EXPIRED = RULE.format(unreachable="'unreachable', 'expired'")
WITHOUT_EXPIRED = RULE.format(unreachable="'unreachable'")
# The rows that reference a task (ON DELETE CASCADE), copied aside and put back.
KEEP_CHILDREN = (
    "CREATE TEMP TABLE kept_callback_calls AS SELECT * FROM callback_calls",
    "CREATE TEMP TABLE kept_callback_attempts AS SELECT * FROM callback_attempts",
)
RESTORE_CHILDREN = (
    "DELETE FROM callback_calls",
    "INSERT INTO callback_calls SELECT * FROM kept_callback_calls",
    "DROP TABLE kept_callback_calls",
    "DELETE FROM callback_attempts",
    "INSERT INTO callback_attempts SELECT * FROM kept_callback_attempts",
    "DROP TABLE kept_callback_attempts",
)


def upgrade() -> None:
    """Allow ``unreachable`` tasks the resolution ``expired``."""
    _replace_rule(WITH_EXPIRED)


def downgrade() -> None:
    """Allow only ``unreachable`` again (fails while an expired task is stored)."""
    _replace_rule(WITHOUT_EXPIRED)


def _replace_rule(rule: str) -> None:
    """Drop the state CHECK of ``callbacks`` and create it with ``rule``."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        _keep_children()
    with op.batch_alter_table("callbacks") as batch:
        batch.drop_constraint(NAME, type_="check")
        batch.create_check_constraint(NAME, rule)
    if sqlite:
        _restore_children()


def _keep_children() -> None:
    """Copy the rows that reference a task aside (SQLite's batch mode would lose them).

    Batch mode drops the old ``callbacks``; with foreign keys on (they cannot be switched
    off inside the migration's transaction) the drop deletes these rows by ``ON DELETE
    CASCADE``.
    """
    for statement in KEEP_CHILDREN:
        op.execute(statement)


def _restore_children() -> None:
    """Put the rows copied aside by :func:`_keep_children` back."""
    for statement in RESTORE_CHILDREN:
        op.execute(statement)
