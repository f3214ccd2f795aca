"""Sans-I/O framing of the Asterisk Manager Interface (AMI): bytes in, messages out.

After the one-line banner, every message in either direction is a block of
``Key: Value`` lines closed by an empty line. :func:`parse` takes whatever bytes have
arrived and returns the complete messages plus the unparsed rest, which the caller
prepends to the next read. Bytes are decoded (UTF-8, bad bytes replaced) only once a
whole message is there, so a character split across two reads survives.

Leniencies, each of which keeps data rather than dropping or raising:

- bare ``\\n`` line ends are accepted as well as ``\\r\\n``, and stray blank lines
  between messages are skipped;
- a header is split at its first colon and one following space is removed, so
  ``AccountCode: `` is ``""``, ``Key:value`` is ``value`` and trailing spaces are kept;
- a line with no colon at all is kept whole under the key :data:`RAW_KEY` (``""``).

Every message ends at its first empty line. The legacy ``Response: Follows`` answer of
Asterisk < 14 (raw CLI output up to ``--END COMMAND--``, blank lines included) is not
supported: Asterisk >= 14 sends command output as ``Output`` headers, and the service
sends no ``Command`` action.

A stream read in pieces goes through a :class:`Framer`: it looks for the end of a message
only in the bytes that are new, so a message that never ends costs time in proportion
to its size, and it refuses a message of more than :data:`MAX_MESSAGE` bytes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

RAW_KEY = ""
"""The key under which a line without any colon is kept, whole."""

OUTPUT_KEY = "Output"
"""The key of each command output line, as Asterisk >= 14 sends it."""

BANNER_PREFIX = "Asterisk Call Manager/"

MAX_MESSAGE = 1 << 20
"""The largest message a :class:`Framer` accepts, in bytes (the largest real one is ~2 KiB)."""

# A header line: key up to the first colon, one optional space, then the value as is.
Wanted = Mapping[str, tuple[str, ...]]
"""Events to keep: name → texts one of which the message must hold (none: every one)."""
_EVENT = "Event: "  # how an event's first line begins
_ACTION_ID = "\nActionID: "  # an event with one answers an action (a list item)
_HEADER = re.compile(r"^([^:\n]*):[ ]?(.*)$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Message:
    """One AMI message: its header lines in wire order, repeated keys kept."""

    headers: tuple[tuple[str, str], ...]

    def get(self, key: str, default: str | None = None) -> str | None:
        """The first value under ``key``, spelt exactly if present, else in any letter case."""
        for name, value in self.headers:
            if name == key:
                return value
        folded = key.casefold()
        for name, value in self.headers:
            if name.casefold() == folded:
                return value
        return default

    def get_all(self, key: str) -> tuple[str, ...]:
        """Every value under ``key`` in any letter case, in order (``Output``, ``Variable``)."""
        folded = key.casefold()
        return tuple(value for name, value in self.headers if name.casefold() == folded)

    @property
    def event(self) -> str | None:
        """The event name, or None when this is not an event."""
        return self.get("Event")

    @property
    def response(self) -> str | None:
        """The status of an answer to an action; None for events, even ``OriginateResponse``."""
        return None if self.event is not None else self.get("Response")

    @property
    def action_id(self) -> str | None:
        """The ActionID that ties this message to the action it answers."""
        return self.get("ActionID")

    def as_dict(self) -> dict[str, str]:
        """The headers as a dict; for a repeated key the first value wins, as in :meth:`get`."""
        return dict(reversed(self.headers))

    def encode(self) -> bytes:
        """The wire form of this message (CRLF line ends)."""
        return encode(self.headers)


def parse_banner(buffer: bytes) -> tuple[str | None, bytes]:
    """The greeting (``Asterisk Call Manager/11.0.0``) once its line is complete, and the rest."""
    line, newline, rest = buffer.partition(b"\n")
    if not newline:
        return None, buffer
    return line.removesuffix(b"\r").decode("utf-8", "replace"), rest


def parse(buffer: bytes) -> tuple[list[Message], bytes]:
    """Split ``buffer`` (read after the banner) into complete messages and the unparsed rest.

    For one buffer at hand; a stream read in pieces goes through a :class:`Framer`.
    """
    end = _complete_end(buffer, 0)
    return _messages(buffer[:end]), buffer[end:]


def parse_dicts(buffer: bytes) -> tuple[list[dict[str, str]], bytes]:
    """Like :func:`parse`, as header dicts (first value of a repeated key wins): bulk ingest."""
    end = _complete_end(buffer, 0)
    return _dicts(buffer[:end]), buffer[end:]


class MessageTooLarge(ValueError):
    """A message grew past the limit without ending; ``size`` is how far it got (bytes)."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"a message longer than {limit} bytes ({size} bytes of it read)")
        self.size, self.limit = size, limit


