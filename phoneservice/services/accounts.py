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
from phoneservice.domain.callbacks.originate import DeviceRefused, check_device
from phoneservice.registry import PbxSettings, Registry
from phoneservice.registry.holder import RegistryHolder, as_holder
from phoneservice.services.audit import record
from phoneservice.services.passwords import WeakPassword, check_password
from phoneservice.storage.accounts import AccountRepository
from phoneservice.storage.models import LoginAttemptRow, UserRow

Clock = Callable[[], datetime]
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
    agent_device: str | None = None  # the PBX channel of the agent's own phone
    session_epoch: int = 0  # a session begun under another epoch is over

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
class Pruned:
    """What a prune deleted: login attempts and audit entries past their retention."""

    login_attempts: int
    audit_entries: int


class AccountService:
    """Users and their sign-in over one database."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        hasher: PasswordHasher | None = None,
        *,
        registry: Registry | RegistryHolder | None = None,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.hasher = hasher or PasswordHasher()  # argon2's default cost; no hash made here
        # The registry's [pbx] agent_device_pattern checks devices (its default without one).
        self.holder = None if registry is None else as_holder(registry)

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
            password_hash=self.hasher.hash(_password(password, name)),
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
            if row.oidc_subject is not None:  # the provider's groups decide, not a password
                raise AccountError(f"user {row.username!r} signs in through the identity provider")
            row.password_hash = self.hasher.hash(_password(password, row.username))
            row.password_changed_at = now
            row.session_epoch += 1  # every session signed in with the old password ends
            record(repo, now, actor, "user.passwd", row.username, None)
            session.commit()

    def end_sessions(
        self,
        username: str,
        *,
        actor: str,
        remote_addr: str | None = None,
        action: str = "user.sessions_ended",
    ) -> None:
        """End every session of the user at once (sign-out, "log out everywhere")."""
        now = self.clock()
        with self.sessions() as session:
            repo = AccountRepository(session)
            row = _existing_user(repo, username)
            row.session_epoch += 1
            record(repo, now, actor, action, row.username, None, remote_addr)
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
            if (row.role, row.active, repo.units_of(_id(row))) != (role, active, units):
                row.session_epoch += 1  # sessions carry the rights they began with: end them
            row.role, row.active = role, active
            repo.set_units(_id(row), units)
            detail = f"role={role} units={' '.join(units)} active={active}"
            record(repo, now, actor, "user.update", row.username, detail)
            session.commit()
            return _user(row, units)

    def set_device(
        self,
        username: str,
        device: str | None,
        *,
        actor: str = "cli",
        remote_addr: str | None = None,
    ) -> User:
        """Set (or, when empty, clear) the agent's own phone; it must match the pattern."""
        now, wanted = self.clock(), (device or "").strip() or None
        if wanted is not None:
            try:
                check_device(wanted, self.device_pattern())
            except DeviceRefused as exc:
                raise AccountError(f"device refused: {exc}") from None
        with self.sessions() as session:
            repo = AccountRepository(session)
            row = _existing_user(repo, username)
            row.agent_device = wanted
            detail = f"device={wanted or '-'}"
            record(repo, now, actor, "user.device", row.username, detail, remote_addr)
            session.commit()
            return _user(row, repo.units_of(_id(row)))

    def device_pattern(self) -> re.Pattern[str]:
        """The pattern every agent device must match, from the registry in use now."""
        pbx = PbxSettings() if self.holder is None else self.holder.registry.pbx
        return pbx.agent_device_pattern

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
        """The user if the password is right; :class:`LoginThrottled` after too many failures.

        The attempt is stored as a failure in its own transaction before the failures are
        counted: of attempts made in parallel, the last to store its row counts every
        other, so no more than the limit ever reach the password check.
        """
        name, now = username.strip().lower(), self.clock()
        attempt = self._record_attempt(name, remote_addr, now)
        with self.sessions() as session:
            repo = AccountRepository(session)
            refusal = self._over_limit(repo, name, remote_addr, now)
            if refusal is not None:
                repo.forget_attempt(attempt)  # a refused try is no failure: the lock lifts
                session.commit()
                raise LoginThrottled(refusal)
            row = repo.user_by_name(name)
            found = (_id(row), row.password_hash) if row is not None and row.active else None
            session.commit()  # no transaction stays open over the slow hash check
        if not self._verify(found[1] if found else self._dummy_hash(), password) or not found:
            return None
        return self._signed_in(attempt, found[0], found[1], password)

    def _record_attempt(self, name: str, address: str, now: datetime) -> int:
        """Store an attempt as a failure, committed at once; its id."""
        with self.sessions() as session:
            row = AccountRepository(session).add_attempt(
                LoginAttemptRow(at=now, username=name, remote_addr=address, ok=False)
            )
            session.commit()
            if row.id is None:
                raise AccountError("the login attempt has not been stored")
            return row.id

    def _over_limit(
        self, repo: AccountRepository, name: str, address: str, now: datetime
    ) -> str | None:
        """Why the attempt is refused, counting it: the username or address is over its limit."""
        since = now - LOGIN_WINDOW
        if repo.failures_since(since, username=name, remote_addr=None) > MAX_FAILURES_PER_USER:
            return f"too many failed logins for {name!r}"
        if (
            repo.failures_since(since, username=None, remote_addr=address)
            > MAX_FAILURES_PER_ADDRESS
        ):
            return f"too many failed logins from {address}"
        return None

    def _signed_in(self, attempt: int, user_id: int, checked: str, password: str) -> User | None:
        """Mark the attempt a success and rehash an old-cost hash; the user, if still active."""
        with self.sessions() as session:
            repo = AccountRepository(session)
            row = repo.user_by_id(user_id)
            if row is None or not row.active or row.password_hash != checked:
                return None  # changed while the password was checked: the attempt failed
            repo.attempt_succeeded(attempt)
            if self.hasher.check_needs_rehash(row.password_hash):
                row.password_hash = self.hasher.hash(password)
            session.commit()
            return _user(row, repo.units_of(user_id))

    def failed_logins(self, username: str) -> int:
        """Failed logins for ``username`` in the rate limit's window (the admin's user page)."""
        since = self.clock() - LOGIN_WINDOW
        with self.sessions() as session:
            repo = AccountRepository(session)
            return repo.failures_since(since, username=username.strip().lower(), remote_addr=None)

    def unlock(self, username: str, *, actor: str, remote_addr: str | None = None) -> int:
        """Forget the user's failed logins of the window, lifting its lock; how many went.

        The failures also leave the count of the addresses they came from.
        """
        now = self.clock()
        with self.sessions() as session:
            repo = AccountRepository(session)
            row = _existing_user(repo, username)
            cleared = repo.forget_failures(now - LOGIN_WINDOW, row.username)
            record(
                repo, now, actor, "user.unlock", row.username, f"failures={cleared}", remote_addr
            )
            session.commit()
            return cleared

    def prune(self, now: datetime, *, attempt_days: int, audit_days: int) -> Pruned:
        """Delete login attempts and audit entries past their retention."""
        with self.sessions() as session:
            repo = AccountRepository(session)
            attempts = repo.forget_attempts(now - timedelta(days=attempt_days))
            audit = repo.forget_audit(now - timedelta(days=audit_days))
            session.commit()
        return Pruned(attempts, audit)

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


def _password(text: str, username: str) -> str:
    """A password the policy allows for ``username`` (:mod:`phoneservice.services.passwords`)."""
    try:
        return check_password(text, username)
    except WeakPassword as exc:
        raise AccountError(str(exc)) from None


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
    return User(
        _id(row),
        row.username,
        row.display_name,
        row.role,
        frozenset(units),
        row.active,
        row.agent_device,
        row.session_epoch,
    )
