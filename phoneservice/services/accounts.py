"""Local accounts, API tokens, the login rate limit and the audit log (SPEC §11).

Passwords are argon2 hashes; tokens are 256 random bits shown once and stored as their
SHA-256 (a token is a key, not a password: it cannot be guessed, so a slow hash buys
nothing and would cost every API request). Each public method is one transaction.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from phoneservice.storage.accounts import AccountRepository
from phoneservice.storage.models import ROLES, ApiTokenRow, AuditRow, LoginAttemptRow, UserRow

Clock = Callable[[], datetime]
SCOPES = ("read-status", "callbacks", "overrides")
MIN_PASSWORD = 12
USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
TOKEN_PREFIX = "psk_"  # noqa: S105 - a marker that makes leaked tokens findable, not a secret
# The rate limit (SPEC §11): failures counted over a window, per username and per address.
LOGIN_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_ADDRESS = 20
_HASHER = PasswordHasher()
# Verifying against this when the user does not exist costs the same as a real check.
_DUMMY_HASH = _HASHER.hash("phoneservice: no such user")


class AccountError(ValueError):
    """A request about accounts that cannot be done; the message says why (English)."""


class LoginThrottled(AccountError):
    """Too many failed logins for this username or address: try again later."""


@dataclass(frozen=True, slots=True)
class User:
    """A signed-in person as the web and the API see them."""

    id: int
    username: str
    display_name: str
    role: str
    units: frozenset[str]
    active: bool = True

    @property
    def is_admin(self) -> bool:
        """Admins see every unit and manage users, tokens and overrides."""
        return self.role == "admin"

    def serves(self, unit: str | None) -> bool:
        """Whether this user may see the citizens' numbers of ``unit``."""
        if self.is_admin:
            return True
        return self.role == "agent" and unit is not None and unit in self.units

    def unit_scope(self) -> frozenset[str] | None:
        """The units whose callbacks this user sees; None: all of them."""
        if self.is_admin:
            return None
        return self.units if self.role == "agent" else frozenset()


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


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the audit log."""

    at: datetime
    actor: str
    action: str
    subject: str
    detail: str | None
    remote_addr: str | None


def hash_token(secret: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class AccountService:
    """Users, tokens, logins and the audit log over one database."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock

    def add_user(
        self,
        username: str,
        password: str,
        role: str,
        *,
        display_name: str | None = None,
        units: Iterable[str] = (),
        actor: str = "cli",
    ) -> User:
        """Create an account; refuses a taken name, a weak password or a bad role."""
        name, now = _username(username), self.clock()
        _check_role(role)
        row = UserRow(
            username=name,
            display_name=(display_name or name).strip() or name,
            password_hash=_HASHER.hash(_password(password)),
            role=role,
            active=True,
            created_at=now,
            password_changed_at=now,
        )
        with self.sessions() as session:
            repo = AccountRepository(session)
            if repo.user_by_name(name) is not None:
                raise AccountError(f"user {name!r} exists already")
            repo.add_user(row)
            repo.set_units(_id(row), sorted(units))
            _audit(repo, now, actor, "user.add", name, f"role={role} units={' '.join(units)}")
            try:
                session.commit()
            except IntegrityError as exc:  # another process created it just now
                raise AccountError(f"user {name!r} exists already") from exc
            return _user(row, repo.units_of(_id(row)))

    def set_password(self, username: str, password: str, *, actor: str = "cli") -> None:
        """Replace a user's password."""
        now = self.clock()
        with self.sessions() as session:
            repo = AccountRepository(session)
            row = _existing_user(repo, username)
            row.password_hash = _HASHER.hash(_password(password))
            row.password_changed_at = now
            _audit(repo, now, actor, "user.passwd", row.username, None)
            session.commit()

    def update_user(
        self,
        username: str,
        *,
        role: str,
        units: Iterable[str],
        active: bool,
        actor: str,
    ) -> User:
        """Change a user's role, units and whether they may sign in."""
        _check_role(role)
        now, units = self.clock(), sorted(set(units))
        with self.sessions() as session:
            repo = AccountRepository(session)
            row = _existing_user(repo, username)
            row.role, row.active = role, active
            repo.set_units(_id(row), units)
            detail = f"role={role} units={' '.join(units)} active={active}"
            _audit(repo, now, actor, "user.update", row.username, detail)
            session.commit()
            return _user(row, units)

    def users(self) -> list[User]:
        """Every account, by username."""
        with self.sessions() as session:
            repo = AccountRepository(session)
            return [_user(row, repo.units_of(_id(row))) for row in repo.users()]

    def user(self, user_id: int) -> User | None:
        """The account with this id, if it exists and may sign in."""
        with self.sessions() as session:
            repo = AccountRepository(session)
            row = repo.user_by_id(user_id)
            if row is None or not row.active:
                return None
            return _user(row, repo.units_of(user_id))

    def authenticate(self, username: str, password: str, remote_addr: str) -> User | None:
        """The user if the password is right; :class:`LoginThrottled` after too many failures."""
        name, now = username.strip().lower(), self.clock()
        with self.sessions() as session:
            repo = AccountRepository(session)
            self._throttle(repo, name, remote_addr, now)
            row = repo.user_by_name(name)
            ok = _verify(row.password_hash if row else _DUMMY_HASH, password)
            ok = ok and row is not None and row.active
            repo.add_attempt(LoginAttemptRow(at=now, username=name, remote_addr=remote_addr, ok=ok))
            if row is not None and ok and _HASHER.check_needs_rehash(row.password_hash):
                row.password_hash = _HASHER.hash(password)
            session.commit()
            return _user(row, repo.units_of(_id(row))) if ok and row is not None else None

    def _throttle(self, repo: AccountRepository, name: str, address: str, now: datetime) -> None:
        """Refuse the attempt while the username or the address is over its limit."""
        since = now - LOGIN_WINDOW
        if repo.failures_since(since, username=name, remote_addr=None) >= MAX_FAILURES_PER_USER:
            raise LoginThrottled(f"too many failed logins for {name!r}")
        if (
            repo.failures_since(since, username=None, remote_addr=address)
            >= MAX_FAILURES_PER_ADDRESS
        ):
            raise LoginThrottled(f"too many failed logins from {address}")

    def issue_token(
        self,
        name: str,
        scopes: Collection[str],
        *,
        units: Collection[str] | None = None,
        actor: str,
    ) -> tuple[Token, str]:
        """A new token and its secret, which is shown this once and never stored."""
        if not name.strip():
            raise AccountError("a token needs a name")
        unknown = sorted(set(scopes) - set(SCOPES))
        if unknown or not scopes:
            raise AccountError(
                f"scopes must be some of {', '.join(SCOPES)}; got {unknown or 'none'}"
            )
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
            _audit(repo, now, actor, "token.issue", row.name, f"scopes={row.scopes}")
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
            if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
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
                _audit(repo, now, actor, "token.revoke", row.name, row.prefix)
            session.commit()

    def tokens(self) -> list[Token]:
        """Every token, newest first."""
        with self.sessions() as session:
            return [_token(row) for row in AccountRepository(session).tokens()]

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
            _audit(
                AccountRepository(session),
                self.clock(),
                actor,
                action,
                subject,
                detail,
                remote_addr,
            )
            session.commit()

    def audit_log(
        self, *, actor: str | None = None, subject: str | None = None, limit: int = 200
    ) -> list[AuditEntry]:
        """The newest audit entries."""
        with self.sessions() as session:
            rows = AccountRepository(session).audit_entries(
                actor=actor, subject=subject, limit=limit
            )
            return [
                AuditEntry(r.at, r.actor, r.action, r.subject, r.detail, r.remote_addr)
                for r in rows
            ]


