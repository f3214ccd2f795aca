"""The process logs: text lines in local time with the zone; APScheduler's chatter at DEBUG only."""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from phoneservice import logs

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
WINTER = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
SUMMER = datetime(2026, 5, 13, 12, 0, tzinfo=UTC)


@pytest.fixture
def restored():
    """Put the root logger and the quieted libraries back as they were."""
    root = logging.getLogger()
    names = [None, *logs.CHATTY]
    levels = {name: logging.getLogger(name).level for name in names}
    handlers = list(root.handlers)
    yield
    root.handlers[:] = handlers
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def line_at(moment: datetime, zone: ZoneInfo | None) -> str:
    record = logging.makeLogRecord(
        {"name": "phoneservice.web", "levelno": logging.INFO, "levelname": "INFO", "msg": "up"}
    )
    record.created = moment.timestamp()
    record.msecs = 0
    return logs.formatter("text", zone=zone).format(record)


def test_a_text_line_is_in_the_zone_given_with_its_offset():
    assert line_at(WINTER, COPENHAGEN) == "2026-11-23T13:00:00.000+01:00 INFO phoneservice.web: up"
    assert line_at(SUMMER, COPENHAGEN) == "2026-05-13T14:00:00.000+02:00 INFO phoneservice.web: up"


def test_without_a_zone_a_text_line_is_in_the_system_zone_with_its_offset():
    local = WINTER.astimezone()  # the zone of this machine
    assert line_at(WINTER, None).startswith(local.isoformat(timespec="milliseconds") + " INFO")


def scheduler_lines(level: int) -> str:
    stream = io.StringIO()
    logs.configure("text", level=level, stream=stream)
    chatter = logging.getLogger("apscheduler.executors.default")
    chatter.info('Running job "overdue"')
    chatter.warning('Run time of job "purge" was missed')
    return stream.getvalue()


def test_the_scheduler_chatter_shows_only_at_debug(restored):
    quiet = scheduler_lines(logging.INFO)
    assert "Running job" not in quiet and "was missed" in quiet
    assert "Running job" in scheduler_lines(logging.DEBUG)
