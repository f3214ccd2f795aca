"""A unit's ``url`` becomes a link on the board and the unit page: only web addresses are
accepted (security review: a ``javascript:`` URL from the registry became a live link)."""

from __future__ import annotations

import pytest

from phoneservice.registry import ConfigError, parse_registry
from tests.conftest import HEADER, TODAY

UNIT = """
[[unit]]
id = "borgerservice"
name = "Borgerservice"
kind = "centre"
phone = "+45 56 57 57 57"
url = "{url}"
"""


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(document.cookie)", "JavaScript:alert(1)", "data:text/html,x", "//evil"],
    ids=["javascript", "upper-case", "data", "scheme-relative"],
)
def test_a_url_that_is_not_a_web_address_is_refused_with_its_line(url: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_registry(HEADER + UNIT.format(url=url), "links.toml", TODAY)
    (problem,) = refused.value.problems
    text = str(problem)
    assert text.startswith("links.toml:") and "unit[0].url" in text
    assert "must be a web address starting with https:// or http://" in text


@pytest.mark.parametrize("url", ["https://www.stevns.dk", "HTTP://example.dk/a?b=c"])
def test_web_addresses_are_kept(url: str) -> None:
    registry = parse_registry(HEADER + UNIT.format(url=url), "links.toml", TODAY)
    assert registry.unit("borgerservice").url == url
