"""The English catalogue: every Danish message of the web interface is translated and compiled."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from tests.conftest import ROOT

KEYWORDS = {"_": None, "_l": None, "N_": None, "gettext": None, "ngettext": (1, 2)}
CATALOGUE = ROOT / "phoneservice" / "web" / "translations" / "en" / "LC_MESSAGES"
METHODS = [
    ("phoneservice/domain/report_definitions.py", "python"),
    ("phoneservice/web/**.py", "python"),
    ("phoneservice/web/templates/**.html", "jinja2"),
]


def interface_messages() -> set[str]:
    """Every message id marked for translation in the web code and templates."""
    found = extract_from_dir(str(ROOT), METHODS, keywords=KEYWORDS)
    ids: set[str] = set()
    for _file, _line, message, _comments, _context in found:
        ids.update([message] if isinstance(message, str) else [message[0]])
    return ids


def load(path: Path, reader) -> dict[str, str]:
    """Message id → translation; a plural entry under its singular id, "" if a form is empty."""
    with path.open("rb") as stream:
        catalog = reader(stream)
    found = {}
    for m in catalog:
        if not m.id:
            continue
        if isinstance(m.id, str):
            found[m.id] = m.string
        else:  # plural: every form must be there
            forms = list(m.string)
            found[m.id[0]] = forms[0] if forms and all(forms) else ""
    return found


def test_every_danish_message_has_an_english_translation():
    translated = load(CATALOGUE / "messages.po", read_po)
    missing = sorted(m for m in interface_messages() if not translated.get(m))
    assert missing == [], "run scripts/translations and translate:\n" + "\n".join(missing)


def test_the_compiled_catalogue_matches_the_po_file():
    assert load(CATALOGUE / "messages.mo", read_mo) == {
        k: v for k, v in load(CATALOGUE / "messages.po", read_po).items() if v
    }, "run scripts/translations to compile the .mo"
