"""The phone-hours registry: the only code that knows the TOML shape of the file.

``load_registry`` validates the whole file at once and builds domain objects; every
problem names the file, the line, the key path and the value.
"""

from __future__ import annotations

import re
import tomllib
from datetime import date
from pathlib import Path as FsPath

from phoneservice.registry.calendars import (
    calendar_country,
    read_calendars,
    read_callbacks,
    read_pbx,
    read_registry,
)
from phoneservice.registry.checker import Checker
from phoneservice.registry.goals import read_goals
from phoneservice.registry.holidays_source import country_code, holiday_source
from phoneservice.registry.lines import LineIndex, unclosed_line
from phoneservice.registry.model import (
    CallbackSettings,
    PbxSettings,
    Registry,
    UnknownUnitError,
)
from phoneservice.registry.problems import MISSING, ConfigError, Problem
from phoneservice.registry.units import read_units

__all__ = [
    "CallbackSettings",
    "ConfigError",
    "PbxSettings",
    "Problem",
    "Registry",
    "UnknownUnitError",
    "load_registry",
    "parse_registry",
]

TOP_KEYS = ("registry", "calendar", "callbacks", "pbx", "goals", "unit")
_TOML_POSITION = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)")
_TOML_HINTS = {
    "Invalid value": "text must be in quotes, dates are written YYYY-MM-DD",
    "Invalid date": "dates are written YYYY-MM-DD and must exist",
    "Expected newline or end of document": "one key = value per line; is the value mistyped?",
    "Cannot overwrite a value": "the key is given twice",
    "Cannot declare": "the table is written twice",
}


def load_registry(path: str | FsPath, today: date) -> Registry:
    """Read and validate a registry file; :class:`ConfigError` lists every error."""
    name = str(path)
    try:
        data = FsPath(path).read_bytes()
    except OSError as exc:
        raise _failure(name, None, _read_error(exc)) from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        bad = data[exc.start : exc.end].hex(" ")
        message = f"is not UTF-8 text: byte(s) {bad} cannot be decoded (save the file as UTF-8)"
        raise _failure(name, line, message) from exc
    return parse_registry(text, name, today)


def _failure(name: str, line: int | None, message: str) -> ConfigError:
    """The error for a file that cannot be read or parsed at all."""
    return ConfigError([Problem(name, line, (), MISSING, message)])


def _read_error(exc: OSError) -> str:
    """Why a file cannot be read, in words."""
    if isinstance(exc, FileNotFoundError):
        return "cannot be read: no such file"
    if isinstance(exc, IsADirectoryError):
        return "cannot be read: it is a directory, not a file"
    if isinstance(exc, PermissionError):
        return "cannot be read: permission denied"
    return f"cannot be read: {exc.strerror or exc}"


def parse_registry(text: str, name: str, today: date) -> Registry:
    """Validate registry text that came from the file ``name``.

    A byte-order mark (Windows editors write one) is ignored.
    """
    text = text.removeprefix("\ufeff")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(name, text, exc) from exc
    except RecursionError as exc:
        message = "is not valid TOML: arrays or tables are nested too deeply"
        raise _failure(name, None, message) from exc
    ck = Checker(name, LineIndex(text), today)
    registry = _build(ck, data, name)
    if ck.errors():
        raise ConfigError(ck.sorted_problems())
    return registry


def _syntax_error(name: str, text: str, exc: tomllib.TOMLDecodeError) -> ConfigError:
    """A TOML syntax error, with the line (and column) the parser reported.

    When the parser only notices at the end of the file (an unclosed array or string),
    the line is where that value began.
    """
    message = str(exc)
    match = _TOML_POSITION.search(message)
    detail = _TOML_POSITION.sub("", message).strip()
    hints = [h for start, h in _TOML_HINTS.items() if detail.startswith(start)]
    line: int | None = None
    where = ""
    opened = None
    if match and match.group(1) and detail.startswith("Unclosed"):
        opened = unclosed_line("\n".join(text.split("\n")[: int(match.group(1)) - 1]))
    if opened is not None:
        line = opened
        hints.append("the value that starts on this line is never closed")
    elif match and match.group(1):
        line, where = int(match.group(1)), f" at column {match.group(2)}"
    elif match:
        line = unclosed_line(text)
        if line is not None:
            hints.append("the value that starts on this line is never closed")
        else:
            line = text.count("\n") + 1
    more = f" ({'; '.join(hints)})" if hints else ""
    return _failure(name, line, f"is not valid TOML{where}: {detail}{more}")


def _build(ck: Checker, data: dict[str, object], name: str) -> Registry:
    """Read every table, recording problems as they are found."""
    for key in data:
        if key not in TOP_KEYS:
            what = "table" if isinstance(data[key], dict | list) else "key"
            ck.error(
                (key,),
                MISSING,
                f"is not a known {what}{ck.suggest(key, TOP_KEYS)} "
                f"(allowed: {', '.join(f'[{k}]' for k in TOP_KEYS[:-1])}, [[unit]])",
            )
    if "registry" not in data:
        ck.error(
            ("registry",),
            MISSING,
            "is required: the file must have a [registry] table with name and timezone",
        )
    header = read_registry(ck, data.get("registry"))
    calendars = read_calendars(ck, data.get("calendar"), holiday_source)
    goals = read_goals(ck, data.get("goals"), ("goals",))
    units = read_units(
        ck, data.get("unit"), calendars, header.timezone, header.verify_after_days, goals
    )
    return Registry(
        path=name,
        name=header.name,
        timezone=header.timezone,
        units={u.id: u for u in units},
        calendars=calendars,
        callbacks=read_callbacks(ck, data.get("callbacks")),
        pbx=read_pbx(ck, data.get("pbx")),
        verified=header.verified,
        verify_after_days=header.verify_after_days,
        country=country_code(calendar_country(data.get("calendar"))),
        goals=goals,
        warnings=tuple(p for p in ck.sorted_problems() if p.severity == "warning"),
    )
