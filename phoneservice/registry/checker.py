"""Typed reading of parsed TOML that records every problem instead of stopping at one."""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import TypeVar

from phoneservice.registry.lines import LineIndex
from phoneservice.registry.problems import MISSING, Path, Problem

T = TypeVar("T")
Table = Mapping[str, object]


class Checker:
    """Collects errors and warnings, each located by key path in the file."""

    def __init__(self, file: str, index: LineIndex, today: date) -> None:
        self.file = file
        self.index = index
        self.today = today
        self.problems: list[Problem] = []

    def error(self, path: Path, value: object, message: str) -> None:
        """Record an error at ``path``."""
        self._add(path, value, message, "error")

    def warn(self, path: Path, value: object, message: str) -> None:
        """Record a warning at ``path``."""
        self._add(path, value, message, "warning")

    def _add(self, path: Path, value: object, message: str, severity: str) -> None:
        """Record one problem with its line."""
        line = self.index.line_of(path)
        self.problems.append(Problem(self.file, line, path, value, message, severity))

    def errors(self) -> list[Problem]:
        """The errors found so far."""
        return [p for p in self.problems if p.severity == "error"]

    def sorted_problems(self) -> list[Problem]:
        """Every problem in the order of the file (problems without a line first)."""
        return sorted(self.problems, key=lambda p: p.line or 0)

    @staticmethod
    def suggest(key: str, allowed: Iterable[str]) -> str:
        """``: did you mean "hours"?`` for a near miss, else nothing."""
        close = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.6)
        return f': did you mean "{close[0]}"?' if close else ""

    def table(self, value: object, path: Path, keys: Mapping[str, bool]) -> Table | None:
        """Check that ``value`` is a table with only ``keys`` (True = required)."""
        if not isinstance(value, dict):
            self.error(path, value, "must be a table")
            return None
        for key in value:
            if key not in keys:
                self.error(
                    (*path, key),
                    MISSING,
                    f"is not a known key{self.suggest(key, keys)} (allowed: {', '.join(keys)})",
                )
        for key, required in keys.items():
            if required and key not in value:
                self.error((*path, key), MISSING, "is required")
        return value

    def get(
        self, table: Table, key: str, path: Path, kind: type[T], default: T | None = None
    ) -> T | None:
        """``table[key]`` if it has the right type; a problem otherwise."""
        if key not in table:
            return default
        value = table[key]
        if not _is_kind(value, kind):
            quoted = " (without quotes)" if isinstance(value, str) and kind in (int, bool) else ""
            name = _KIND_NAMES.get(kind, kind.__name__)
            self.error((*path, key), value, f"must be {name}{quoted}")
            return default
        return value  # type: ignore[return-value]

    def text(self, table: Table, key: str, path: Path, default: str | None = None) -> str | None:
        """A non-empty string value."""
        value = self.get(table, key, path, str, default)
        if value is not None and not value.strip():
            self.error((*path, key), value, "must not be empty")
            return default
        return value

    def choice(
        self,
        table: Table,
        key: str,
        path: Path,
        choices: tuple[str, ...],
        default: str | None = None,
    ) -> str | None:
        """A string that must be one of ``choices``."""
        value = self.get(table, key, path, str, default)
        if value is not None and value not in choices:
            self.error((*path, key), value, f"must be one of: {', '.join(choices)}")
            return default
        return value

    def strings(self, table: Table, key: str, path: Path) -> list[str]:
        """A list of strings (empty when absent)."""
        value = table.get(key, [])
        if not isinstance(value, list):
            example = json.dumps([value] if isinstance(value, str) else ["..."], ensure_ascii=False)
            self.error((*path, key), value, f"must be a list of strings, e.g. {example}")
            return []
        result = []
        for n, item in enumerate(value):
            if isinstance(item, str):
                result.append(item)
            else:
                self.error((*path, key, n), item, f"must be a string in {_QUOTES}")
        return result

    def parsed(self, path: Path, value: object, parser: Callable[[str], T]) -> T | None:
        """Run a text parser on a string value, recording its message on failure."""
        if value is None:
            self.error(path, MISSING, "is required")
            return None
        if not isinstance(value, str):
            self.error(path, value, f"must be a string in {_QUOTES}")
            return None
        try:
            return parser(value)
        except ValueError as exc:
            self.error(path, value, str(exc))
            return None


_QUOTES = '"quotes"'
_KIND_NAMES = {
    str: f"a string in {_QUOTES}",
    int: "a whole number",
    list: "a list",
    dict: "a table",
    date: "a date (YYYY-MM-DD, unquoted)",
    bool: "true or false",
}


def _is_kind(value: object, kind: type) -> bool:
    """Type check that keeps bool out of int and datetime out of date."""
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is date:
        return isinstance(value, date) and not isinstance(value, datetime)
    return isinstance(value, kind)
