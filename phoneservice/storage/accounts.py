"""Users, API tokens, login attempts and the audit log: the only SQL for accounts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, update
from sqlmodel import Session, col, select

from phoneservice.storage.models import (
    ApiTokenRow,
    AuditRow,
    LoginAttemptRow,
    UserRow,
    UserUnitRow,
)


class AccountRepository:
    """Reads and writes accounts in one session; the caller commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def user_by_name(self, username: str) -> UserRow | None:
        """The user with this username, in any case ("Anne" is "anne")."""
        query = select(UserRow).where(func.lower(UserRow.username) == username.lower())
        return self.session.exec(query).first()

    def user_by_oidc_subject(self, subject: str) -> UserRow | None:
        """The user the identity provider knows as ``subject`` ("issuer|sub")."""
        return self.session.exec(select(UserRow).where(UserRow.oidc_subject == subject)).first()

    def user_by_id(self, user_id: int) -> UserRow | None:
        """The user with this id."""
        return self.session.get(UserRow, user_id)

    def users(self) -> Sequence[UserRow]:
        """Every user, by username."""
        return self.session.exec(select(UserRow).order_by(col(UserRow.username))).all()

    def add_user(self, row: UserRow) -> UserRow:
        """Insert a user; its id is set on return."""
        self.session.add(row)
        self.session.flush()
        return row

    def units_of(self, user_id: int) -> list[str]:
        """The units an agent serves, sorted."""
        query = select(UserUnitRow.unit).where(UserUnitRow.user_id == user_id)
        return sorted(self.session.exec(query).all())

    def set_units(self, user_id: int, units: Sequence[str]) -> None:
        """Replace the units of a user."""
        self.session.exec(delete(UserUnitRow).where(col(UserUnitRow.user_id) == user_id))
        for unit in sorted(set(units)):
            self.session.add(UserUnitRow(user_id=user_id, unit=unit))
        self.session.flush()

    def add_token(self, row: ApiTokenRow) -> ApiTokenRow:
        """Insert a token; its id is set on return."""
        self.session.add(row)
        self.session.flush()
        return row

    def token_by_hash(self, token_hash: str) -> ApiTokenRow | None:
        """The token whose SHA-256 is ``token_hash``."""
        query = select(ApiTokenRow).where(ApiTokenRow.token_hash == token_hash)
        return self.session.exec(query).first()

    def token_by_id(self, token_id: int) -> ApiTokenRow | None:
        """The token with this id."""
        return self.session.get(ApiTokenRow, token_id)

    def tokens(self) -> Sequence[ApiTokenRow]:
        """Every token, newest first."""
        return self.session.exec(select(ApiTokenRow).order_by(col(ApiTokenRow.id).desc())).all()

    def add_attempt(self, row: LoginAttemptRow) -> LoginAttemptRow:
        """Record one login attempt; its id is set on return."""
        self.session.add(row)
        self.session.flush()
        return row

    def forget_attempt(self, attempt_id: int) -> None:
        """Delete one login attempt."""
        self.session.exec(delete(LoginAttemptRow).where(col(LoginAttemptRow.id) == attempt_id))

    def attempt_succeeded(self, attempt_id: int) -> None:
        """Mark a stored attempt (stored as a failure) a success."""
        query = update(LoginAttemptRow).where(col(LoginAttemptRow.id) == attempt_id)
        self.session.exec(query.values(ok=True))

    def forget_failures(self, since: datetime, username: str) -> int:
        """Delete the failed logins of ``username`` since ``since``; how many went."""
        query = delete(LoginAttemptRow).where(
            col(LoginAttemptRow.username) == username,
            col(LoginAttemptRow.at) >= since,
            col(LoginAttemptRow.ok) == False,  # noqa: E712
        )
        return int(self.session.exec(query).rowcount or 0)

    def failures_since(
        self, since: datetime, *, username: str | None, remote_addr: str | None
    ) -> int:
        """Failed logins since ``since`` for a username or from an address."""
        query = select(func.count()).select_from(LoginAttemptRow)
        query = query.where(LoginAttemptRow.at >= since, LoginAttemptRow.ok == False)  # noqa: E712
        if username is not None:
            query = query.where(LoginAttemptRow.username == username)
        if remote_addr is not None:
            query = query.where(LoginAttemptRow.remote_addr == remote_addr)
        return int(self.session.exec(query).one())

    def forget_attempts(self, before: datetime) -> int:
        """Delete login attempts older than ``before``; how many went."""
        result = self.session.exec(delete(LoginAttemptRow).where(col(LoginAttemptRow.at) < before))
        return int(result.rowcount or 0)

    def forget_audit(self, before: datetime) -> int:
        """Delete audit entries older than ``before``; how many went."""
        result = self.session.exec(delete(AuditRow).where(col(AuditRow.at) < before))
        return int(result.rowcount or 0)

    def audit(self, row: AuditRow) -> None:
        """Append to the audit log."""
        self.session.add(row)

    def audit_entries(
        self, *, actor: str | None = None, subject: str | None = None, limit: int = 200
    ) -> Sequence[AuditRow]:
        """The newest audit entries, optionally for one actor or subject."""
        query = select(AuditRow)
        if actor is not None:
            query = query.where(AuditRow.actor == actor)
        if subject is not None:
            query = query.where(AuditRow.subject == subject)
        return self.session.exec(query.order_by(col(AuditRow.id).desc()).limit(limit)).all()
