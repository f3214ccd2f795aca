"""The phone-hours registry: the only code that knows the TOML shape of the file.

``load_registry`` validates the whole file at once and builds domain objects; every
problem names the file, the line, the key path and the value.
"""

from __future__ import annotations

import re
import tomllib
from datetime import date
from pathlib import Path as FsPath

from phoneservice.registry.calendars import read_calendars, read_callbacks, read_pbx, read_registry
from phoneservice.registry.checker import Checker
from phoneservice.registry.holidays_source import holiday_source
from phoneservice.registry.lines import LineIndex
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

TOP_KEYS = ("registry", "calendar", "callbacks", "pbx", "unit")
_TOML_POSITION = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)")
_TOML_HINTS = {
    "Invalid value": "text must be in quotes, dates are written YYYY-MM-DD",
    "Cannot overwrite a value": "the key is given twice",
    "Cannot declare": "the table is written twice",
}


def load_registry(path: str | FsPath, today: date) -> Registry:
    """Read and validate a registry file; :class:`ConfigError` lists every error."""
    name = str(path)
    try:
        data = FsPath(path).read_bytes()
    except OSError as exc:
        raise ConfigError([Problem(name, None, (), MISSING, _read_error(exc))]) from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        bad = data[exc.start : exc.end].hex(" ")
        raise ConfigError(
            [
                Problem(
                    name,
                    line,
                    (),
                    MISSING,
                    f"is not UTF-8 text: byte(s) {bad} cannot be decoded (save the file as UTF-8)",
                )
            ]
        ) from exc
    return parse_registry(text, name, today)


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
    """Validate registry text that came from the file ``name``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([_syntax_problem(name, text, exc)]) from exc
    ck = Checker(name, LineIndex(text), today)
    registry = _build(ck, data, name)
    if ck.errors():
        raise ConfigError(ck.sorted_problems())
    return registry


def _syntax_problem(name: str, text: str, exc: tomllib.TOMLDecodeError) -> Problem:
    """A TOML syntax error, with the line (and column) the parser reported."""
    message = str(exc)
    match = _TOML_POSITION.search(message)
    line: int | None = None
    column = ""
    if match and match.group(1):
        line, column = int(match.group(1)), f" at column {match.group(2)}"
    elif match:
        line = text.count("\n") + 1 if text else None
    detail = _TOML_POSITION.sub("", message).strip()
    hint = next((h for start, h in _TOML_HINTS.items() if detail.startswith(start)), None)
    more = f" ({hint})" if hint else ""
    return Problem(name, line, (), MISSING, f"is not valid TOML{column}: {detail}{more}")


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
    title, tz, verified = read_registry(ck, data.get("registry"))
    calendars = read_calendars(ck, data.get("calendar"), holiday_source)
    units = read_units(ck, data.get("unit"), calendars, tz)
    return Registry(
        path=name,
        name=title,
        timezone=tz,
        units={u.id: u for u in units},
        calendars=calendars,
        callbacks=read_callbacks(ck, data.get("callbacks")),
        pbx=read_pbx(ck, data.get("pbx")),
        verified=verified,
        warnings=tuple(p for p in ck.sorted_problems() if p.severity == "warning"),
    )