def _audit(
    repo: AccountRepository,
    now: datetime,
    actor: str,
    action: str,
    subject: str,
    detail: str | None,
    remote_addr: str | None = None,
) -> None:
    """Append an audit row in the caller's transaction."""
    repo.audit(
        AuditRow(
            at=now,
            actor=actor,
            action=action,
            subject=subject,
            detail=detail,
            remote_addr=remote_addr,
        )
    )


def _username(text: str) -> str:
    """A valid username, lower-cased."""
    name = text.strip().lower()
    if not USERNAME.fullmatch(name):
        raise AccountError(
            f"username {text!r}: 2-64 of a-z, 0-9, '.', '_', '-', starting with a letter or digit"
        )
    return name


def _password(text: str) -> str:
    """A password long enough to keep."""
    if len(text) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")
    return text


def _check_role(role: str) -> None:
    """Refuse an unknown role."""
    if role not in ROLES:
        raise AccountError(f"role {role!r}: use one of {', '.join(ROLES)}")


def _verify(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``."""
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _existing_user(repo: AccountRepository, username: str) -> UserRow:
    """The user, or :class:`AccountError`."""
    row = repo.user_by_name(username.strip().lower())
    if row is None:
        raise AccountError(f"no user {username!r}")
    return row


def _id(row: UserRow) -> int:
    """A stored row's id."""
    if row.id is None:
        raise AccountError("the user has not been stored")
    return row.id


def _user(row: UserRow, units: Sequence[str]) -> User:
    """The domain view of a user row."""
    return User(_id(row), row.username, row.display_name, row.role, frozenset(units), row.active)


def _token(row: ApiTokenRow) -> Token:
    """The domain view of a token row."""
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
