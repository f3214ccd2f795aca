"""Settings from the environment (``PHONESERVICE_*``), read when a process starts."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_CONFIG = "config/opening_hours.toml"


@dataclass(frozen=True, slots=True)
class Settings:
    """What a process needs to know about its environment."""

    config: str = DEFAULT_CONFIG

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from ``environ`` (the process environment by default)."""
        env = os.environ if environ is None else environ
        return cls(config=env.get("PHONESERVICE_CONFIG") or DEFAULT_CONFIG)
