"""The audit log (SPEC §11): who did what to which subject, and when."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from phoneservice.storage.accounts import AccountRepository
from phoneservice.storage.models import AuditRow

Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the audit log."""

    at: datetime
    actor: str
    action: str
    subject: str
    detail: str | None
    remote_addr: str | None


class AuditService:
    """Appends to and reads the audit log; each public method is one transaction."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock

    def audit(
        self,
        actor: str,
        action: str,
        subject: str,
        detail: str | None = None,
        *,
        remote_addr: str | None = None,
    ) -> None:
        """Append one entry to the audit log (who, when, what)."""
        with self.sessions() as session:
            repo = AccountRepository(session)
            record(repo, self.clock(), actor, action, subject, detail, remote_addr)
            session.commit()

    def audit_log(
        self, *, actor: str | None = None, subject: str | None = None, limit: int = 200
    ) -> list[AuditEntry]:
        """The newest audit entries."""
        with self.sessions() as session:
            repo = AccountRepository(session)
            rows = repo.audit_entries(actor=actor, subject=subject, limit=limit)
            return [
                AuditEntry(r.at, r.actor, r.action, r.subject, r.detail, r.remote_addr)
                for r in rows
            ]


def record(
    repo: AccountRepository,
    now: datetime,
    actor: str,
    action: str,
    subject: str,
    detail: str | None,
    remote_addr: str | None = None,
) -> None:
    """Append an audit row in the caller's transaction: a change and its entry commit together."""
    row = AuditRow(
        at=now, actor=actor, action=action, subject=subject, detail=detail, remote_addr=remote_addr
    )
    repo.audit(row)
