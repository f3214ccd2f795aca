"""AMI framing: recorded traffic in arbitrary chunks, and the edge cases of the wire format."""

from __future__ import annotations

import itertools
import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from phoneservice.pbx.protocol import (
    MAX_MESSAGE,
    RAW_KEY,
    Framer,
    Message,
    MessageTooLarge,
    encode_action,
    parse,
    parse_banner,
    parse_dicts,
    read_recording,
    split_recording,
)

TRACES = Path(__file__).resolve().parents[1] / "data" / "ami-traces"


def _expected_traces() -> list[dict[str, Any]]:
    traces = []
    for path in sorted(TRACES.glob("*.expected.json")):
        traces.extend(json.loads(path.read_text(encoding="utf-8"))["traces"])
    return traces


EXPECTED = _expected_traces()
EXPECTED_IDS = [str(trace["file"]) for trace in EXPECTED]


def feed(data: bytes, sizes: list[int]) -> tuple[str | None, list[Message], bytes]:
    """Parse ``data`` the way a client would, one read of each size at a time."""
    banner, buffer, messages, position = None, b"", [], 0
    for size in sizes:
        buffer += data[position : position + size]
        position += size
        if banner is None:
            banner, buffer = parse_banner(buffer)
            if banner is None:
                continue
        new, buffer = parse(buffer)
        messages += new
    return banner, messages, buffer


def random_sizes(total: int, rng: random.Random, largest: int) -> list[int]:
    """Read sizes from 1 to ``largest`` bytes that add up to ``total``."""
    sizes: list[int] = []
    while total > 0:
        sizes.append(rng.randint(1, largest))
        total -= sizes[-1]
    return sizes


def counts(messages: list[Message]) -> Counter[str]:
    """Messages by event name, answers as ``Response:<status>``, as in expected.json."""
    return Counter(m.event if m.event is not None else f"Response:{m.response}" for m in messages)


@pytest.mark.parametrize("trace", EXPECTED, ids=EXPECTED_IDS)
def test_recording_in_random_chunks_gives_the_expected_counts(trace: dict[str, Any]) -> None:
    data = (TRACES / trace["file"]).read_bytes()
    rng = random.Random(trace["file"])
    banner, messages, rest = feed(data, random_sizes(len(data), rng, largest=97))
    assert (banner, len(data), rest) == (trace["banner"], trace["bytes"], b"")
    assert len(messages) == trace["messages"]
    assert sum(m.event is not None for m in messages) == trace["events"]
    assert counts(messages) == Counter(trace["event_counts"])


@pytest.mark.parametrize("name", ["a-answered.ami", "h-all-paused-abandon.ami"])
def test_one_byte_reads_give_the_same_messages_as_one_read(name: str) -> None:
    data = (TRACES / name).read_bytes()
    assert feed(data, [1] * len(data)) == feed(data, [len(data)])


@pytest.mark.parametrize("path", sorted(TRACES.glob("*.ami")), ids=lambda p: p.name)
def test_encoding_the_parsed_messages_gives_back_the_recorded_bytes(path: Path) -> None:
    banner, messages = read_recording(path)
    assert f"{banner}\r\n".encode() + b"".join(m.encode() for m in messages) == path.read_bytes()


NAMES = (
    "Event: QueueCallerJoin\r\nCallerIDName: Mette Østergaard\r\nAccountCode: \r\n\r\n"
    "Event: AgentConnect\r\nMemberName: Mette Kjær\r\nQueue: børn-læring\r\n\r\n"
).encode()


@given(st.lists(st.integers(min_value=0, max_value=len(NAMES)), max_size=12))
def test_splitting_anywhere_even_inside_a_character_changes_nothing(cuts: list[int]) -> None:
    bounds = [0, *sorted(cuts), len(NAMES)]
    buffer, messages = b"", []
    for start, end in itertools.pairwise(bounds):
        new, buffer = parse(buffer + NAMES[start:end])
        messages += new
    assert buffer == b""
    assert [m.get("CallerIDName") or m.get("MemberName") for m in messages] == [
        "Mette Østergaard",
        "Mette Kjær",
    ]
    assert messages[1].get("Queue") == "børn-læring"


def test_a_message_split_inside_a_character_waits_for_the_rest() -> None:
    cut = NAMES.index("Ø".encode()) + 1
    assert parse(NAMES[:cut]) == ([], NAMES[:cut])
    messages, rest = parse(NAMES[:cut] + NAMES[cut:])
    assert (messages[0].get("CallerIDName"), rest) == ("Mette Østergaard", b"")


