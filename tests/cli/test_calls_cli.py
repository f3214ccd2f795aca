"""``phoneservice calls``: today by default, at most ``--limit`` calls, and says when more exist.

The recording e-burst arrives on 2026-11-22 from 08:38 UTC (09:38 in Copenhagen).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from phoneservice.cli import main
from tests.domain.test_call_tracker import TRACES
from tests.services.test_ingest import lab  # noqa: F401  (the fixture: open registry, fresh database)

# 22:30 UTC is 23:30 in Copenhagen: still the recording's day there.
EVENING = datetime(2026, 11, 22, 22, 30, tzinfo=UTC)
# 23:30 UTC is already 00:30 on the 23rd in Copenhagen, though still the 22nd in UTC.
PAST_MIDNIGHT = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)


def run(capsys, *argv, now=EVENING):
    code = main([*argv], clock=lambda: now)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def burst(lab, capsys):  # noqa: F811
    """The 30 calls of e-burst, logged."""
    assert run(capsys, "ingest", str(TRACES / "e-burst.ami"))[0] == 0


def test_without_dates_it_lists_the_calls_of_today_in_the_registry_zone(burst, capsys):
    code, out, _ = run(capsys, "calls", "--json")
    assert (code, len(json.loads(out))) == (0, 30)
    code, out, _ = run(capsys, "calls", "--json", now=PAST_MIDNIGHT)
    assert (code, json.loads(out)) == (0, [])
    code, out, _ = run(capsys, "calls", "--from", "2026-11-22", "--json", now=PAST_MIDNIGHT)
    assert (code, len(json.loads(out))) == (0, 30)


def test_limit_keeps_the_oldest_and_says_that_more_exist(burst, capsys):
    code, out, err = run(capsys, "calls", "--limit", "5", "--json")
    shown = json.loads(out)
    assert (code, len(shown)) == (0, 5)
    everything = json.loads(run(capsys, "calls", "--json")[1])
    assert [c["uniqueid"] for c in shown] == [c["uniqueid"] for c in everything[:5]]
    assert "more than 5 calls" in err and "--limit" in err
    code, out, err = run(capsys, "calls", "--limit", "5")
    assert (code, len(out.splitlines())) == (0, 5)
    assert "more than 5 calls" in err


def test_no_note_when_the_limit_holds_every_call(burst, capsys):
    code, out, err = run(capsys, "calls", "--limit", "30")
    assert (code, len(out.splitlines()), err) == (0, 30, "")


@pytest.mark.parametrize("value", ["0", "-3", "many"])
def test_a_limit_that_is_not_a_positive_number_is_refused(lab, capsys, value):  # noqa: F811
    with pytest.raises(SystemExit) as refused:
        run(capsys, "calls", "--limit", value)
    assert refused.value.code == 2
    assert f"--limit: {value!r}" in capsys.readouterr().err


def test_the_text_lines_speak_danish_only(burst, capsys):
    code, out, _ = run(capsys, "calls")
    assert code == 0
    assert "lagt på" in out and "besvaret" in out
    assert not {"answered", "abandoned", "unanswered", "closed", "unknown"} & set(out.split())


def test_every_outcome_and_state_has_its_danish_word():
    from phoneservice.domain.callbacks.rules import STATES
    from phoneservice.domain.calls.records import OUTCOMES
    from phoneservice.present import wording

    assert set(wording.CALL_OUTCOMES) == set(OUTCOMES)
    assert set(wording.CALLBACK_STATES) == set(STATES)
