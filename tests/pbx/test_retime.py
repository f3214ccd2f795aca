"""Re-timing recordings (:mod:`phoneservice.demo.retime`) and serving them round after round."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import pytest

from phoneservice.cli.demo import Rounds
from phoneservice.demo.replay import load_replay
from phoneservice.demo.retime import first_timestamp, retime, retime_to, span
from phoneservice.demo.simulator import AmiSimulator, Script
from phoneservice.pbx.protocol import encode, parse, split_recording

TRACES = Path(__file__).resolve().parents[1] / "data" / "ami-traces"
BURST = TRACES / "e-burst.ami"
NOW = 1_900_000_000.25
IDS = re.compile(r"\d{10}\.\d+")


def ids(messages: list) -> set[str]:
    return {m.get(k) for m in messages for k in ("Uniqueid", "UniqueID") if m.get(k)}


def test_retime_keeps_the_messages_and_moves_them_to_now():
    data = BURST.read_bytes()
    banner, before = split_recording(data)
    moved, delta = retime_to(data, NOW)
    assert len(moved) == len(data)  # the .timing.jsonl offsets still hold
    moved_banner, after = split_recording(moved)
    assert moved_banner == banner
    assert len(after) == len(before)
    assert sum(m.get("Event") is not None for m in after) == sum(
        m.get("Event") is not None for m in before
    )
    assert [m.get("Event") for m in after] == [m.get("Event") for m in before]
    first = first_timestamp(moved)
    assert first is not None and NOW - 1 < first <= NOW
    assert delta == int(NOW - (first_timestamp(data) or 0))
    # ids moved with the clock, consistently: the same Linkedid structure, none left over
    assert not ids(after) & ids(before)
    for old, new in zip(before, after, strict=True):
        for (key, value), (new_key, new_value) in zip(old.headers, new.headers, strict=True):
            assert key == new_key
            if IDS.fullmatch(value):
                whole, fraction = value.split(".")
                assert new_value == f"{int(whole) + delta}.{fraction}"
            else:
                assert new_value == value  # everything else byte-identical


def test_retime_by_zero_and_a_small_sample():
    sample = b"Event: X\r\nTimestamp: 1795336716.051194\r\nUniqueid: 1795336716.20\r\n"
    sample += b"Exten: 70101030\r\nCallerIDNum: +4529931695\r\nAddress: 127.0.0.1\r\n\r\n"
    assert retime(sample, 0) is sample
    assert retime(sample, 10) == sample.replace(b"1795336716", b"1795336726")
    assert span(sample) == 0
    with pytest.raises(ValueError, match="ten digits"):
        retime(sample, 9_000_000_000)


def test_rounds_never_reuse_an_id():
    data = BURST.read_bytes()
    clock = iter([NOW, NOW + 1.0])  # a second round too soon after the first
    rounds = Rounds(clock=lambda: next(clock))
    first, second = (split_recording(rounds(data, n))[1] for n in range(2))
    assert not ids(first) & ids(second)


def test_the_simulator_serves_prepared_rounds_again_and_again():
    recording = TRACES / "a-answered.ami"
    script = Script(recording, repeat_every=0.2, prepare=Rounds())
    per_round = len(load_replay(recording, timed=False).stream)

    async def two_rounds(port: int) -> list:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        await reader.readline()  # the banner
        writer.write(encode([("Action", "Login"), ("Username", "u"), ("Secret", "s")]))
        messages: list = []
        buffer = b""
        async with asyncio.timeout(20):
            while len(messages) < 1 + 2 * per_round:
                buffer += await reader.read(65536)
                found, buffer = parse(buffer)
                messages.extend(found)
        writer.close()
        return messages

    with AmiSimulator([script], username="u", secret="s") as sim:
        messages = asyncio.run(two_rounds(sim.port))
    assert messages[0].get("Message") == "Authentication accepted"
    first, second = messages[1 : 1 + per_round], messages[1 + per_round : 1 + 2 * per_round]
    assert [m.get("Event") for m in first] == [m.get("Event") for m in second]
    assert ids(first) and not ids(first) & ids(second)
    stamps = [float(m.get("Timestamp")) for m in first if m.get("Timestamp")]
    assert abs(stamps[0] - time.time()) < 60  # re-timed to now


def test_repeat_every_must_be_positive_and_without_a_cut():
    with pytest.raises(ValueError, match="repeat_every"):
        Script(BURST, repeat_every=0)
    with pytest.raises(ValueError, match="repeat_every"):
        Script(BURST, repeat_every=1, cut_after_messages=3, ending="close")