FRAMING = [
    ("empty value", b"Event: X\r\nAccountCode: \r\n\r\n", [("Event", "X"), ("AccountCode", "")]),
    ("empty value last", b"Event: X\r\nExten: \r\n\r\n", [("Event", "X"), ("Exten", "")]),
    ("trailing spaces kept", b"Event: X\r\nName: a  \r\n\r\n", [("Event", "X"), ("Name", "a  ")]),
    ("second space kept", b"Event: X\r\nName:  a\r\n\r\n", [("Event", "X"), ("Name", " a")]),
    ("bare LF", b"Event: X\nA: b\n\n", [("Event", "X"), ("A", "b")]),
    ("LF then CRLF blank", b"Event: X\r\nA: b\n\r\n", [("Event", "X"), ("A", "b")]),
    ("CRLF then LF blank", b"Event: X\r\nA: b\r\n\n", [("Event", "X"), ("A", "b")]),
    ("no space after colon", b"Event: X\r\nKey:value\r\n\r\n", [("Event", "X"), ("Key", "value")]),
    ("colon at the end", b"Event: X\r\nKey:\r\n\r\n", [("Event", "X"), ("Key", "")]),
    ("no colon at all", b"Event: X\r\njunk line\r\n\r\n", [("Event", "X"), (RAW_KEY, "junk line")]),
    (
        "colon in value",
        b"Event: X\r\nAppData: a: b:c\r\n\r\n",
        [("Event", "X"), ("AppData", "a: b:c")],
    ),
    (
        "ipv6 value",
        b"Event: X\r\nAddr: IPV6/TCP/::1/5038\r\n\r\n",
        [("Event", "X"), ("Addr", "IPV6/TCP/::1/5038")],
    ),
    ("repeated key", b"Event: X\r\nV: 1\r\nV: 2\r\n\r\n", [("Event", "X"), ("V", "1"), ("V", "2")]),
    (
        "invalid UTF-8",
        b"Event: X\r\nName: \xff\xfe\r\n\r\n",
        [("Event", "X"), ("Name", "\ufffd\ufffd")],
    ),
    ("lone CR in value", b"Event: X\r\nName: a\rb\r\n\r\n", [("Event", "X"), ("Name", "a\rb")]),
]


@pytest.mark.parametrize(("raw", "headers"), [c[1:] for c in FRAMING], ids=[c[0] for c in FRAMING])
def test_framing(raw: bytes, headers: list[tuple[str, str]]) -> None:
    assert parse(raw) == ([Message(tuple(headers))], b"")


STREAMS = [
    ("blank lines between", b"\r\n\r\nEvent: A\r\n\r\n\r\n\r\nEvent: B\r\n\r\n\n", ["A", "B"], b""),
    ("mixed line ends", b"Event: A\n\nEvent: B\r\n\r\nEvent: C\n\r\n", ["A", "B", "C"], b""),
    ("rest kept", b"Event: A\r\n\r\nEvent: B\r\nX: y\r\n", ["A"], b"Event: B\r\nX: y\r\n"),
    ("rest after bare LF", b"Event: A\n\nEvent: B\n", ["A"], b"Event: B\n"),
]


@pytest.mark.parametrize(
    ("raw", "events", "rest"), [c[1:] for c in STREAMS], ids=[c[0] for c in STREAMS]
)
def test_streams(raw: bytes, events: list[str], rest: bytes) -> None:
    messages, left = parse(raw)
    assert ([m.event for m in messages], left) == (events, rest)


INCOMPLETE = [
    ("nothing", b""),
    ("one line", b"Event: X\r\n"),
    ("headers without blank line", b"Event: X\r\nA: b\r\n"),
    ("blank line half there", b"Event: X\r\nA: b\r\n\r"),
    ("half a line", b"Event: X\r\nCallerIDNa"),
]


@pytest.mark.parametrize("raw", [c[1] for c in INCOMPLETE], ids=[c[0] for c in INCOMPLETE])
def test_an_incomplete_message_is_all_rest(raw: bytes) -> None:
    assert parse(raw) == ([], raw)


FOLLOWS_ANSWER = (
    b"Response: Follows\r\nPrivilege: Command\r\nActionID: c-1\r\n"
    b"Channel  Location\nSIP/1: up\n\nlast line\n--END COMMAND--\r\n\r\n"
    b"Event: After\r\n\r\n"
)


def test_a_pre_14_follows_answer_is_not_special_and_ends_at_its_first_blank_line() -> None:
    """Asterisk >= 14 answers Command with Output headers; no recording has a Follows."""
    assert not [p.name for p in TRACES.glob("*.ami") if b"Response: Follows" in p.read_bytes()]
    messages, rest = parse(FOLLOWS_ANSWER)
    assert rest == b""
    assert [m.response or m.event for m in messages] == ["Follows", None, "After"]
    assert messages[0].get_all(RAW_KEY) == ("Channel  Location",)
    assert messages[1].get_all(RAW_KEY) == ("last line", "--END COMMAND--")


