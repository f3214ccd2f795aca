"""The session signing key (issue H1 of the security review): a short key or a placeholder
copied from the example file is refused, so nobody can sign an admin's cookie with it."""

from __future__ import annotations

import stat

import pytest

from phoneservice.settings import Settings, SettingsError
from phoneservice.web import create_app
from tests.conftest import SHIPPED_CONFIG

GOOD = "3f1c0a9d6b2e4f7a8c5d1e0b9a7f6c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b"


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("CHANGE-ME", "has 9 bytes"),
        ("x" * 31, "has 31 bytes"),
        ("CHANGE-ME-" + "0" * 40, "placeholder"),
        ("please-change-me-to-a-long-random-value", "placeholder"),
        ("your-secret-key-goes-here-0123456789", "placeholder"),
    ],
    ids=["example-file", "31-bytes", "padded-placeholder", "change-me-phrase", "your-secret"],
)
def test_a_weak_key_is_refused_where_sessions_are_signed(key: str, why: str) -> None:
    settings = Settings(config=str(SHIPPED_CONFIG), secret_key=key)
    with pytest.raises(SettingsError, match=why):
        settings.require_secret_key()  # web and gunicorn
    with pytest.raises(SettingsError, match=why):
        settings.instance_secret_key()  # run and demo, given a key
    with pytest.raises(SettingsError, match=why):
        create_app(settings)  # any app built with it


def test_a_long_random_key_is_used() -> None:
    settings = Settings(config=str(SHIPPED_CONFIG), secret_key=GOOD)
    assert settings.require_secret_key() == GOOD
    assert create_app(settings).config["SECRET_KEY"] == GOOD


def test_run_keeps_its_own_key_in_a_private_instance_folder(tmp_path) -> None:
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)
    settings = Settings(config=str(SHIPPED_CONFIG), instance=instance)
    key = settings.instance_secret_key()
    assert len(key) == 64 and settings.instance_secret_key() == key  # kept across starts
    assert stat.S_IMODE(instance.stat().st_mode) == 0o700  # the database beside it, too
    assert stat.S_IMODE((instance / "secret_key").stat().st_mode) == 0o600
