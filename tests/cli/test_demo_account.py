"""The demo's ``demo`` admin has a phone the pattern allows, so "Ring op" works in the demo."""

from __future__ import annotations

from datetime import UTC, datetime

from phoneservice.bootstrap import build
from phoneservice.cli.demo import DEMO_ACCOUNT, DEMO_DEVICE, demo_account
from phoneservice.services.accounts import cheap_hasher
from phoneservice.settings import Settings
from tests.domain.test_call_tracker import TRACES
from tests.services.test_ingest import lab, run  # noqa: F401  (the fixture: open registry, fresh database)


def test_the_demo_account_can_place_a_call(lab, database_url, capsys):  # noqa: F811
    run(capsys, "ingest", str(TRACES / "e-burst.ami"))
    settings = Settings(config=str(lab), database_url=database_url)
    clock = lambda: datetime(2026, 11, 23, 12, tzinfo=UTC)  # noqa: E731
    services = build(settings, clock, hasher=cheap_hasher())
    try:
        demo_account(services)
        demo_account(services)  # a second start keeps the phone
        (demo,) = [u for u in services.accounts.users() if u.username == DEMO_ACCOUNT]
        assert demo.agent_device == DEMO_DEVICE
        assert services.registry.pbx.agent_device_pattern.fullmatch(DEMO_DEVICE)
        task = services.callbacks.list()[0].callback.id
        placed = services.callbacks.place_call(task, DEMO_ACCOUNT, confirm_closed=True)
        assert placed.view.callback.attempts[-1].agent_device == DEMO_DEVICE
    finally:
        services.close()


def test_the_demo_says_what_it_is_where_it_serves_and_how_to_sign_in():
    from phoneservice.cli import build_parser
    from phoneservice.cli.demo import announcement

    args = build_parser(["demo"]).parse_args(["demo", "--port", "8123", "--speed", "2"])
    purpose, board, sign_in = announcement(args, "e-burst", "s3cret-pw")
    assert "simulated phone system" in purpose and "no real calls" in purpose
    assert "http://127.0.0.1:8123/ " in board and "every 45 s" in board
    assert "new caller numbers" in board
    assert "http://127.0.0.1:8123/login as 'demo' with the password 's3cret-pw'" in sign_in
