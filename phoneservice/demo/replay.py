"""Recorded AMI sessions prepared for serving: scripts, messages, timing, recorded answers.

A recording is a ``.ami`` byte stream (banner, then messages) with, beside it, an optional
``<name>.timing.jsonl`` (one line per ``recv()``) and the scenario's ``.sent.jsonl`` (the
actions its clients sent). The replay server streams :attr:`Replay.stream`; an
:class:`AnswerGate` holds back the answers listed in :attr:`Replay.answers` until its own
client asks for them, and sends them with that client's ActionID.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import json
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from phoneservice.pbx.protocol import Message, encode, parse, read_recording, split_recording

_SPECIAL_ACTIONS = frozenset({"login", "logoff"})

Ending = Literal["idle", "stall", "close", "reset"]
"""idle: stop streaming, keep answering (a quiet PBX); stall: send and answer nothing
more, like a hung peer; close: FIN, then wait for the client to close; reset: RST, once
the client's kernel has every byte sent."""


@dataclass(frozen=True, slots=True)
class Script:
    """What one connection gets: a recording, an optional cut, and how it ends."""

    path: Path
    cut_after_bytes: int | None = None
    """Drop the connection once this many bytes, counted from the banner, are sent."""
    cut_after_messages: int | None = None
    """Drop it once this many recorded messages after the login answer are sent."""
    ending: Ending = "idle"
    banner: str | None = None
    """A greeting line to send instead of the recorded one, e.g. another service's."""
    repeat_every: float | None = None
    """Stream the recording again, every this many seconds after the previous round began
    (a round that takes longer is followed at once); the session never ends on its own."""
    prepare: Callable[[bytes, int], bytes] | None = None
    """Rewrite the recording's bytes just before round n (0 first) is streamed, e.g.
    :func:`phoneservice.demo.retime.retime_to` now; the result must keep the byte length
    of every message when the session is paced."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))  # a str path is welcome too
        cut = self.cut_after_bytes is not None or self.cut_after_messages is not None
        if cut and self.ending == "idle":
            raise ValueError(f"{self.path}: a cut needs ending stall, close or reset")
        if min(self.cut_after_bytes or 0, self.cut_after_messages or 0) < 0:
            raise ValueError(f"{self.path}: cut points must not be negative")
        if self.repeat_every is not None and (cut or self.repeat_every <= 0):
            raise ValueError(f"{self.path}: repeat_every must be > 0 and without a cut")


@dataclass(frozen=True, slots=True)
class Replay:
    """A recording prepared for serving."""

    banner: bytes
    stream: tuple[Message, ...]
    """The recorded messages after the login answer, without the closing Goodbye."""
    times: tuple[float, ...]
    """When each was complete, in seconds after the login answer (zeros when not paced)."""
    answers: dict[str, str]
    """Recorded ActionID -> folded name of the action it answered, for the gated answers."""


def load_replay(path: Path, timed: bool, data: bytes | None = None) -> Replay:
    """Read a recording, its timing (when ``timed``) and its recorded client's actions.

    ``data``, when given, stands for the recording's bytes (a prepared copy of the file);
    the timing and the actions are still read beside ``path``.
    """
    if data is None:
        banner, messages = read_recording(path)
    else:
        try:
            banner, messages = split_recording(data)
        except ValueError as exc:
            raise ValueError(f"{path} (prepared): {exc}") from exc
    times = _times(path, banner, messages, timed)
    start = 1 if messages and messages[0].get("Message") == "Authentication accepted" else 0
    end = len(messages) - 1 if messages and messages[-1].response == "Goodbye" else len(messages)
    t0 = times[0] if start else 0.0
    return Replay(
        banner=f"{banner}\r\n".encode(),
        stream=tuple(messages[start:end]),
        times=tuple(t - t0 for t in times[start:end]),
        answers=_recorded_actions(path, {m.action_id for m in messages}),
    )


def _times(path: Path, banner: str, messages: list[Message], timed: bool) -> list[float]:
    """Seconds since connecting at which each message was complete in the recording."""
    if not timed:
        return [0.0] * len(messages)
    timing = path.with_name(f"{path.stem}.timing.jsonl")
    reads = [json.loads(line) for line in timing.read_text().splitlines() if line.strip()]
    read_ends = [read["offset"] + read["len"] for read in reads]
    offset, times = len(banner) + 2, []
    for message in messages:
        offset += len(message.encode())
        index = min(bisect.bisect_left(read_ends, offset), len(reads) - 1)
        times.append(float(reads[index]["t"]))
    return times


def _recorded_actions(path: Path, action_ids: set[str | None]) -> dict[str, str]:
    """Recorded ActionID -> folded action name, for the recorded client's answered actions."""
    sent = path.with_name(path.name.split(".")[0] + ".sent.jsonl")
    if not sent.exists():
        return {}
    answers = {}
    for line in sent.read_text().splitlines():
        record = json.loads(line) if line.strip() else {}
        if record.get("conn") != "rec":
            continue
        for action in parse(record["raw"].encode())[0]:
            name = (action.get("Action") or "").casefold()
            if action.action_id in action_ids and name not in _SPECIAL_ACTIONS:
                answers[action.action_id or ""] = name
    return answers


