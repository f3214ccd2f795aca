"""A small evaluator of the Asterisk dialplan rules the shipped dialplan relies on.

Enough of Asterisk to run ``deploy/asterisk/extensions.conf`` and the contexts that
``phoneservice export asterisk`` writes, with the same text rules:

- ``#include`` of a missing file refuses the whole dialplan; ``#tryinclude`` skips it.
- Application data is substituted before the application runs: ``${...}`` (variables,
  ``LOCAL()`` and functions, inner ``${`` first, the function's argument text reaching
  from the first ``(`` to the last ``)``) and ``$[...]`` (an expression over the text the
  substitution left). Whatever a variable holds lands in the expression as raw text.
- In an expression, ``"…"`` is one string token without its quotes (it ends at the next
  ``"``), blanks separate tokens, and ``= != | & ( )`` are operators. Text that does not
  parse as an expression (two operands side by side, an unclosed quote) raises
  :class:`ExpressionError`: Asterisk gives no clean comparison result then (a JSON
  body with quotes made the old test come out true on Asterisk 22.10.1).
- Function arguments are split at commas outside quotes and parentheses, quotes removed;
  the last argument takes the rest. ``FILTER(chars,text)`` keeps the characters of
  ``chars`` (``a-z`` ranges included).
- ``GotoIf(cond?a:b)`` is true for a non-empty condition other than ``0``;
  ``GotoIfTime(times,weekdays,mdays,months,tz?label)`` with inclusive ranges.
- ``CURL(url)`` answers from the test's ``http`` callable as ``(status, body)``; a status
  listed in ``CURLOPT(failurecodes)`` gives an empty answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

Http = Callable[[str], tuple[int, str]]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_OPERATORS = ("!=", "=", "|", "&", "(", ")")


class ConfigError(Exception):
    """Asterisk would refuse to load this dialplan."""


class ExpressionError(Exception):
    """A ``$[...]`` whose text is not a clean expression."""


@dataclass
class Priority:
    """One line of an extension: its application and data."""

    app: str
    data: str


@dataclass
class Dialplan:
    """Contexts → extensions → priorities (1-based), their labels, and [globals]."""

    contexts: dict[str, dict[str, list[Priority]]] = field(default_factory=dict)
    labels: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)
    globals: dict[str, str] = field(default_factory=dict)


def load(text: str, files: Mapping[str, str]) -> Dialplan:
    """Parse a dialplan; ``files`` are the other files in /etc/asterisk, by name."""
    plan = Dialplan()
    _parse(text, files, plan, ["", ""])
    return plan


def _parse(text: str, files: Mapping[str, str], plan: Dialplan, where: list[str]) -> None:
    """Add the lines of one file; ``where`` is [context, extension] carried across files."""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#"):
            directive, _, name = line.partition(" ")
            name = name.strip().strip('"')
            if name in files:
                _parse(files[name], files, plan, where)
            elif directive == "#include":
                raise ConfigError(f"#include of missing {name}: the dialplan is not loaded")
            continue
        line = re.split(r"(?<!\\);", raw, maxsplit=1)[0].strip()
        if not line:
            continue
        if re.fullmatch(r"\[[\w-]+\]", line):
            where[0] = line[1:-1]
            plan.contexts.setdefault(where[0], {})
        elif where[0] == "globals":
            name, _, value = line.partition("=")
            plan.globals[name.strip()] = value.strip()
        else:
            _add_priority(line, plan, where)


def _add_priority(line: str, plan: Dialplan, where: list[str]) -> None:
    """``exten => X,1,App(data)`` or ``same => n(label),App(data)``."""
    kind, _, rest = line.partition("=>")
    rest = rest.strip()
    if kind.strip() == "exten":
        exten, priority, rest = rest.split(",", 2)
        if priority != "1":
            raise ConfigError(f"only priority 1 starts an extension here: {line}")
        where[1] = exten
        plan.contexts[where[0]][exten] = []
    else:
        head, _, rest = rest.partition(",")
        label = re.fullmatch(r"n\((\w+)\)", head)
        if label is None and head != "n":
            raise ConfigError(f"unexpected priority {head!r}")
        lines = plan.contexts[where[0]][where[1]]
        if label is not None:
            plan.labels.setdefault((where[0], where[1]), {})[label[1]] = len(lines) + 1
    app, _, data = rest.partition("(")
    if not data.endswith(")"):
        raise ConfigError(f"unclosed application data: {line}")
    plan.contexts[where[0]][where[1]].append(Priority(app.strip(), data[:-1]))


@dataclass
class Frame:
    """Where a Gosub runs, and its LOCAL() variables (ARGn among them)."""

    context: str
    exten: str
    priority: int
    local: dict[str, str] = field(default_factory=dict)


@dataclass
class Channel:
    """One call running through the dialplan: what it did, and what it left behind."""

    plan: Dialplan
    http: Http = lambda url: (200, "")
    now: datetime = field(default_factory=lambda: datetime.now(ZoneInfo("UTC")))
    dial: Callable[[str], str] = lambda target: "ANSWER"
    variables: dict[str, str] = field(default_factory=dict)
    curlopts: dict[str, str] = field(default_factory=dict)
    db: dict[str, str] = field(default_factory=dict)
    apps: list[tuple[str, str]] = field(default_factory=list)  # (context, application data)
    contexts: list[str] = field(default_factory=list)  # every context entered, in order
    dialled: list[str] = field(default_factory=list)
    hangup_handlers: list[str] = field(default_factory=list)
    stack: list[Frame] = field(default_factory=list)

    def run(self, context: str, exten: str, args: tuple[str, ...] = ()) -> None:
        """Run from ``context,exten,1`` until the call hangs up, then its hangup handlers."""
        self._enter(context, exten, 1, args)
        while self.stack:
            self._step()
        for handler in reversed(self.hangup_handlers):
            self.gosub(handler)

    def gosub(self, target: str) -> None:
        """Run ``ctx,exten,prio(args)`` to its Return()."""
        depth = len(self.stack)
        self._gosub(target)
        while len(self.stack) > depth:
            self._step()

    def _step(self) -> None:
        """Run the current priority of the innermost frame."""
        frame = self.stack[-1]
        lines = self.plan.contexts[frame.context][self._match(frame.context, frame.exten)]
        if frame.priority > len(lines):
            self.stack.clear()  # ran off the end: the call hangs up
            return
        line = lines[frame.priority - 1]
        frame.priority += 1
        data = self.substitute(line.data)
        self.apps.append((frame.context, f"{line.app}({data})"))
        getattr(self, f"_app_{line.app.lower()}", self._app_noop)(data)

    def _enter(self, context: str, exten: str, priority: int, args: tuple[str, ...]) -> None:
        if context not in self.plan.contexts:
            raise LookupError(f"no context {context}")
        self._match(context, exten)
        local = {f"ARG{n}": value for n, value in enumerate(args, 1)}
        self.stack.append(Frame(context, exten, priority, local))
        self.contexts.append(context)

    def _match(self, context: str, exten: str) -> str:
        """The extension of ``context`` that ``exten`` matches (exact, then _patterns)."""
        extens = self.plan.contexts[context]
        if exten in extens:
            return exten
        for pattern in extens:
            if pattern.startswith("_") and _pattern(pattern[1:]).fullmatch(exten):
                return pattern
        raise LookupError(f"extension {exten} does not exist in {context}")

    def _label(self, name: str) -> int:
        frame = self.stack[-1]
        exten = self._match(frame.context, frame.exten)
        return self.plan.labels[(frame.context, exten)][name]

    # --- substitution ------------------------------------------------------------

    def substitute(self, text: str) -> str:
        """``${...}`` and ``$[...]`` replaced, inner ones first, as Asterisk does."""
        out, i = [], 0
        while i < len(text):
            if text.startswith("${", i) or text.startswith("$[", i):
                opener, closer = ("{", "}") if text[i + 1] == "{" else ("[", "]")
                end, depth = i + 2, 1
                while depth and end < len(text):
                    depth += {opener: 1, closer: -1}.get(text[end], 0)
                    end += 1
                if depth:
                    raise ExpressionError(f"unclosed {text[i : i + 2]} in {text!r}")
                inner = self.substitute(text[i + 2 : end - 1])
                out.append(self._value(inner) if opener == "{" else evaluate(inner))
                i = end
            else:
                out.append(text[i])
                i += 1
        return "".join(out)

    def _value(self, name: str) -> str:
        """A variable, or a function's result."""
        if "(" in name:
            function, args = name.split("(", 1)
            return self._function(function, args[: args.rindex(")")])
        name, offset = [*name.split(":", 1), ""][:2]
        value = self._variable(name)
        return value[int(offset) :] if offset else value

    def _variable(self, name: str) -> str:
        for frame in reversed(self.stack[-1:]):
            if name in frame.local:
                return frame.local[name]
        if name == "EXTEN":
            return self.stack[-1].exten
        return self.variables.get(name, self.plan.globals.get(name, ""))

    def _function(self, name: str, args: str) -> str:
        if name == "LOCAL":
            return self.stack[-1].local.get(args, "")
        if name == "CURL":
            status, body = self.http(args)
            failures = {c.strip() for c in self.curlopts.get("failurecodes", "").split(",")}
            return "" if str(status) in failures else body
        if name == "FILTER":
            allowed, string = split_args(args, 2)
            return "".join(c for c in string if c in _charset(allowed))
        if name == "DIALPLAN_EXISTS":
            context, exten, _priority = split_args(args, 3)
            return "1" if self._exists(context, exten) else "0"
        if name == "DB":
            return self.db.get(args, "")
        raise LookupError(f"function {name} is not modelled")

    def _exists(self, context: str, exten: str) -> bool:
        try:
            self._match(context, exten)
        except LookupError:
            return False
        return True

    # --- applications ------------------------------------------------------------

    def _app_noop(self, data: str) -> None:
        """NoOp, Answer, Log, Queue, Playback: recorded in ``apps`` only."""

    def _app_set(self, data: str) -> None:
        name, _, value = data.partition("=")
        function = re.fullmatch(r"(\w+)\((.*)\)", name)
        if function is None:
            self.variables[name] = value
        elif function[1] == "LOCAL":
            self.stack[-1].local[function[2]] = value
        elif function[1] == "CURLOPT":
            self.curlopts[function[2]] = value
        elif function[1] == "DB":
            self.db[function[2]] = value
        elif function[1] == "CHANNEL" and function[2] == "hangup_handler_push":
            self.hangup_handlers.append(value)
        else:
            raise LookupError(f"Set of {name} is not modelled")

    def _app_gotoif(self, data: str) -> None:
        condition, _, branches = data.partition("?")
        when_true, _, when_false = branches.partition(":")
        label = when_true if truth(condition) else when_false
        if label:
            self.stack[-1].priority = self._label(label)

    def _app_gotoiftime(self, data: str) -> None:
        spec, _, label = data.partition("?")
        if time_matches(spec, self.now):
            self.stack[-1].priority = self._label(label)

    def _app_goto(self, data: str) -> None:
        self.stack[-1].priority = self._label(data)

    def _app_gosub(self, data: str) -> None:
        self._gosub(data)

    def _gosub(self, data: str) -> None:
        label, _, args = data.partition("(")
        context, exten, priority = label.split(",")
        values = tuple(split_args(args[:-1], 99, raw=True)) if args else ()
        self._enter(context, exten, int(priority), values)

    def _app_return(self, data: str) -> None:
        self.stack.pop()

    def _app_hangup(self, data: str) -> None:
        self.stack.clear()

    def _app_dial(self, data: str) -> None:
        target, _timeout, options = [*split_args(data, 3), "", ""][:3]
        self.dialled.append(target)
        status = self.dial(target)
        self.variables["DIALSTATUS"] = status
        gosub = re.fullmatch(r"U\(([^)]*)\)", options)
        if status == "ANSWER" and gosub:  # runs on the called channel before the bridge
            context, *args = gosub[1].split("^")
            self.gosub(f"{context},s,1({','.join(args)})")


