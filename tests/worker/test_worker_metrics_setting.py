"""``PHONESERVICE_WORKER_METRICS``: where a worker of its own serves its in-memory figures."""

from __future__ import annotations

import pytest

from phoneservice.settings import Settings, SettingsError


@pytest.mark.parametrize(
    ("value", "address"),
    [
        ("127.0.0.1:9463", ("127.0.0.1", 9463)),
        ("[::1]:9463", ("::1", 9463)),
        ("0.0.0.0:1", ("0.0.0.0", 1)),
        ("", None),
    ],
)
def test_a_host_and_port(value, address):
    assert Settings.from_env({"PHONESERVICE_WORKER_METRICS": value}).worker_metrics == address


def test_unset_serves_nothing():
    assert Settings.from_env({}).worker_metrics is None


@pytest.mark.parametrize("value", ["9463", ":9463", "host:", "host:0", "host:65536", "host:x"])
def test_a_bad_address_is_named(value):
    with pytest.raises(SettingsError, match=r"PHONESERVICE_WORKER_METRICS=.*host:port"):
        Settings.from_env({"PHONESERVICE_WORKER_METRICS": value})
