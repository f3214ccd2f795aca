"""Numbers on the board, the unit page and the directory: tel: links with a copy button."""

from __future__ import annotations

import pytest

from phoneservice.present.wording import tel_uri
from phoneservice.settings import Settings
from phoneservice.web import create_app
from tests.conftest import SHIPPED_CONFIG


@pytest.mark.parametrize(
    ("written", "uri"),
    [
        ("+45 56 57 57 57", "tel:+4556575757"),
        ("56 57 57 57", "tel:56575757"),
        ("4510", "tel:4510"),
        ("+45 (33) 98-00-10", "tel:+4533980010"),
    ],
)
def test_a_tel_link_keeps_the_digits_and_a_leading_plus(written, uri):
    assert tel_uri(written) == uri


@pytest.fixture
def client(shipped):
    return create_app(Settings(config=SHIPPED_CONFIG), registry=shipped).test_client()


@pytest.mark.parametrize("path", ["/", "/units/borgerservice", "/directory"])
def test_every_page_with_a_number_links_it_and_offers_a_copy(client, path):
    page = client.get(path).get_data(as_text=True)
    assert '<a class="phone" href="tel:+4556575757">+45 56 57 57 57</a>' in page
    assert '<button type="button" class="copy" data-copy="+45 56 57 57 57"' in page
    assert 'aria-label="Kopiér +45 56 57 57 57" hidden>' in page  # shown by the script
