"""Column types: instants stored in UTC and read back as aware UTC datetimes on every backend."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

# Backends with a real "timestamp with time zone"; the others get naive UTC.
_ZONED_DIALECTS = frozenset({"postgresql"})


class NaiveDatetimeError(ValueError):
    """A datetime without a UTC offset was given to storage, which cannot guess its zone."""


class UTCDateTime(TypeDecorator[datetime]):
    """An instant: ``timestamptz`` on PostgreSQL, naive UTC elsewhere; naive input is refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """The column type the backend really gets."""
        zoned = dialect.name in _ZONED_DIALECTS
        return dialect.type_descriptor(DateTime(timezone=zoned))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """The value to send: the same instant in UTC, naive unless the backend keeps zones."""
        if value is None:
            return None
        utc = to_utc(value)
        return utc if dialect.name in _ZONED_DIALECTS else utc.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """The value read: always aware and in UTC, whatever the session's time zone."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def to_utc(value: datetime) -> datetime:
    """The same instant in UTC; a naive datetime is an error, never a guess."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise NaiveDatetimeError(f"naive datetime {value.isoformat()} given: storage needs aware")
    return value.astimezone(UTC)
