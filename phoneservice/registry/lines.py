"""Find the line of a key path in TOML text (``tomllib`` does not report positions).

The index is built only for text that ``tomllib`` has accepted, so the scanner can be
simple: it follows strings, comments and brackets well enough to know whether a line
starts a new key or table, or continues a value begun on an earlier line. The elements
of an array value get the line they are written on, so an error in the third line of
a multi-line ``closed = [...]`` points at that line.
"""

from __future__ import annotations

import re

from phoneservice.registry.problems import Path

_BARE = r"[A-Za-z0-9_-]+"
_QUOTED = r'"(?:[^"\\]|\\.)*"|\'[^\']*\''
_KEY = rf"(?:{_QUOTED}|{_BARE})"
_DOTTED = rf"{_KEY}(?:[ \t]*\.[ \t]*{_KEY})*"
_HEADER = re.compile(rf"^[ \t]*(\[\[?)[ \t]*({_DOTTED})[ \t]*\]\]?")
_ASSIGN = re.compile(rf"^[ \t]*({_DOTTED})[ \t]*=")
_PART = re.compile(_KEY)


def _split_key(dotted: str) -> list[str]:
    """Split a dotted TOML key into its parts, unquoting each."""
    return [p.strip("\"'") for p in _PART.findall(dotted)]


class _Value:
    """Follows one value across lines: strings, brackets and the elements of an array."""

    def __init__(self, path: Path, lines: dict[Path, int]) -> None:
        self.path = path
        self.lines = lines
        self.string: str | None = None
        self.depth = 0
        self.array = False
        self.element = 0
        self.expecting = False

    def done(self) -> bool:
        """Whether the value has ended."""
        return self.string is None and self.depth == 0

    def feed(self, line: str, number: int, start: int) -> None:
        """Scan ``line`` from ``start``."""
        i, n = start, len(line)
        while i < n:
            if self.string is not None:
                i = self._in_string(line, i)
                continue
            char = line[i]
            if char == "#":
                break
            if self.depth == 1 and self.array and self.expecting and char not in " \t,]":
                self.lines.setdefault((*self.path, self.element), number)
                self.expecting = False
            if line.startswith(('"""', "'''"), i):
                self.string, i = line[i : i + 3], i + 3
                continue
            if char in "\"'":
                self.string = char
            elif char in "[{":
                if self.depth == 0 and char == "[":
                    self.array, self.expecting = True, True
                self.depth += 1
            elif char in "]}":
                self.depth = max(0, self.depth - 1)
            elif char == "," and self.depth == 1 and self.array:
                self.element += 1
                self.expecting = True
            i += 1
        if self.string in ('"', "'"):
            self.string = None  # a one-line string cannot go on past the line

    def _in_string(self, line: str, i: int) -> int:
        """Scan inside a string from ``i``; return where to go on."""
        quote = self.string or '"'
        if quote[0] == '"' and line[i] == "\\":
            return i + 2
        if line.startswith(quote, i):
            i += len(quote)
            if len(quote) == 3:  # up to two more quotes belong to the content
                extra = 0
                while i < len(line) and line[i] == quote[0] and extra < 2:
                    i, extra = i + 1, extra + 1
            self.string = None
            return i
        return i + 1


class LineIndex:
    """Maps key paths to the line where they are written."""

    def __init__(self, text: str) -> None:
        self._lines: dict[Path, int] = {}
        self._arrays: dict[Path, int] = {}
        self._index(text)

    def line_of(self, path: Path) -> int | None:
        """The line of ``path``, or of its nearest written ancestor."""
        for end in range(len(path), 0, -1):
            line = self._lines.get(path[:end])
            if line is not None:
                return line
        return None

    def _index(self, text: str) -> None:
        """Walk the text once, tracking the current table and array indexes."""
        current: Path = ()
        value: _Value | None = None
        for number, line in enumerate(text.split("\n"), start=1):
            if value is not None and not value.done():
                value.feed(line, number, 0)
                continue
            header = _HEADER.match(line)
            if header:
                current = self._enter(header.group(1) == "[[", _split_key(header.group(2)))
                self._lines.setdefault(current, number)
                value = None
                continue
            assign = _ASSIGN.match(line)
            if assign:
                path = (*current, *_split_key(assign.group(1)))
                self._lines.setdefault(path, number)
                value = _Value(path, self._lines)
                value.feed(line, number, assign.end())

    def _enter(self, is_array: bool, parts: list[str]) -> Path:
        """The path of a table header, resolving arrays of tables to their latest index."""
        path: Path = ()
        for position, part in enumerate(parts):
            path = (*path, part)
            last = position == len(parts) - 1
            if last and is_array:
                index = self._arrays.get(path, -1) + 1
                self._arrays[path] = index
                path = (*path, index)
            elif path in self._arrays:
                path = (*path, self._arrays[path])
        return path


def unclosed_line(text: str) -> int | None:
    """The line where a value begins that is still open at the end of ``text``, if any."""
    value: _Value | None = None
    began = 0
    for number, line in enumerate(text.split("\n"), start=1):
        if value is not None and not value.done():
            value.feed(line, number, 0)
            continue
        assign = _ASSIGN.match(line)
        if assign and not _HEADER.match(line):
            value, began = _Value((), {}), number
            value.feed(line, number, assign.end())
    return began if value is not None and not value.done() else None