def frame_in_pieces(data: bytes, sizes: list[int], **options: Any) -> tuple[Framer, list[Message]]:
    """Feed ``data`` (after the banner) to a :class:`Framer`, one read of each size at a time."""
    framer, messages, position = Framer(**options), [], 0
    for size in sizes:
        messages += framer.feed(data[position : position + size])
        position += size
    return framer, messages


@pytest.mark.parametrize("name", sorted(p.name for p in TRACES.glob("*.ami")))
def test_the_framer_reads_every_recording_as_parse_does_and_looks_at_each_byte_once(
    name: str,
) -> None:
    banner, body = parse_banner((TRACES / name).read_bytes())
    sizes = random_sizes(len(body), random.Random(name), largest=300)
    framer, messages = frame_in_pieces(body, sizes)
    assert banner is not None
    assert messages == parse(body)[0]
    assert framer.pending == len(parse(body)[1])
    assert framer.scanned <= len(body) + 2 * len(sizes)


def test_the_framer_gives_dicts_as_parse_dicts_does() -> None:
    body = parse_banner((TRACES / "a-answered.ami").read_bytes())[1]
    framer = Framer()
    dicts = [d for n in range(0, len(body), 1000) for d in framer.feed_dicts(body[n : n + 1000])]
    assert dicts == parse_dicts(body)[0]


NEVER_ENDING = [
    ("follows without its end", b"Response: Follows\r\nPrivilege: Command\r\n", b"line\n"),
    ("a header that never ends", b"Event: X\r\nValue: ", b"9" * 97),
    ("no line breaks at all", b"", b"garbage "),
]


