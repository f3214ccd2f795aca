"""Alembic migrations of the storage package (a package so that wheels ship them)."""