def split_args(text: str, count: int, *, raw: bool = False) -> list[str]:
    """Arguments at commas outside quotes and parentheses; the last one takes the rest."""
    args: list[str] = []
    current, quote, depth = [], False, 0
    for char in text:
        if len(args) == count - 1:
            current.append(char)
        elif char == '"':
            quote = not quote
            if raw:
                current.append(char)
        elif char == "," and not quote and depth == 0:
            args.append("".join(current))
            current = []
        else:
            depth += {"(": 1, ")": -1}.get(char, 0)
            current.append(char)
    return [*args, "".join(current)]


def _charset(allowed: str) -> set[str]:
    """FILTER's allowed characters: ``a-z`` ranges expanded."""
    chars: set[str] = set()
    i = 0
    while i < len(allowed):
        if i + 2 < len(allowed) and allowed[i + 1] == "-":
            chars |= {chr(c) for c in range(ord(allowed[i]), ord(allowed[i + 2]) + 1)}
            i += 3
        else:
            chars.add(allowed[i])
            i += 1
    return chars


def _pattern(pattern: str) -> re.Pattern[str]:
    """An extension pattern (X, Z, N, ``.``, literals) as a regular expression."""
    parts = {"X": "[0-9]", "Z": "[1-9]", "N": "[2-9]", ".": ".+", "!": ".*"}
    return re.compile("".join(parts.get(c, re.escape(c)) for c in pattern))


