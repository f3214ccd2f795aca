"""Process logging on stderr: text lines, or one JSON object per line (``LOG_FORMAT=json``).

Each process command (``web``, ``worker``, ``run``, ``demo``; gunicorn through
``phoneservice.web.wsgi``) calls :func:`configure` once as it starts. A JSON line holds
``ts`` (ISO 8601, UTC), ``level``, ``logger`` and ``message``, then every ``extra``
field given to the log call (``pbx``, ``unit``...), and ``exception`` (the formatted
traceback, one string) when there is one. A text line starts with its local time and
offset (``2026-05-13T14:00:00.123+02:00``): the zone given (the demo gives the
registry's), else the machine's. The routine lines of chatty libraries (APScheduler's
every job added, run and done; Alembic's plugins) show only when the level is DEBUG.
Secrets handed to :func:`configure` (the AMI
secret) are replaced by ``***`` in every line, whatever logged them: the code never logs
them, and this is the second line of defence.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import Iterable
from datetime import UTC, datetime, tzinfo
from typing import Any, TextIO

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
FORMATS = ("text", "json")
MASK = "***"
# Loggers whose INFO lines narrate routine work; their warnings and errors still show.
CHATTY = ("apscheduler", "alembic.runtime.plugins")
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
    """``2026-05-13T14:00:00.123+02:00 INFO phoneservice.worker.follower: message``, secrets
    masked; the time in ``zone`` (None: the machine's), with its offset."""

    def __init__(self, redact: Redactor, zone: tzinfo | None = None) -> None:
        super().__init__(TEXT_FORMAT)
        self.redact, self.zone = redact, zone

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        """The record's time in the zone, ISO 8601 with milliseconds and the offset."""
        moment = datetime.fromtimestamp(record.created, UTC).astimezone(self.zone)
        return moment.isoformat(timespec="milliseconds")

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


def formatter(
    log_format: str, secrets: Iterable[str | None] = (), zone: tzinfo | None = None
) -> logging.Formatter:
    """The formatter for ``text`` (times in ``zone``) or ``json`` (times in UTC)."""
    if log_format not in FORMATS:
        raise ValueError(f"log format {log_format!r}: use text or json")
    redact = Redactor(secrets)
    return JsonFormatter(redact) if log_format == "json" else TextFormatter(redact, zone)


def configure(
    log_format: str = "text",
    secrets: Iterable[str | None] = (),
    *,
    level: int = logging.INFO,
    stream: TextIO | None = None,
    zone: tzinfo | None = None,
) -> logging.Handler:
    """Log to ``stream`` (stderr) in ``log_format``; replaces an earlier call's handler."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "phoneservice", False)]:
        root.removeHandler(old)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.phoneservice = True  # type: ignore[attr-defined]
    handler.setFormatter(formatter(log_format, secrets, zone))
    root.addHandler(handler)
    root.setLevel(level)
    for name in CHATTY:  # their routine INFO lines only when DEBUG is asked for
        logging.getLogger(name).setLevel(
            logging.NOTSET if level <= logging.DEBUG else logging.WARNING
        )
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
