"""The shipped dialplan, run through the Asterisk rules it relies on (tests/e2e/asterisk_expr.py).

Every answer phoneservice (or whatever sits in its place) may give routes the caller
correctly: ``open`` to the queue, ``closed`` to the closed message, and anything else (a
JSON error body with quotes, an HTML 502 page, nothing) to the exported fallback hours.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from phoneservice.present.exports.asterisk import render
from phoneservice.registry import Registry, parse_registry
from phoneservice.services.hours import HoursService
from tests.conftest import SHIPPED_CONFIG
from tests.e2e.asterisk_expr import Channel, ConfigError, ExpressionError, evaluate, load
from tests.e2e.test_deploy import DIALPLAN

UNIT = "borgerservice"
TZ = ZoneInfo("Europe/Copenhagen")
MONDAY_11 = datetime(2026, 12, 7, 11, 0, tzinfo=TZ)  # borgerservice is open
SUNDAY_11 = datetime(2026, 12, 6, 11, 0, tzinfo=TZ)  # and closed
EXPORTED = "phoneservice-hours.conf"
JSON_ERROR = '{"error": "unknown unit", "detail": "no unit borgerservice"}'
HTML_502 = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    '<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center class="x">nginx</center>\r\n'
    "</body>\r\n</html>\r\n"
)
# (HTTP status, body) → who decided: phoneservice's own answer, or the exported hours
ANSWERS = {
    "open": ((200, "open"), "phoneservice"),
    "closed": ((200, "closed"), "phoneservice"),
    "json error 404": ((404, JSON_ERROR), "fallback"),
    "json error 200": ((200, JSON_ERROR), "fallback"),
    "html 502": ((502, HTML_502), "fallback"),
    "html 502 without failurecodes": ((599, HTML_502), "fallback"),
    "empty": ((200, ""), "fallback"),
    "quoted open": ((200, '"closed" = "closed" | "open'), "fallback"),
}


def registry() -> Registry:
    """The shipped registry."""
    return parse_registry(SHIPPED_CONFIG.read_text(encoding="utf-8"), "shipped", date(2026, 12, 1))


def exported() -> str:
    """What ``phoneservice export asterisk borgerservice`` writes on 1 December 2026."""
    shipped = registry()
    return render(shipped, [shipped.unit(UNIT)], datetime(2026, 12, 1, 9, 0, tzinfo=TZ))


def call(answer: tuple[int, str], now: datetime, files: dict[str, str]) -> Channel:
    """One inbound call to borgerservice's number, phoneservice answering ``answer``."""
    plan = load(DIALPLAN.read_text(encoding="utf-8"), files)
    channel = Channel(plan, http=lambda url: answer, now=now)
    channel.run("inbound", "70101010")
    return channel


def routed(channel: Channel) -> str:
    """Where the caller went: the queue, or the closed message."""
    apps = [app for _, app in channel.apps]
    if any(app.startswith("Queue(") for app in apps):
        return "open"
    assert any(app.startswith("Playback(phoneservice/closed-") for app in apps), apps
    return "closed"


@pytest.mark.parametrize("case", ANSWERS)
@pytest.mark.parametrize("now", [MONDAY_11, SUNDAY_11], ids=["monday", "sunday"])
def test_every_answer_routes_open_closed_or_to_the_fallback(case: str, now: datetime) -> None:
    answer, decider = ANSWERS[case]
    channel = call(answer, now, {EXPORTED: exported()})
    asked_fallback = f"phoneservice-hours-{UNIT}" in channel.contexts
    assert asked_fallback == (decider == "fallback")
    if decider == "phoneservice":
        expected = answer[1]
    else:
        expected = "open" if HoursService(registry()).is_open(UNIT, now) else "closed"
    assert channel.variables["PHONE_HOURS"] == expected == routed(channel)


def test_the_two_times_are_one_open_and_one_closed() -> None:
    hours = HoursService(registry())
    assert hours.is_open(UNIT, MONDAY_11) and not hours.is_open(UNIT, SUNDAY_11)


def test_without_the_exported_file_the_dialplan_still_loads_and_routes_as_open() -> None:
    """#tryinclude: a missing export costs the fallback, never the whole dialplan."""
    for answer in ((200, "closed"), (404, JSON_ERROR)):
        channel = call(answer, SUNDAY_11, {})
        assert channel.variables["PHONE_HOURS"] == ("closed" if answer[0] == 200 else "open")
    with pytest.raises(ConfigError):
        load(DIALPLAN.read_text(encoding="utf-8").replace("#tryinclude", "#include"), {})


def test_the_unfiltered_answer_breaks_the_comparison() -> None:
    """Why the filter: the raw JSON body inside the quotes is no longer one comparison."""
    assert evaluate('"open" = "open"') == "1"
    assert evaluate('"" = "open"') == "0"
    assert evaluate(f'"{HTML_502.replace(chr(34), "")}" = "open"') == "0"
    with pytest.raises(ExpressionError):
        evaluate(f'"{JSON_ERROR}" = "open"')


def test_the_dialplan_tryincludes_the_export_and_ships_the_callback_context() -> None:
    text = DIALPLAN.read_text(encoding="utf-8")
    assert "#tryinclude phoneservice-hours.conf" in text
    assert not [line for line in text.splitlines() if line.startswith("#include")]
    plan = load(text, {})
    assert {"callback", "callback-outbound", "callback-outcome"} <= set(plan.contexts)


@pytest.mark.parametrize("status", ["ANSWER", "NOANSWER", "BUSY", "CONGESTION", "CHANUNAVAIL"])
def test_a_callback_dials_the_citizen_and_stores_its_dialstatus(status: str) -> None:
    """The worker's Originate: Context callback, Exten the citizen's number, ChannelId as
    the agent channel's Uniqueid; the DIALSTATUS ends up under that id in AstDB."""
    plan = load(DIALPLAN.read_text(encoding="utf-8"), {})
    channel = Channel(plan, dial=lambda target: status, variables={"UNIQUEID": "cb7-0a1b2c"})
    channel.run("callback", "+4521806409")
    assert channel.dialled == ["PJSIP/+4521806409@trunk"]
    assert channel.db == {"phoneservice_callback/cb7-0a1b2c": status}
    assert channel.contexts[0] == "callback"
    answered = "callback-answered" in channel.contexts
    assert answered == (status == "ANSWER")


def test_a_callback_to_a_national_number_matches_too() -> None:
    plan = load(DIALPLAN.read_text(encoding="utf-8"), {})
    channel = Channel(plan, dial=lambda target: "NOANSWER", variables={"UNIQUEID": "cb8-1"})
    channel.run("callback", "21806409")
    assert channel.dialled == ["PJSIP/21806409@trunk"]
    assert channel.db == {"phoneservice_callback/cb8-1": "NOANSWER"}
