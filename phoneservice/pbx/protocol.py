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
- a line with no colon at all is kept whole under the key :data:`RAW_KEY` (``""``);
- a legacy ``Response: Follows`` command answer (Asterisk < 14) runs to
  ``--END COMMAND--`` even across blank lines, and its output lines become
  :data:`OUTPUT_KEY` headers, the shape Asterisk >= 14 uses.
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

_FOLLOWS = b"Response: Follows"
_END_COMMAND = "--END COMMAND--"
_FOLLOWS_HEADERS = frozenset({"Response", "Privilege", "ActionID"})
# A header line: key up to the first colon, one optional space, then the value as is.
_HEADER = re.compile(r"^([^:\n]*):[ ]?(.*)$", re.MULTILINE)
# One message per match. A Follows answer must reach its end marker, because raw CLI
# output may contain blank lines; any other message ends at its first empty line.
_FRAME = re.compile(
    rb"Response: Follows\r?\n.*?--END COMMAND--\r?\n\r?\n|(?!Response: Follows\r?\n).*?\n\r?\n",
    re.DOTALL,
)


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
    """Split ``buffer`` (read after the banner) into complete messages and the unparsed rest."""
    if _FOLLOWS in buffer:
        return _parse_framewise(buffer)
    frames, rest = _frames(buffer)
    return [Message(tuple(_pairs(frame))) for frame in frames], rest


def parse_dicts(buffer: bytes) -> tuple[list[dict[str, str]], bytes]:
    """Like :func:`parse`, as header dicts (first value of a repeated key wins): bulk ingest."""
    if _FOLLOWS in buffer:
        messages, rest = _parse_framewise(buffer)
        return [m.as_dict() for m in messages], rest
    frames, rest = _frames(buffer)
    return [dict(reversed(_pairs(frame))) for frame in frames], rest


def _frames(buffer: bytes) -> tuple[list[str], bytes]:
    """The decoded text of each complete message (line ends reduced to ``\\n``), and the rest."""
    end = _complete_end(buffer)
    if not end:
        return [], buffer
    text = buffer[:end].replace(b"\r\n", b"\n").decode("utf-8", "replace")
    return [frame for frame in text.split("\n\n") if frame.strip("\n")], buffer[end:]


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


def _complete_end(buffer: bytes) -> int:
    """The offset just past the last empty line (CRLF or bare LF), or 0 if there is none."""
    lf = buffer.rfind(b"\n\n")
    crlf = buffer.rfind(b"\n\r\n")
    return max(lf + 2 if lf >= 0 else 0, crlf + 3 if crlf >= 0 else 0)


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


def _parse_framewise(buffer: bytes) -> tuple[list[Message], bytes]:
    """The slow path, taken only when a legacy ``Response: Follows`` may be in the buffer."""
    messages: list[Message] = []
    position = 0
    while (match := _FRAME.match(buffer, position)) is not None:
        frame = match.group().replace(b"\r\n", b"\n").decode("utf-8", "replace")
        if frame.startswith("Response: Follows"):
            messages.append(_follows(frame))
        elif frame.strip("\n"):
            messages.append(Message(tuple(_pairs(frame))))
        position = match.end()
    return messages, buffer[position:]


def _follows(frame: str) -> Message:
    """A legacy command answer: its few headers, then each output line as ``Output``."""
    lines = frame.split("\n")
    head = 0
    while head < len(lines) and lines[head].partition(":")[0] in _FOLLOWS_HEADERS:
        head += 1
    body = "\n".join(lines[head:])
    body = body[: body.rfind(_END_COMMAND)].removesuffix("\n")
    output = tuple((OUTPUT_KEY, line) for line in body.split("\n")) if body else ()
    return Message(tuple(_header(line) for line in lines[:head]) + output)


def _check_field(key: str, value: str) -> None:
    """Refuse a header that would break framing or forge a second header."""
    if not key or ":" in key or any(c in key or c in value for c in "\r\n"):
        # The value is not named: it may be a citizen's number (Originate), and this
        # message may be logged.
        raise ValueError(f"cannot send AMI header {key!r}: a line break or a bad name")
