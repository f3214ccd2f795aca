"""Alembic environment: runs the migrations on the connection ``migrate`` hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection
from sqlmodel import SQLModel

import phoneservice.storage.models  # noqa: F401  (registers the tables on the metadata)
from phoneservice.storage.migrate import include_object


def run_migrations(connection: Connection) -> None:
    """Run the pending migrations (batch mode on SQLite, which cannot ALTER much)."""
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    """Entry point Alembic calls by loading this file."""
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through phoneservice.storage.migrate.upgrade")
    run_migrations(connection)


main()
