"""``[pbx] agent_device_pattern``: the default without it, the file's own with it."""

from __future__ import annotations

from phoneservice.domain.callbacks.originate import DEFAULT_DEVICE_PATTERN
from phoneservice.registry import parse_registry
from tests.conftest import LAB_REGISTRY, TODAY

CONTEXTS = 'inbound_contexts = ["inbound"]'


def test_without_a_pattern_the_default_allows_sip_phones_only():
    pattern = parse_registry(LAB_REGISTRY, "lab.toml", TODAY).pbx.agent_device_pattern
    assert pattern.pattern == DEFAULT_DEVICE_PATTERN
    assert pattern.fullmatch("PJSIP/anne")
    assert not pattern.fullmatch("Local/004790000000@outbound-trunk")


def test_the_registry_s_own_pattern_replaces_the_default():
    line = "agent_device_pattern = 'Local/agent[0-9]{1,3}@agent-phone'"
    text = LAB_REGISTRY.replace(CONTEXTS, f"{CONTEXTS}\n{line}")
    pattern = parse_registry(text, "lab.toml", TODAY).pbx.agent_device_pattern
    assert pattern.fullmatch("Local/agent2@agent-phone")
    assert not pattern.fullmatch("PJSIP/anne")


def test_the_shipped_registry_allows_sip_phones_only(shipped):
    pattern = shipped.pbx.agent_device_pattern
    assert pattern.fullmatch("PJSIP/anne") and pattern.fullmatch("SIP/1042")
    assert not pattern.fullmatch("Local/004790000000@outbound-trunk")
