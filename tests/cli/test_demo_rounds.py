"""Each round of the demo's recording calls from fresh numbers (``cli/demo.py`` ``Rounds``)."""

from __future__ import annotations

import itertools
import re
from collections import Counter

from phoneservice.cli.demo import DEFAULT_RECORDING, Rounds, unpacked
from phoneservice.demo.callers import REPEAT_EVERY
from phoneservice.domain.calls.numbers import caller_number

NUMBER = re.compile(rb"\+45\d{8}")


def numbers(data: bytes) -> Counter[bytes]:
    return Counter(NUMBER.findall(data))


def test_every_round_calls_from_fresh_numbers_but_a_few_repeat_callers(tmp_path):
    recording = unpacked(DEFAULT_RECORDING, tmp_path).read_bytes()
    rounds = Rounds(clock=lambda: 1_800_000_000.0)
    played = [set(numbers(rounds(recording, n))) for n in range(4)]
    citizens = len(numbers(recording))
    repeats = -(-citizens // REPEAT_EVERY)  # every tenth, the first included
    assert not played[0] & set(numbers(recording))
    for earlier, later in itertools.pairwise(played):
        assert len(later & earlier) == repeats  # called again, on purpose
    assert not played[0] & played[2] and not played[1] & played[3]  # ... once only
    everyone = Counter(number for numbers_ in played for number in numbers_)
    assert max(everyone.values()) == 2


def test_a_round_keeps_the_recording_shape(tmp_path):
    recording = unpacked(DEFAULT_RECORDING, tmp_path).read_bytes()
    data = Rounds(clock=lambda: 1_800_000_000.0)(recording, 0)
    assert len(data) == len(recording)  # the .timing.jsonl offsets still hold
    # A citizen who calls twice in the recording calls twice from one number in a round.
    assert sorted(numbers(data).values()) == sorted(numbers(recording).values())
    assert all(caller_number(n.decode()) == n.decode() for n in numbers(data))
