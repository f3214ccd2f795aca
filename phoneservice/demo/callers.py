"""Fresh caller numbers for each round of the demo's recording (pure, no I/O).

Every Danish number in a recording (``+45`` and eight digits, wherever it stands: the
CallerIDNum and ConnectedLineNum of each channel, a dialplan's AppData) is replaced by a
number no earlier round used and that the recording does not hold, the same one for each
of its occurrences in the round: a citizen who calls twice in a round still calls from one
number, and no number collects a missed call from every round. On purpose, every tenth
citizen of a round is one of the previous round's calling again (once: a repeat caller
does not repeat), so the queue shows a task that gathers a second missed call. A
replacement is exactly as long as the number it replaces, so the recording's
``.timing.jsonl`` offsets still hold.
"""

from __future__ import annotations

import random
import re

__all__ = ["CallerNumbers"]

_NUMBER = re.compile(rb"(?<!\d)\+45\d{8}(?!\d)")
REPEAT_EVERY = 10  # the 1st, 11th, 21st... citizen of a round called in the round before


class CallerNumbers:
    """Hands out Danish numbers, each once, and rewrites a round's bytes with them."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng or random.Random()  # noqa: S311 - made-up numbers, not secrets
        self._issued: set[bytes] = set()
        self._previous: list[bytes] = []  # the last round's citizens, in order of first call
        self._repeats: set[bytes] = set()  # numbers that have called again already

    def fresh(self, data: bytes) -> bytes:
        """``data`` with each distinct number replaced by one never handed out before."""
        self._issued.update(_NUMBER.findall(data))  # the recorded ones are never handed out
        chosen: dict[bytes, bytes] = {}

        def swap(match: re.Match[bytes]) -> bytes:
            if match[0] not in chosen:
                chosen[match[0]] = self._again(len(chosen)) or self._new()
            return chosen[match[0]]

        rewritten = _NUMBER.sub(swap, data)
        self._previous = list(chosen.values())
        return rewritten

    def _again(self, index: int) -> bytes | None:
        """On every tenth citizen, one who called for the first time last round, again."""
        first_timers = [n for n in self._previous if n not in self._repeats]
        if index % REPEAT_EVERY or index >= len(first_timers):
            return None
        number = first_timers[index]
        self._repeats.add(number)
        return number

    def _new(self) -> bytes:
        """A number not handed out yet: eight digits, the first 2-9 (no service numbers)."""
        while True:
            number = b"+45%d%07d" % (self._rng.randint(2, 9), self._rng.randrange(10**7))
            if number not in self._issued:
                self._issued.add(number)
                return number
