"""Sign-in through the municipality's identity provider: groups to a role, the local account.

The web verifies the ID token (docs/security.md, "Sign-in through the identity provider");
this module decides what the verified person may do. Several groups: the highest role
wins and the units add up (an admin sees every unit). A person whose groups give no role
is refused and nothing is stored. Otherwise the local account with their subject is made
or brought up to date at every sign-in: role and units follow the groups, the password
can never be used, and a local account of the same name is never taken over.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from phoneservice.domain.accounts import ROLES
from phoneservice.services.accounts import USERNAME, AccountError, Clock, User, _id, _user
from phoneservice.services.audit import record
from phoneservice.settings import OIDC_ROLE_MAP, RoleGrant, SettingsError
from phoneservice.storage.accounts import AccountRepository
from phoneservice.storage.models import UserRow

ACTOR = "oidc"  # the audit log's actor of accounts made or changed by a sign-in
NO_PASSWORD = "!oidc"  # noqa: S105 (not an argon2 hash: no password ever matches it)
MAX_SUFFIX = 99  # anne, anne-2 ... anne-99, then the sign-in is refused
_NOT_IN_NAMES = re.compile(r"[^a-z0-9._-]+")


class SignInRefused(AccountError):
    """The identity provider vouched for the person, but they may not sign in here."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason  # "no_role", "disabled" or "name_taken"


@dataclass(frozen=True, slots=True)
class Identity:
    """A person as a verified ID token describes them."""

    issuer: str
    subject: str
    username: str | None  # preferred_username, else email
    display_name: str | None
    groups: frozenset[str]

    @property
    def oidc_subject(self) -> str:
        """The stored key of the person: ``issuer|sub`` (``sub`` is unique per issuer)."""
        return f"{self.issuer}|{self.subject}"


def grant_for(groups: Iterable[str], role_map: Mapping[str, RoleGrant]) -> RoleGrant | None:
    """What the groups give together: the highest role, the union of units; None: nothing."""
    grants = [role_map[group] for group in groups if group in role_map]
    if not grants:
        return None
    role = max((grant.role for grant in grants), key=ROLES.index)
    if role != "agent":
        return RoleGrant(role)
    return RoleGrant(role, frozenset().union(*(grant.units for grant in grants)))


def check_role_map(role_map: Mapping[str, RoleGrant], units: Iterable[str]) -> None:
    """Refuse a role map that names a unit the registry does not have."""
    known = set(units)
    for group, grant in role_map.items():
        unknown = sorted(grant.units - known)
        if unknown:
            raise SettingsError(
                f"{OIDC_ROLE_MAP}: group {group!r}: unit {unknown[0]!r} is not in the registry"
            )


def base_username(identity: Identity) -> str:
    """A username from the provider's name for the person (the part before any ``@``)."""
    wanted = (identity.username or "").strip().lower().split("@")[0]
    name = _NOT_IN_NAMES.sub("-", wanted).strip("._-")[:60]
    return name if USERNAME.fullmatch(name) else "user"


class IdentityService:
    """Local accounts of the people the identity provider signs in."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock

    def sign_in(
        self, identity: Identity, role_map: Mapping[str, RoleGrant], remote_addr: str | None
    ) -> User:
        """The person's account, made or updated from their groups; :class:`SignInRefused`."""
        grant = grant_for(identity.groups, role_map)
        if grant is None:
            raise SignInRefused("no_role", "the person's groups give no role here")
        try:
            return self._sign_in(identity, grant, remote_addr)
        except IntegrityError:  # a first sign-in of the same person in another request
            return self._sign_in(identity, grant, remote_addr)

    def _sign_in(self, identity: Identity, grant: RoleGrant, remote_addr: str | None) -> User:
        """One transaction: find or make the account, apply the grant, log the sign-in."""
        now = self.clock()
        with self.sessions() as session:
            repo = AccountRepository(session)
            row = repo.user_by_oidc_subject(identity.oidc_subject)
            if row is None:
                row = self._add(repo, identity, grant)
            elif not row.active:
                raise SignInRefused("disabled", "the account is disabled")
            else:
                self._apply(repo, row, identity, grant)
            record(repo, now, row.username, "login", row.username, "method=oidc", remote_addr)
            session.commit()
            return _user(row, repo.units_of(_id(row)))

    def _add(self, repo: AccountRepository, identity: Identity, grant: RoleGrant) -> UserRow:
        """A new account for the person, under a name no other account has."""
        now, name = self.clock(), _free_username(repo, base_username(identity))
        row = UserRow(
            username=name,
            display_name=_display_name(identity, name),
            password_hash=NO_PASSWORD,
            role=grant.role,
            active=True,
            created_at=now,
            password_changed_at=now,
            oidc_subject=identity.oidc_subject,
        )
        repo.add_user(row)
        repo.set_units(_id(row), sorted(grant.units))
        units = " ".join(sorted(grant.units))
        record(repo, now, ACTOR, "user.add", name, f"role={grant.role} units={units} method=oidc")
        return row

    def _apply(
        self, repo: AccountRepository, row: UserRow, identity: Identity, grant: RoleGrant
    ) -> None:
        """Role, units and display name as the provider says now (logged when they change)."""
        units = sorted(grant.units)
        row.display_name = _display_name(identity, row.username)
        if row.role == grant.role and repo.units_of(_id(row)) == units:
            return
        row.role = grant.role
        row.session_epoch += 1  # sessions carry the rights they began with: end them
        repo.set_units(_id(row), units)
        detail = f"role={grant.role} units={' '.join(units)} method=oidc"
        record(repo, self.clock(), ACTOR, "user.update", row.username, detail)


def _display_name(identity: Identity, username: str) -> str:
    """The provider's name for the person, else their username."""
    return (identity.display_name or "").strip()[:200] or username


def _free_username(repo: AccountRepository, base: str) -> str:
    """``base``, or ``base-2``, ``base-3`` ... when another account has the name."""
    for number in range(1, MAX_SUFFIX + 1):
        name = base if number == 1 else f"{base}-{number}"
        if repo.user_by_name(name) is None:
            return name
    raise SignInRefused("name_taken", f"every name from {base!r} to {base}-{MAX_SUFFIX} is taken")
