"""``[goals]`` and ``[[unit]] goals``: defaults, overrides key by key, and bad values named
with file, line, key path and value.
"""

from __future__ import annotations

import pytest

from phoneservice.domain.evaluation.model import Goals
from phoneservice.registry import ConfigError, parse_registry
from tests.conftest import LAB_REGISTRY, TODAY

DEFAULTS = """
[goals]
answer_rate = 0.9
service_level = 0.8
acknowledged_on_time = 0.95
max_wait_p90_seconds = 120
"""
FIRST_UNIT = 'id = "borgerservice"\n'
SECOND_UNIT = 'id = "jobcenter"\n'


def _with(text: str, unit_lines: str = "", *, defaults: str = DEFAULTS) -> str:
    """The lab registry with ``[goals]`` before the units and lines in the first unit."""
    head, units = LAB_REGISTRY.split("[[unit]]", 1)
    body = ("[[unit]]" + units).replace(FIRST_UNIT, FIRST_UNIT + unit_lines, 1)
    return head + defaults + text + body


def _errors(text: str) -> list[str]:
    """The problems a registry text is rejected with."""
    with pytest.raises(ConfigError) as caught:
        parse_registry(text, "lab.toml", TODAY)
    return [str(p) for p in caught.value.problems]


def _line_of(text: str, needle: str) -> int:
    """The 1-based line on which ``needle`` is written."""
    return next(n for n, line in enumerate(text.split("\n"), 1) if needle in line)


def test_without_goals_no_unit_has_a_goal():
    registry = parse_registry(LAB_REGISTRY, "lab.toml", TODAY)
    assert registry.goals == Goals()
    assert all(unit.goals == Goals() for unit in registry.units.values())


def test_the_defaults_reach_every_unit_and_an_inline_table_overrides_key_by_key():
    text = _with("", "goals = { service_level = 0.95, max_wait_p90_seconds = 45 }\n")
    registry = parse_registry(text, "lab.toml", TODAY)
    assert registry.goals == Goals(0.9, 0.8, 0.95, 120)
    assert registry.units["borgerservice"].goals == Goals(0.9, 0.95, 0.95, 45)
    assert registry.units["jobcenter"].goals == Goals(0.9, 0.8, 0.95, 120)


def test_a_unit_goals_sub_table_works_without_defaults():
    sub = "\n[unit.goals]\nanswer_rate = 1\nacknowledged_on_time = 0\n"
    text = LAB_REGISTRY.replace(
        'hours = { daily = ["00:00-24:00"] }\n', 'hours = { daily = ["00:00-24:00"] }\n' + sub, 1
    )
    registry = parse_registry(text, "lab.toml", TODAY)
    assert registry.goals == Goals()
    assert registry.units["borgerservice"].goals == Goals(1.0, None, 0.0, None)
    assert registry.units["jobcenter"].goals == Goals()


def test_a_percentage_where_a_share_belongs_names_file_line_key_and_value():
    text = _with("", "goals = { answer_rate = 90 }\n")
    line = _line_of(text, "answer_rate = 90")
    assert _errors(text) == [
        f"lab.toml:{line}: unit[0].goals.answer_rate: 90 must be a share from 0 to 1, "
        "e.g. 0.9 (write 0.9 for 90 %)"
    ]


def test_every_bad_default_is_reported_at_once():
    bad = (
        '\n[goals]\nanswer_rate = "90 %"\nservice_level = -0.1\n'
        "acknowledged_on_time = true\nmax_wait_p90_seconds = 0\nwait = 3\n"
    )
    text = _with("", defaults=bad)
    at = {
        key: _line_of(text, key)
        for key in ("answer_rate", "service_level", "ack", "max_", "wait =")
    }
    share = "must be a share from 0 to 1, e.g. 0.9"
    assert _errors(text) == [
        f'lab.toml:{at["answer_rate"]}: goals.answer_rate: "90 %" {share}',
        f"lab.toml:{at['service_level']}: goals.service_level: -0.1 {share}",
        f"lab.toml:{at['ack']}: goals.acknowledged_on_time: true {share}",
        f"lab.toml:{at['max_']}: goals.max_wait_p90_seconds: 0 must be a whole number of seconds "
        "from 1 to 3600",
        f"lab.toml:{at['wait =']}: goals.wait: is not a known key (allowed: answer_rate, "
        "service_level, acknowledged_on_time, max_wait_p90_seconds)",
    ]


def test_a_wait_goal_must_be_whole_seconds_and_goals_must_be_a_table():
    text = _with("", "goals = 0.9\n").replace(
        SECOND_UNIT, SECOND_UNIT + "goals = { max_wait_p90_seconds = 90.5 }\n"
    )
    first, second = _line_of(text, "goals = 0.9"), _line_of(text, "90.5")
    assert _errors(text) == [
        f"lab.toml:{first}: unit[0].goals: 0.9 must be a table",
        f"lab.toml:{second}: unit[1].goals.max_wait_p90_seconds: 90.5 must be a whole number",
    ]


def test_the_shipped_registry_sets_the_defaults_and_overrides_the_switchboard(shipped):
    assert shipped.goals == Goals(0.9, 0.8, 0.95, 120)
    assert shipped.units["omstilling"].goals == Goals(0.9, 0.8, 0.95, 60)
    assert shipped.units["hjemmepleje-akut"].goals == Goals(0.98, 0.95, 0.95, 120)
    assert shipped.units["borgerservice"].goals == shipped.goals


def test_a_bad_value_in_a_unit_goals_sub_table_names_its_own_line():
    sub = "\n[unit.goals]\nservice_level = 1.5\n"
    text = LAB_REGISTRY.replace(
        'hours = { daily = ["00:00-24:00"] }\n', 'hours = { daily = ["00:00-24:00"] }\n' + sub, 1
    )
    line = _line_of(text, "service_level = 1.5")
    assert _errors(text) == [
        f"lab.toml:{line}: unit[0].goals.service_level: 1.5 must be a share from 0 to 1, e.g. 0.9"
    ]