class Framer:
    """Complete messages out of a byte stream fed in pieces, in time linear in its length.

    The end of a message is looked for only in the bytes that are new since the last
    :meth:`feed` (the kept rest holds none), and the rest is a ``bytearray`` appended in
    place. A message larger than ``limit`` raises :class:`MessageTooLarge`; the stream
    cannot be framed any further after that.
    """

    def __init__(
        self, rest: bytes = b"", limit: int = MAX_MESSAGE, keep: Wanted | None = None
    ) -> None:
        self.limit = limit
        self.keep = keep
        """The events wanted (None: all); others are dropped unparsed, answers never."""
        self._rest = bytearray()
        self.scanned = 0
        """Bytes looked at for a message end so far: at most about the bytes fed."""
        self.framed = 0
        """Complete messages framed so far, dropped ones included (a sign of life)."""
        self._pending = rest

    @property
    def pending(self) -> int:
        """Bytes held of a message that has not ended yet."""
        return len(self._rest) + len(self._pending)

    def feed(self, data: bytes = b"") -> list[Message]:
        """The messages that ``data`` completes, in order."""
        return [Message(tuple(_pairs(frame))) for frame in self._kept(data)]

    def feed_dicts(self, data: bytes = b"") -> list[dict[str, str]]:
        """Like :meth:`feed`, as header dicts (first value of a repeated key wins)."""
        return [dict(reversed(_pairs(frame))) for frame in self._kept(data)]

    def _kept(self, data: bytes) -> list[str]:
        """The frames ``data`` completes, less the events not wanted (answers always stay)."""
        frames = _frames(self._complete(data))
        self.framed += len(frames)
        keep = self.keep
        if keep is None:
            return frames
        return [frame for frame in frames if _wanted(frame, keep)]

    def _complete(self, data: bytes) -> bytes:
        """The bytes of the messages that ``data`` completes; the rest is kept."""
        if self._pending:
            data, self._pending = self._pending + data, b""
        rest = self._rest
        start = max(0, len(rest) - 2)  # a message end may straddle the old rest and the data
        rest += data
        self.scanned += len(rest) - start
        end = _complete_end(rest, start)
        if len(rest) > self.limit:
            self._check_size(rest, start, end)
        if not end:
            return b""
        complete = bytes(rest[:end])
        del rest[:end]
        return complete

    def _check_size(self, rest: bytearray, start: int, end: int) -> None:
        """Refuse the first message if it is too long, or the rest if it has grown too long."""
        first = _first_end(rest, start)
        if first > self.limit:
            raise MessageTooLarge(first, self.limit)
        if len(rest) - end > self.limit:
            raise MessageTooLarge(len(rest) - end, self.limit)


def _messages(complete: bytes) -> list[Message]:
    """The messages in ``complete`` (bytes that end at a message end)."""
    return [Message(tuple(_pairs(frame))) for frame in _frames(complete)]


def _dicts(complete: bytes) -> list[dict[str, str]]:
    """The messages in ``complete`` as header dicts."""
    return [dict(reversed(_pairs(frame))) for frame in _frames(complete)]


