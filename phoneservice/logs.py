"""Process logging on stderr: text lines, or one JSON object per line (``LOG_FORMAT=json``).

Each process command (``web``, ``worker``, ``run``, ``demo``; gunicorn through
``phoneservice.web.wsgi``) calls :func:`configure` once as it starts. A JSON line holds
``ts`` (ISO 8601, UTC), ``level``, ``logger`` and ``message``, then every ``extra``
field given to the log call (``pbx``, ``unit``...), and ``exception`` (the formatted
traceback, one string) when there is one. Secrets handed to :func:`configure` (the AMI
secret) are replaced by ``***`` in every line, whatever logged them: the code never logs
them, and this is the second line of defence.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
FORMATS = ("text", "json")
MASK = "***"
MIN_SECRET = 4  # shorter "secrets" would mask ordinary words; such a secret is refused anyway
# The attributes every LogRecord has; anything else on a record came from ``extra``.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class Redactor:
    """Replaces each secret in a text by ``***``."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        found = {s for s in secrets if s and len(s) >= MIN_SECRET}
        self.secrets = sorted(found, key=len, reverse=True)  # longest first: no partial leaks

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text


class TextFormatter(logging.Formatter):
    """``2026-05-13 14:00:00,123 INFO phoneservice.worker.follower: message``, secrets masked."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__(TEXT_FORMAT)
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line, secrets masked."""

    def __init__(self, redact: Redactor | None = None) -> None:
        super().__init__()
        self.redact = redact or Redactor()

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        extra = ((k, v) for k, v in vars(record).items() if k not in _STANDARD)
        entry.update((k, v) for k, v in extra if k not in entry)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return self.redact(json.dumps(entry, ensure_ascii=False, default=str))


def formatter(log_format: str, secrets: Iterable[str | None] = ()) -> logging.Formatter:
    """The formatter for ``text`` or ``json``."""
    if log_format not in FORMATS:
        raise ValueError(f"log format {log_format!r}: use text or json")
    redact = Redactor(secrets)
    return JsonFormatter(redact) if log_format == "json" else TextFormatter(redact)


def configure(
    log_format: str = "text",
    secrets: Iterable[str | None] = (),
    *,
    level: int = logging.INFO,
    stream: TextIO | None = None,
) -> logging.Handler:
    """Log to ``stream`` (stderr) in ``log_format``; replaces an earlier call's handler."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "phoneservice", False)]:
        root.removeHandler(old)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.phoneservice = True  # type: ignore[attr-defined]
    handler.setFormatter(formatter(log_format, secrets))
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)  # warnings become log lines too, not raw stderr text
    if log_format == "json":
        threading.excepthook = _log_thread_exception
    return handler


def _log_thread_exception(args: threading.ExceptHookArgs) -> None:
    """A thread that dies of an exception is one log record, not a raw traceback."""
    if args.exc_type is SystemExit or args.exc_value is None:
        return
    name = args.thread.name if args.thread is not None else "?"
    exc_info = (args.exc_type, args.exc_value, args.exc_traceback)
    logging.getLogger("phoneservice").error("thread %s died", name, exc_info=exc_info)
