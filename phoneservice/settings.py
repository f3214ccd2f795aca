"""Settings from the environment (``PHONESERVICE_*``), read when a process starts."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_CONFIG = "config/opening_hours.toml"
DEFAULT_INSTANCE = "instance"


class SettingsError(ValueError):
    """A setting is missing or invalid; the message names the variable."""


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
        )

    def database(self) -> str:
        """The database URL: ``PHONESERVICE_DATABASE_URL`` or SQLite in the instance folder."""
        if self.database_url:
            return self.database_url
        self.instance.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{(self.instance / 'phoneservice.sqlite3').absolute()}"


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