class AnswerGate:
    """The recorded client's answers, handed out to the live client's actions by name, in order."""

    def __init__(self, answers: dict[str, str]) -> None:
        self.answers = answers
        self.remaining = Counter(answers.values())
        self.asks: defaultdict[str, deque[str | None]] = defaultdict(deque)
        self.asked = asyncio.Event()
        self.rewrite: dict[str, str | None] = {}

    def answers_to(self, folded_name: str) -> bool:
        """Whether the recording ever answered an action of this (case-folded) name."""
        return folded_name in self.remaining

    def ask(self, folded_name: str, action_id: str | None) -> bool:
        """Take the client's action if a recorded answer is still left for it."""
        if self.remaining[folded_name] <= len(self.asks[folded_name]):
            return False
        self.asks[folded_name].append(action_id)
        self.asked.set()
        return True

    def held(self, message: Message) -> str | None:
        """The action name this message answers, if it must wait for the client to ask."""
        recorded = message.action_id
        if recorded is None or recorded in self.rewrite:
            return None
        return self.answers.get(recorded)

    async def claim(self, message: Message, name: str, wait: float) -> None:
        """Wait up to ``wait`` s for the client's ask, then tie the answer to its ActionID."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait):  # not wait_for: it can lose a cancel on 3.11
                await self._asked(name)
        recorded = message.action_id or ""
        self.remaining[name] -= 1
        self.rewrite[recorded] = self.asks[name].popleft() if self.asks[name] else recorded

    def rewritten(self, message: Message) -> bytes:
        """The wire form of ``message``, carrying the live client's ActionID where it asked."""
        recorded = message.action_id
        if recorded is None or self.rewrite.get(recorded, recorded) == recorded:
            return message.encode()
        client_id = self.rewrite[recorded]
        headers = message.headers
        if client_id is None:
            return encode(h for h in headers if h[0] != "ActionID")
        return encode((k, client_id) if k == "ActionID" else (k, v) for k, v in headers)

    async def _asked(self, name: str) -> None:
        while not self.asks[name]:
            self.asked.clear()
            await self.asked.wait()


def check_options(
    scripts: Sequence[Script],
    speed: float | None,
    chunks: tuple[int, int] | None,
    chunk_delay: float,
    answer_wait: float,
) -> None:
    """Reject bad replay server options at once, naming every one."""
    problems = [
        "no scripts" if not scripts else "",
        f"speed must be > 0, got {speed}" if speed is not None and speed <= 0 else "",
        f"chunks must be 1 <= low <= high, got {chunks}"
        if chunks is not None and not 1 <= chunks[0] <= chunks[1]
        else "",
        f"chunk_delay must be >= 0, got {chunk_delay}" if chunk_delay < 0 else "",
        f"answer_wait must be >= 0, got {answer_wait}" if answer_wait < 0 else "",
    ]
    if any(problems):
        raise ValueError("; ".join(p for p in problems if p))
