"""Configuration problems that name the file, the line, the key path and the value."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Final

Path = tuple[str | int, ...]
MAX_VALUE = 72
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+", re.ASCII)


class _Missing:
    """Marks a problem about a key that is absent, so there is no value to show."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()


def format_path(path: Path) -> str:
    """``("unit", 3, "hours", "mon", 0)`` → ``unit[3].hours.mon[0]``; ``()`` → ``""``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            key = part if _BARE_KEY.fullmatch(part) else json.dumps(part, ensure_ascii=False)
            text += f".{key}" if text else key
    return text


def format_value(value: object) -> str:
    """A value as it would be written in TOML-ish JSON, for error messages.

    Long values (a whole table written under a wrong name) are cut short: the line number
    already shows where they are.
    """
    if isinstance(value, date):
        text = value.isoformat()
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, default=str)
        except (TypeError, ValueError, RecursionError):
            text = repr(value)
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


@dataclass(frozen=True, slots=True)
class Problem:
    """One error or warning found while loading the registry."""

    file: str
    line: int | None
    path: Path
    value: object
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        tag = "" if self.severity == "error" else f"{self.severity}: "
        shown = "" if self.value is MISSING else f"{format_value(self.value)} "
        key = format_path(self.path)
        subject = f"{key}: " if key else ""
        return f"{where}: {tag}{subject}{shown}{self.message}"


class ConfigError(Exception):
    """The registry file is invalid; ``problems`` lists every error found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
