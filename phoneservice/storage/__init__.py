"""Storage: SQLModel tables, engines and sessions, Alembic migrations and repositories.

Repositories never commit: a service opens a session, uses them, and commits once.
Nothing is imported here, so that a module of this package that needs no SQLAlchemy
(``override_reader``) can be imported without it.
"""