def truth(condition: str) -> bool:
    """GotoIf's test: non-empty, and not a number equal to zero."""
    text = condition.strip()
    if not text:
        return False
    try:
        return float(text) != 0
    except ValueError:
        return True


# --- $[...] ------------------------------------------------------------------------


def tokens(text: str) -> list[tuple[str, str]]:
    """(kind, text) tokens: ``op``, or ``str`` for a quoted string or a bare word."""
    found, i = [], 0
    while i < len(text):
        char = text[i]
        if char.isspace():
            i += 1
        elif char == '"':
            end = text.find('"', i + 1)
            if end < 0:
                raise ExpressionError(f"unclosed quote in $[{text}]")
            found.append(("str", text[i + 1 : end]))
            i = end + 1
        elif op := next((o for o in _OPERATORS if text.startswith(o, i)), None):
            found.append(("op", op))
            i += len(op)
        else:
            end = i
            while end < len(text) and not text[end].isspace() and text[end] not in '"=!|&()':
                end += 1
            found.append(("str", text[i:end]))
            i = end
    return found


def evaluate(text: str) -> str:
    """The value of ``$[text]``: ``1``/``0`` for a comparison, else the operand."""
    stream = tokens(text)
    if not stream:
        return ""
    value, rest = _or(stream)
    if rest:
        raise ExpressionError(f"$[{text}] is not one expression: {rest[0][1]!r} left over")
    return value


