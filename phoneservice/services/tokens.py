"""API tokens (SPEC §11): 256 random bits shown once, stored as their SHA-256.

A token is a key, not a password: it cannot be guessed, so a slow hash buys nothing and
would cost every API request.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from phoneservice.services.accounts import AccountError
from phoneservice.services.audit import record
from phoneservice.storage.accounts import AccountRepository
from phoneservice.storage.models import ApiTokenRow

Clock = Callable[[], datetime]
# monitoring: the details of /readyz (paths, host names, PBX state); /metrics is
# limited to the monitoring network by nginx (docs/security.md).
SCOPES = ("read-status", "callbacks", "overrides", "monitoring")
TOKEN_PREFIX = "psk_"  # noqa: S105 - a marker that makes leaked tokens findable, not a secret
LAST_USED_EVERY = timedelta(minutes=1)  # how stale ``last_used_at`` may be: fewer writes


@dataclass(frozen=True, slots=True)
class Token:
    """An API token as its holder is known: name, scopes and units (None: all)."""

    id: int
    name: str
    prefix: str
    scopes: frozenset[str]
    units: frozenset[str] | None
    created_by: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    def allows(self, scope: str) -> bool:
        """Whether the token carries ``scope`` and is not revoked."""
        return self.revoked_at is None and scope in self.scopes

    def unit_scope(self) -> frozenset[str] | None:
        """The units whose callbacks this token sees; None: all of them."""
        return self.units


def hash_token(secret: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class TokenService:
    """Issues, checks and revokes API tokens; each public method is one transaction."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock

    def issue_token(
        self,
        name: str,
        scopes: Collection[str],
        *,
        units: Collection[str] | None = None,
        actor: str,
    ) -> tuple[Token, str]:
        """A new token and its secret, which is shown this once and never stored."""
        _check(name, scopes)
        secret, now = TOKEN_PREFIX + secrets.token_urlsafe(32), self.clock()
        row = ApiTokenRow(
            name=name.strip(),
            prefix=secret[: len(TOKEN_PREFIX) + 6],
            token_hash=hash_token(secret),
            scopes=" ".join(sorted(set(scopes))),
            units=" ".join(sorted(units)) if units else None,
            created_by=actor,
            created_at=now,
        )
        with self.sessions() as session:
            repo = AccountRepository(session)
            repo.add_token(row)
            record(repo, now, actor, "token.issue", row.name, f"scopes={row.scopes}")
            session.commit()
            return _token(row), secret

    def verify_token(self, secret: str) -> Token | None:
        """The live token with this secret, or None; notes when it was last used."""
        if not secret.startswith(TOKEN_PREFIX):
            return None
        now = self.clock()
        with self.sessions() as session:
            row = AccountRepository(session).token_by_hash(hash_token(secret))
            if row is None or row.revoked_at is not None:
                return None
            if row.last_used_at is None or now - row.last_used_at > LAST_USED_EVERY:
                row.last_used_at = now
                session.commit()
            return _token(row)

    def revoke_token(self, token_id: int, *, actor: str) -> None:
        """Revoke a token; it stops working at once."""
        now = self.clock()
        with self.sessions() as session:
            repo = AccountRepository(session)
            row = repo.token_by_id(token_id)
            if row is None:
                raise AccountError(f"no token with id {token_id}")
            if row.revoked_at is None:
                row.revoked_at = now
                record(repo, now, actor, "token.revoke", row.name, row.prefix)
            session.commit()

    def tokens(self) -> list[Token]:
        """Every token, newest first."""
        with self.sessions() as session:
            return [_token(row) for row in AccountRepository(session).tokens()]


def _check(name: str, scopes: Collection[str]) -> None:
    """Refuse a token without a name or with no or unknown scopes."""
    if not name.strip():
        raise AccountError("a token needs a name")
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise AccountError(f"scopes must be some of {', '.join(SCOPES)}; got {unknown or 'none'}")


def _token(row: ApiTokenRow) -> Token:
    """The service's view of a token row."""
    units = frozenset(row.units.split()) if row.units else None
    return Token(
        row.id or 0,
        row.name,
        row.prefix,
        frozenset(row.scopes.split()),
        units,
        row.created_by,
        row.created_at,
        row.last_used_at,
        row.revoked_at,
    )
