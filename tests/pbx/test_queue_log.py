"""Following queue_log as it grows: only appended bytes are read, rotation is followed."""

from __future__ import annotations

from datetime import timedelta

from phoneservice.domain.calls.events import Abandoned, Joined
from phoneservice.pbx.queue_log import QueueLogTail

JOIN = "1796292153|1.1|jobcenter|NONE|ENTERQUEUE||+4525460619|1\n"
ABANDON = "1796292165|1.1|jobcenter|NONE|ABANDON|1|1|12\n"
LATER = "1796392165|2.2|jobcenter|NONE|ENTERQUEUE||+4525460620|1\n"  # 100,000 s later


def kinds(events):
    return [(type(e).__name__, e.channel.uniqueid) for e in events]


def test_each_read_adds_what_was_appended(tmp_path):
    path = tmp_path / "queue_log"
    path.write_text(JOIN, encoding="utf-8")
    tail = QueueLogTail([path])
    assert kinds(tail()) == [("Joined", "1.1")]
    with path.open("a", encoding="utf-8") as log:
        log.write(ABANDON[:20])  # a line still being written waits
    assert kinds(tail()) == [("Joined", "1.1")]
    with path.open("a", encoding="utf-8") as log:
        log.write(ABANDON[20:])
    events = tail()
    assert kinds(events) == [("Joined", "1.1"), ("Abandoned", "1.1")]
    assert isinstance(events[1], Abandoned) and events[1].wait_s == 12


def test_bytes_already_read_are_not_read_again(tmp_path):
    path = tmp_path / "queue_log"
    path.write_text(JOIN, encoding="utf-8")
    tail = QueueLogTail([path])
    tail()
    with path.open("r+", encoding="utf-8") as log:  # the first line changed in place ...
        log.write("x" * (len(JOIN) - 1))
    with path.open("a", encoding="utf-8") as log:
        log.write(ABANDON)
    assert kinds(tail()) == [("Joined", "1.1"), ("Abandoned", "1.1")]  # ... is not re-read
    assert tail.bad == 0


def test_a_rotated_file_is_read_from_its_start(tmp_path):
    path = tmp_path / "queue_log"
    path.write_text(JOIN, encoding="utf-8")
    tail = QueueLogTail([path])
    tail()
    path.rename(tmp_path / "queue_log.1")
    path.write_text(ABANDON, encoding="utf-8")
    assert kinds(tail()) == [("Joined", "1.1"), ("Abandoned", "1.1")]


def test_a_truncated_file_is_read_from_its_start(tmp_path):
    path = tmp_path / "queue_log"
    path.write_text(JOIN + JOIN, encoding="utf-8")
    tail = QueueLogTail([path])
    assert len(tail()) == 2
    path.write_text(ABANDON, encoding="utf-8")  # copytruncate, then a line
    assert kinds(tail())[-1] == ("Abandoned", "1.1")


def test_only_the_last_day_and_some_is_kept(tmp_path):
    path = tmp_path / "queue_log"
    path.write_text(JOIN + ABANDON, encoding="utf-8")
    tail = QueueLogTail([path], keep=timedelta(hours=26))
    assert len(tail()) == 2
    with path.open("a", encoding="utf-8") as log:
        log.write(LATER)
    events = tail()
    assert kinds(events) == [("Joined", "2.2")]
    assert isinstance(events[0], Joined) and events[0].channel.caller_number == "+4525460620"
