"""Exceptions of the domain layer."""


class DomainError(Exception):
    """A domain rule was broken by the caller's data."""


class NaiveDatetimeError(DomainError, ValueError):
    """A datetime without a time zone reached code that needs an instant."""


def require_aware(value: object, name: str) -> None:
    """Reject a naive datetime: domain code works on instants only."""
    tzinfo = getattr(value, "tzinfo", None)
    if tzinfo is None or tzinfo.utcoffset(value) is None:
        raise NaiveDatetimeError(f"{name} must be a timezone-aware datetime, got {value!r}")
