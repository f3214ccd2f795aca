"""Settings from the environment (``PHONESERVICE_*``), read when a process starts."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from phoneservice.domain.accounts import ROLES

if TYPE_CHECKING:
    from phoneservice.pbx.connection import AmiTarget

DEFAULT_CONFIG = "config/opening_hours.toml"
DEFAULT_INSTANCE = "instance"
DATABASE_FILE = "phoneservice.sqlite3"  # the embedded database in the instance folder


class SettingsError(ValueError):
    """A setting is missing or invalid; the message names the variable."""


@dataclass(frozen=True, slots=True)
class RoleGrant:
    """What one identity-provider group gives: a role, and for agents their units."""

    role: str
    units: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class OidcSettings:
    """Sign-in through the municipality's identity provider (docs/security.md)."""

    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    role_map: Mapping[str, RoleGrant] = field(default_factory=dict)  # group -> grant
    groups_claim: str = "groups"

    @property
    def discovery_url(self) -> str:
        """Where the provider describes itself (OpenID Connect Discovery)."""
        return f"{self.issuer.rstrip('/')}/.well-known/openid-configuration"


@dataclass(frozen=True, slots=True)
class Settings:
    """What a process needs to know about its environment."""

    config: str = DEFAULT_CONFIG
    instance: Path = Path(DEFAULT_INSTANCE)
    database_url: str | None = None
    ami_url: str | None = None
    ami_secret: str | None = field(default=None, repr=False)
    queue_log: Path | None = None
    log_format: str = "text"
    secret_key: str | None = field(default=None, repr=False)
    cookie_secure: bool | None = None  # None: secure, except for run/demo on loopback
    proxies: int = 0  # reverse proxies in front whose X-Forwarded-For/-Proto are trusted
    session_hours: int = 10  # a session ends this long after sign-in, whatever happens
    session_idle_minutes: int = 60  # ... or this long after the person last did something
    login_attempt_days: int = 30  # login attempts are deleted after this many days
    audit_days: int = 730  # audit entries are deleted after this many days
    oidc: OidcSettings | None = None  # sign-in through the identity provider, if set
    worker_metrics: tuple[str, int] | None = None  # where a worker serves its own /metrics
    # Parsed from ami_url and ami_secret (again after dataclasses.replace).
    ami_targets: tuple[AmiTarget, ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Parse ``ami_url`` into the PBX targets (a bad URL is a SettingsError)."""
        if self.ami_url:
            object.__setattr__(self, "ami_targets", _targets(self.ami_url, self.ami_secret))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from ``environ`` (the process environment by default)."""
        env = os.environ if environ is None else environ
        log_format = env.get("PHONESERVICE_LOG_FORMAT", "text")
        if log_format not in ("text", "json"):
            raise SettingsError(f"PHONESERVICE_LOG_FORMAT={log_format!r}: use text or json")
        queue_log = env.get("PHONESERVICE_QUEUE_LOG")
        return cls(
            config=env.get("PHONESERVICE_CONFIG") or DEFAULT_CONFIG,
            instance=Path(env.get("PHONESERVICE_INSTANCE") or DEFAULT_INSTANCE),
            database_url=env.get("PHONESERVICE_DATABASE_URL") or None,
            ami_url=env.get("PHONESERVICE_AMI_URL") or None,
            ami_secret=_secret(env),
            queue_log=Path(queue_log) if queue_log else None,
            log_format=log_format,
            secret_key=env.get("PHONESERVICE_SECRET_KEY") or None,
            cookie_secure=_flag(env, "PHONESERVICE_COOKIE_SECURE"),
            proxies=_count(env, "PHONESERVICE_PROXIES"),
            session_hours=_number(env, "PHONESERVICE_SESSION_HOURS", 10, 1, 24),
            session_idle_minutes=_number(env, "PHONESERVICE_SESSION_IDLE_MINUTES", 60, 5, 1440),
            login_attempt_days=_number(env, "PHONESERVICE_LOGIN_ATTEMPT_DAYS", 30, 1, 3650),
            audit_days=_number(env, "PHONESERVICE_AUDIT_DAYS", 730, 30, 3650),
            oidc=_oidc(env),
            worker_metrics=_address(env, "PHONESERVICE_WORKER_METRICS"),
        )

    def require_secret_key(self) -> str:
        """The session signing key, which ``web`` and gunicorn cannot run without."""
        if not self.secret_key:
            raise SettingsError(f"PHONESERVICE_SECRET_KEY is not set: {_KEY_ADVICE}")
        return checked_secret_key(self.secret_key)

    def instance_secret_key(self) -> str:
        """``run``/``demo`` without a key: one kept in the instance folder (mode 0600, the
        folder 0700, as the embedded database in it holds citizens' numbers)."""
        if self.secret_key:
            return checked_secret_key(self.secret_key)
        self.instance.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.instance.chmod(0o700)
        path = self.instance / "secret_key"
        if not path.exists():
            path.touch(mode=0o600)
            path.write_text(secrets.token_hex(32), encoding="utf-8")
        return path.read_text(encoding="utf-8").strip()

    def database(self) -> str:
        """The database URL: ``PHONESERVICE_DATABASE_URL`` or SQLite in the instance folder."""
        if self.database_url:
            return self.database_url
        self.instance.mkdir(mode=0o700, parents=True, exist_ok=True)
        return f"sqlite:///{(self.instance / DATABASE_FILE).absolute()}"

    def has_database(self) -> bool:
        """Whether the database exists: a server, or a SQLite file already made (never made)."""
        path = self.sqlite_file()
        return path is None or path.exists()

    def sqlite_file(self) -> Path | None:
        """The SQLite file of the database (the instance's by default); None for a server."""
        url = self.database_url
        if not url:
            return self.instance / DATABASE_FILE
        scheme, _, rest = url.partition("://")
        if scheme.split("+")[0] != "sqlite":
            return None
        name = rest[1:].split("?")[0]  # sqlite:///relative or sqlite:////absolute
        return Path(name) if name and name != ":memory:" else None


def _targets(url: str, secret: str | None) -> tuple[AmiTarget, ...]:
    """The PBXs of ``PHONESERVICE_AMI_URL`` (the parser is imported only when one is set)."""
    from phoneservice.pbx.connection import parse_targets

    try:
        return tuple(parse_targets(url, secret or ""))
    except ValueError as exc:  # the message starts with the variable's name
        raise SettingsError(str(exc)) from exc


MIN_KEY_BYTES = 32
_KEY_ADVICE = (
    f"sessions need at least {MIN_KEY_BYTES} random bytes"
    " (e.g. python3 -c 'import secrets; print(secrets.token_hex(32))')"
)
# Words of example files and tutorials: a key that holds one was copied, not made.
_PLACEHOLDERS = ("changeme", "changethis", "placeholder", "yoursecret", "secretkey", "example")


def checked_secret_key(key: str) -> str:
    """``key`` if it can sign sessions: long enough, and not a placeholder copied from a file."""
    size = len(key.encode("utf-8"))
    if size < MIN_KEY_BYTES:
        raise SettingsError(f"PHONESERVICE_SECRET_KEY has {size} bytes: {_KEY_ADVICE}")
    folded = "".join(c for c in key.lower() if c.isalnum())
    if any(word in folded for word in _PLACEHOLDERS):
        raise SettingsError(f"PHONESERVICE_SECRET_KEY is a placeholder: {_KEY_ADVICE}")
    return key


def _count(env: Mapping[str, str], name: str) -> int:
    """A small non-negative number; 0 when it is not set."""
    value = env.get(name, "").strip() or "0"
    if not value.isdigit() or int(value) > 10:
        raise SettingsError(f"{name}={value!r}: use a number from 0 to 10")
    return int(value)


def _number(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    """A whole number from ``low`` to ``high``; ``default`` when it is not set."""
    value = env.get(name, "").strip()
    if not value:
        return default
    if not (value.isascii() and value.isdigit()) or not low <= int(value) <= high:
        raise SettingsError(f"{name}={value!r}: use a whole number from {low} to {high}")
    return int(value)


def _address(env: Mapping[str, str], name: str) -> tuple[str, int] | None:
    """A ``host:port`` to listen on (``[::1]:9463`` for IPv6); None when it is not set."""
    value = env.get(name, "").strip()
    if not value:
        return None
    host, colon, port = value.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    number = int(port) if port.isascii() and port.isdigit() else 0
    if not colon or not host or not 0 < number < 65536:
        raise SettingsError(f"{name}={value!r}: use host:port, for example 127.0.0.1:9463")
    return host, number


def _flag(env: Mapping[str, str], name: str) -> bool | None:
    """A yes/no setting; None when it is not set."""
    value = env.get(name, "").strip().lower()
    if not value:
        return None
    if value not in _FLAGS:
        raise SettingsError(f"{name}={value!r}: use 1 or 0")
    return _FLAGS[value]


_FLAGS = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}


def _secret(env: Mapping[str, str]) -> str | None:
    """The AMI secret, from the environment or from the file it names (never logged)."""
    if env.get("PHONESERVICE_AMI_SECRET"):
        return env["PHONESERVICE_AMI_SECRET"]
    path = env.get("PHONESERVICE_AMI_SECRET_FILE")
    if not path:
        return None
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise SettingsError(f"PHONESERVICE_AMI_SECRET_FILE: cannot read {path}: {exc}") from exc


OIDC_ISSUER = "PHONESERVICE_OIDC_ISSUER"
OIDC_CLIENT_ID = "PHONESERVICE_OIDC_CLIENT_ID"
OIDC_SECRET_FILE = "PHONESERVICE_OIDC_CLIENT_SECRET_FILE"  # noqa: S105 (a name)
OIDC_ROLE_MAP = "PHONESERVICE_OIDC_ROLE_MAP"
OIDC_GROUPS_CLAIM = "PHONESERVICE_OIDC_GROUPS_CLAIM"
_OIDC_REQUIRED = (OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_SECRET_FILE, OIDC_ROLE_MAP)
_LOOPBACK = ("127.0.0.1", "::1", "localhost")


def _oidc(env: Mapping[str, str]) -> OidcSettings | None:
    """Sign-in through the identity provider: all four settings, or none of them."""
    given = {name: env.get(name, "").strip() for name in _OIDC_REQUIRED}
    if not any(given.values()):
        return None
    for name, value in given.items():
        if not value:
            raise SettingsError(
                f"{name} is not set: the identity provider needs all of {', '.join(_OIDC_REQUIRED)}"
            )
    return OidcSettings(
        issuer=_issuer(given[OIDC_ISSUER]),
        client_id=given[OIDC_CLIENT_ID],
        client_secret=_secret_file(OIDC_SECRET_FILE, given[OIDC_SECRET_FILE]),
        role_map=parse_role_map(given[OIDC_ROLE_MAP]),
        groups_claim=env.get(OIDC_GROUPS_CLAIM, "").strip() or "groups",
    )


def _issuer(url: str) -> str:
    """The issuer URL: https (plain http only on loopback, for tests), no query or fragment."""
    parts = urlsplit(url)
    loopback = parts.scheme == "http" and parts.hostname in _LOOPBACK
    if not (parts.scheme == "https" or loopback) or not parts.hostname:
        raise SettingsError(f"{OIDC_ISSUER}={url!r}: use the provider's https:// issuer URL")
    if parts.query or parts.fragment:
        raise SettingsError(f"{OIDC_ISSUER}={url!r}: an issuer has no query or fragment")
    return url


def _secret_file(name: str, path: str) -> str:
    """A secret read from the file ``path`` (never logged); an empty file is refused."""
    try:
        secret = Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise SettingsError(f"{name}: cannot read {path}: {exc.strerror}") from exc
    if not secret:
        raise SettingsError(f"{name}: {path} is empty")
    return secret


def parse_role_map(text: str) -> dict[str, RoleGrant]:
    """``{"group": {"role": "agent", "units": ["unit", ...]}, ...}`` as grants by group."""
    try:
        found = json.loads(text)
    except ValueError as exc:
        raise SettingsError(f"{OIDC_ROLE_MAP}: not JSON: {exc}") from exc
    if not isinstance(found, dict) or not found:
        raise SettingsError(f"{OIDC_ROLE_MAP}: use a JSON object of group to role")
    return {str(group): _grant(str(group), entry) for group, entry in found.items()}


def _grant(group: str, entry: object) -> RoleGrant:
    """One group's grant; units belong to agents only."""
    where = f"{OIDC_ROLE_MAP}: group {group!r}"
    if not group.strip() or not isinstance(entry, dict):
        raise SettingsError(f'{where}: use {{"role": "...", "units": [...]}}')
    if set(entry) - {"role", "units"}:
        raise SettingsError(f"{where}: unknown keys {sorted(set(entry) - {'role', 'units'})}")
    role, units = entry.get("role"), entry.get("units", [])
    if role not in ROLES:
        raise SettingsError(f"{where}: role {role!r}: use one of {', '.join(ROLES)}")
    if not isinstance(units, list) or not all(isinstance(u, str) and u for u in units):
        raise SettingsError(f"{where}: units must be a list of unit ids")
    if units and role != "agent":
        raise SettingsError(f"{where}: only agents have units ({role} sees {_SEES[role]})")
    return RoleGrant(str(role), frozenset(units))


_SEES = {"viewer": "no numbers", "admin": "every unit"}
