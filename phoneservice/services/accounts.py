"""Local accounts, sign-in and the login rate limit (SPEC §11).

Passwords are argon2 hashes, made by an injected :class:`PasswordHasher`: production
keeps argon2's default cost, tests use :func:`cheap_hasher`. Each public method is one
transaction. API tokens are in :mod:`phoneservice.services.tokens`, the audit log in
:mod:`phoneservice.services.audit`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from phoneservice.domain.accounts import ROLES
from phoneservice.services.audit import record
from phoneservice.storage.accounts import AccountRepository
from phoneservice.storage.models import LoginAttemptRow, UserRow

Clock = Callable[[], datetime]
MIN_PASSWORD = 12
USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
# The rate limit (SPEC §11): failures counted over a window, per username and per address.
LOGIN_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_ADDRESS = 20
_NO_SUCH_USER = "phoneservice: no such user"  # hashed once to time a failed lookup


def cheap_hasher() -> PasswordHasher:
    """argon2 at its lowest cost: for tests and demos, never for real passwords."""
    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


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


class AccountService:
    """Users and their sign-in over one database."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        hasher: PasswordHasher | None = None,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.hasher = hasher or PasswordHasher()  # argon2's default cost; no hash made here

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
            password_hash=self.hasher.hash(_password(password)),
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
            record(repo, now, actor, "user.add", name, f"role={role} units={' '.join(units)}")
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
            row.password_hash = self.hasher.hash(_password(password))
            row.password_changed_at = now
            record(repo, now, actor, "user.passwd", row.username, None)
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
            record(repo, now, actor, "user.update", row.username, detail)
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
            ok = self._verify(row.password_hash if row else self._dummy_hash(), password)
            ok = ok and row is not None and row.active
            repo.add_attempt(LoginAttemptRow(at=now, username=name, remote_addr=remote_addr, ok=ok))
            if row is not None and ok and self.hasher.check_needs_rehash(row.password_hash):
                row.password_hash = self.hasher.hash(password)
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

    def _verify(self, password_hash: str, password: str) -> bool:
        """Whether ``password`` matches ``password_hash``."""
        try:
            return self.hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def _dummy_hash(self) -> str:
        """A hash to verify against when the user does not exist: it costs as a real check."""
        h = self.hasher
        return _dummy_hash_of((h.time_cost, h.memory_cost, h.parallelism, h.hash_len, h.salt_len))


@cache
def _dummy_hash_of(cost: tuple[int, int, int, int, int]) -> str:
    """The dummy hash of one cost profile, made once per process on first use, not at import."""
    return PasswordHasher(*cost).hash(_NO_SUCH_USER)


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