def _wanted(frame: str, keep: Wanted) -> bool:
    """Whether a frame is an answer, part of one (it has an ActionID), or a wanted event."""
    if not frame.startswith(_EVENT):
        return True
    end = frame.find("\n")
    needles = keep.get(frame[len(_EVENT) : end if end >= 0 else None])
    if needles is not None and (not needles or any(n in frame for n in needles)):
        return True
    return _ACTION_ID in frame


def _frames(complete: bytes) -> list[str]:
    """The decoded text of each message (line ends reduced to ``\\n``), blank ones left out."""
    if not complete:
        return []
    text = complete.replace(b"\r\n", b"\n").decode("utf-8", "replace")
    return [frame.lstrip("\n") for frame in text.split("\n\n") if frame.strip("\n")]


def encode(headers: Iterable[tuple[str, str]]) -> bytes:
    """The wire form of one message; a :data:`RAW_KEY` line is written back as it came."""
    lines = [value if key == RAW_KEY else f"{key}: {value}" for key, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def encode_action(
    name: str,
    action_id: str,
    fields: Mapping[str, str] | Iterable[tuple[str, str]] = (),
) -> bytes:
    """An action ready to send; pairs allow a repeated key such as ``Variable``."""
    pairs = [("Action", name), ("ActionID", action_id)]
    pairs += fields.items() if isinstance(fields, Mapping) else fields
    for key, value in pairs:
        _check_field(key, value)
    if not name:
        raise ValueError("an action needs a name")
    return encode(pairs)


def split_recording(data: bytes, *, strict: bool = True) -> tuple[str, list[Message]]:
    """The banner and messages of a recorded ``.ami`` byte stream.

    With ``strict`` a torn last message is an error; without, it is left out.
    """
    banner, rest = parse_banner(data)
    if banner is None or not banner.startswith(BANNER_PREFIX):
        raise ValueError(f"no AMI banner at the start of the recording: {data[:40]!r}")
    messages, tail = parse(rest)
    if strict and tail.strip(b"\r\n"):
        raise ValueError(f"recording ends inside a message, {len(tail)} bytes from the end")
    return banner, messages


def read_recording(
    path: str | os.PathLike[str], *, strict: bool = True
) -> tuple[str, list[Message]]:
    """Read a recorded ``.ami`` file (a banner line, then messages) into banner and messages."""
    try:
        return split_recording(Path(path).read_bytes(), strict=strict)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from exc


def _complete_end(buffer: bytes | bytearray, start: int) -> int:
    """The offset just past the last empty line (CRLF or bare LF) from ``start``, or 0."""
    lf = buffer.rfind(b"\n\n", start)
    crlf = buffer.rfind(b"\n\r\n", start)
    return max(lf + 2 if lf >= 0 else 0, crlf + 3 if crlf >= 0 else 0)


def _first_end(buffer: bytearray, start: int) -> int:
    """The offset just past the first empty line from ``start``, or the buffer's length."""
    lf = buffer.find(b"\n\n", start)
    crlf = buffer.find(b"\n\r\n", start)
    ends = [lf + 2] if lf >= 0 else []
    ends += [crlf + 3] if crlf >= 0 else []
    return min(ends, default=len(buffer))


def _pairs(frame: str) -> list[tuple[str, str]]:
    """The header lines of one decoded message, in order."""
    pairs = _HEADER.findall(frame)
    if len(pairs) == frame.count("\n") + 1:  # every line is a header: the common case, in C
        return pairs
    return [_header(line) for line in frame.split("\n") if line]


def _header(line: str) -> tuple[str, str]:
    """Split a line at its first colon, dropping one space after it; no colon: keep it whole."""
    key, colon, value = line.partition(":")
    if not colon:
        return RAW_KEY, line
    return key, value[1:] if value[:1] == " " else value


def _check_field(key: str, value: str) -> None:
    """Refuse a header that would break framing or forge a second header."""
    if not key or ":" in key or any(c in key or c in value for c in "\r\n"):
        # The value is not named: it may be a citizen's number (Originate), and this
        # message may be logged.
        raise ValueError(f"cannot send AMI header {key!r}: a line break or a bad name")