def _or(stream: list[tuple[str, str]]) -> tuple[str, list[tuple[str, str]]]:
    left, stream = _and(stream)
    while stream and stream[0] == ("op", "|"):
        right, stream = _and(stream[1:])
        left = left if truth(left) else right
    return left, stream


def _and(stream: list[tuple[str, str]]) -> tuple[str, list[tuple[str, str]]]:
    left, stream = _compare(stream)
    while stream and stream[0] == ("op", "&"):
        right, stream = _compare(stream[1:])
        left = left if truth(left) and truth(right) else "0"
    return left, stream


def _compare(stream: list[tuple[str, str]]) -> tuple[str, list[tuple[str, str]]]:
    left, stream = _operand(stream)
    while stream and stream[0] in (("op", "="), ("op", "!=")):
        op = stream[0][1]
        right, stream = _operand(stream[1:])
        same = _same(left, right)
        left = "1" if same == (op == "=") else "0"
    return left, stream


def _operand(stream: list[tuple[str, str]]) -> tuple[str, list[tuple[str, str]]]:
    if not stream:
        raise ExpressionError("an operand is missing")
    kind, text = stream[0]
    if (kind, text) == ("op", "("):
        value, rest = _or(stream[1:])
        if not rest or rest[0] != ("op", ")"):
            raise ExpressionError("unclosed (")
        return value, rest[1:]
    if kind == "op":
        raise ExpressionError(f"unexpected {text!r}")
    return text, stream[1:]


def _same(left: str, right: str) -> bool:
    """Numbers compare as numbers, anything else as text."""
    try:
        return float(left) == float(right)
    except ValueError:
        return left == right


# --- GotoIfTime ----------------------------------------------------------------------


def time_matches(spec: str, now: datetime) -> bool:
    """``times,weekdays,mdays,months[,tz]`` against ``now`` (in ``tz``)."""
    times, weekdays, mdays, months, *tz = split_args(spec, 5)
    local = now.astimezone(ZoneInfo(tz[0])) if tz and tz[0] else now
    minute = local.hour * 60 + local.minute
    return (
        _in_range(times, minute, _minutes)
        and _in_range(weekdays, local.weekday(), WEEKDAYS.index)
        and _in_range(mdays, local.day, int)
        and _in_range(months, local.month - 1, MONTHS.index)
    )


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _in_range(spec: str, value: int, parse: Callable[[str], int]) -> bool:
    """``*``, one value, or an inclusive range (which may wrap around)."""
    if spec == "*":
        return True
    first, _, last = spec.partition("-")
    low, high = parse(first), parse(last or first)
    return low <= value <= high if low <= high else value >= low or value <= high