@pytest.mark.parametrize(
    ("head", "line"), [c[1:] for c in NEVER_ENDING], ids=[c[0] for c in NEVER_ENDING]
)
def test_a_5_mb_message_without_an_end_is_refused_at_the_limit_in_linear_work(
    head: bytes, line: bytes
) -> None:
    """The old parser searched the whole buffer again on every read: quadratic work."""
    data = head + line * (5_000_000 // len(line))
    framer, fed, refused = Framer(), 0, None
    for position in range(0, len(data), 4096):
        try:
            framer.feed(data[position : position + 4096])
        except MessageTooLarge as exc:
            refused = exc
            break
        fed += len(data[position : position + 4096])
    assert refused is not None
    assert MAX_MESSAGE < refused.size <= MAX_MESSAGE + 4096
    assert fed <= MAX_MESSAGE
    assert framer.scanned <= fed + 4096 + 2 * (fed // 4096 + 1)
    assert "9999" not in str(refused) and "line" not in str(refused)  # never the content


def test_a_message_at_the_limit_passes_and_one_byte_more_is_refused() -> None:
    limit = 1000
    head, end = b"Event: Big\r\nValue: ", b"\r\n\r\n"
    fits = head + b"x" * (limit - len(head) - len(end)) + end
    framer = Framer(limit=limit)
    assert framer.feed(fits[:600]) == []
    assert [m.event for m in framer.feed(fits[600:] + b"Event: Next\r\n\r\n")] == ["Big", "Next"]
    too_big = head + b"x" * (limit - len(head) - len(end) + 1) + end
    framer = Framer(limit=limit)
    framer.feed(too_big[:600])
    with pytest.raises(MessageTooLarge):
        framer.feed(too_big[600:])


def test_the_framer_starts_with_bytes_read_before_it() -> None:
    framer = Framer(b"Event: A\r\n\r\nEvent: B\r")
    assert framer.pending == len(b"Event: A\r\n\r\nEvent: B\r")
    assert [m.event for m in framer.feed(b"\n\r\n")] == ["A", "B"]
    assert framer.pending == 0


BANNERS = [
    ("alone", b"Asterisk Call Manager/11.0.0\r\n", "Asterisk Call Manager/11.0.0", b""),
    (
        "then data",
        b"Asterisk Call Manager/7.0.3\r\nResponse: ",
        "Asterisk Call Manager/7.0.3",
        b"Response: ",
    ),
    ("bare LF", b"Asterisk Call Manager/11.0.0\nX", "Asterisk Call Manager/11.0.0", b"X"),
    ("incomplete", b"Asterisk Call Manager/11.0", None, b"Asterisk Call Manager/11.0"),
    ("CR only so far", b"Asterisk Call Manager/11.0.0\r", None, b"Asterisk Call Manager/11.0.0\r"),
]


@pytest.mark.parametrize(
    ("raw", "banner", "rest"), [c[1:] for c in BANNERS], ids=[c[0] for c in BANNERS]
)
def test_banner(raw: bytes, banner: str | None, rest: bytes) -> None:
    assert parse_banner(raw) == (banner, rest)


ORIGINATE_RESPONSE = Message(
    (
        ("Event", "OriginateResponse"),
        ("Response", "Success"),
        ("ActionID", "cb-1"),
        ("UniqueID", "1.2"),
    )
)


def test_message_accessors() -> None:
    answer = Message((("Response", "Success"), ("ActionID", "a-1"), ("Message", "ok")))
    assert (answer.response, answer.event, answer.action_id) == ("Success", None, "a-1")
    assert ORIGINATE_RESPONSE.event == "OriginateResponse"
    assert ORIGINATE_RESPONSE.response is None  # an event, even with a Response header
    assert ORIGINATE_RESPONSE.get("Response") == "Success"


def test_get_prefers_the_exact_spelling_then_any_case() -> None:
    message = Message((("UniqueID", "cdr"), ("Uniqueid", "channel")))
    assert message.get("Uniqueid") == "channel"
    assert message.get("uniqueid") == "cdr"
    assert message.get("Linkedid") is None
    assert message.get("Linkedid", "-") == "-"


def test_as_dict_keeps_the_first_of_repeated_keys_and_get_all_keeps_all() -> None:
    message = Message((("Event", "X"), ("Variable", "a=1"), ("variable", "b=2")))
    assert message.as_dict() == {"Event": "X", "Variable": "a=1", "variable": "b=2"}
    assert Message((("V", "1"), ("V", "2"))).as_dict() == {"V": "1"}
    assert message.get_all("VARIABLE") == ("a=1", "b=2")


KEYS = st.text(st.characters(blacklist_characters=":\r\n", blacklist_categories=["Cs"]), min_size=1)
VALUES = st.text(st.characters(blacklist_characters="\r\n", blacklist_categories=["Cs"]))


@given(KEYS, VALUES, st.lists(st.tuples(KEYS, VALUES), max_size=8))
def test_encode_action_round_trips(
    name: str, action_id: str, fields: list[tuple[str, str]]
) -> None:
    messages, rest = parse(encode_action(name, action_id, fields))
    assert rest == b""
    assert messages == [Message((("Action", name), ("ActionID", action_id), *fields))]


def test_encode_action_takes_a_mapping_or_repeated_pairs() -> None:
    assert encode_action("Ping", "p-1") == b"Action: Ping\r\nActionID: p-1\r\n\r\n"
    assert encode_action("Originate", "o-1", {"Async": "true"}).endswith(b"Async: true\r\n\r\n")
    pairs = [("Variable", "A=1"), ("Variable", "B=2")]
    assert parse(encode_action("Originate", "o-1", pairs))[0][0].get_all("Variable") == (
        "A=1",
        "B=2",
    )


def test_a_refused_field_names_its_key_but_not_its_value() -> None:
    """The value may be a citizen's number (an Originate), and the error may be logged."""
    with pytest.raises(ValueError) as refused:
        encode_action("Originate", "o-1", [("Exten", "+4521603389\r\nAction: Logoff")])
    assert "Exten" in str(refused.value) and "21603389" not in str(refused.value)


BAD_FIELDS = [
    ("CRLF in value", "Ping", [("Secret", "x\r\nAction: Logoff")]),
    ("LF in value", "Ping", [("Secret", "x\ny")]),
    ("colon in key", "Ping", [("A: B", "c")]),
    ("empty key", "Ping", [("", "c")]),
    ("newline in name", "Ping\r\n", []),
    ("empty name", "", []),
]


@pytest.mark.parametrize(
    ("name", "fields"), [c[1:] for c in BAD_FIELDS], ids=[c[0] for c in BAD_FIELDS]
)
def test_encode_action_refuses_what_would_break_framing(
    name: str, fields: list[tuple[str, str]]
) -> None:
    with pytest.raises(ValueError):
        encode_action(name, "x-1", fields)


def test_a_torn_recording_is_refused_unless_asked_to_keep_what_is_whole() -> None:
    data = (TRACES / "b-abandoned.ami").read_bytes()[:-20]
    with pytest.raises(ValueError, match="inside a message"):
        split_recording(data)
    banner, messages = split_recording(data, strict=False)
    assert (banner, len(messages)) == ("Asterisk Call Manager/11.0.0", 126)


def test_a_recording_without_a_banner_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "no-banner.ami"
    path.write_bytes(b"Event: X\r\n\r\n")
    with pytest.raises(ValueError, match=r"no-banner\.ami: no AMI banner"):
        read_recording(path)
