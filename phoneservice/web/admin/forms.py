"""The admin forms read: clean values, or :class:`FormError` with the Danish notice to show.

The services explain refusals in English for logs and the API; the page says them in
the interface language through the tables here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from phoneservice.domain.accounts import ROLES
from phoneservice.domain.localtime import localize
from phoneservice.services.accounts import AccountError
from phoneservice.services.overrides import MAX_MINUTES, MAX_REASON, OverrideError, Until
from phoneservice.services.tokens import SCOPES

Form = MultiDict[str, str]
# An OverrideError's code → what the page says.
OVERRIDE_NOTICES = {
    "reason": _l("Skriv en begrundelse."),
    "reason_long": _l("Begrundelsen må højst have 200 tegn."),
    "minutes": _l("Skriv antallet af minutter som et helt tal, højst et år."),
    "end": _l("Vælg, hvornår ændringen skal slutte."),
    "past": _l("Sluttidspunktet er allerede passeret."),
    "far": _l("Sluttidspunktet må højst ligge et år ude i fremtiden."),
    "already_closed": _l("Enheden er allerede lukket nu. Vælg et klokkeslæt."),
    "already_open": _l("Enheden har allerede åbent nu. Vælg et klokkeslæt."),
    "no_change": _l("Enheden har ingen planlagt ændring inden for et år. Vælg et klokkeslæt."),
    "not_found": _l("Ændringen findes ikke."),
    "over": _l("Ændringen er allerede afsluttet."),
}
# Words in an AccountError's message → what the page says (first match wins).
ACCOUNT_NOTICES = (
    ("exists already", _l("Brugernavnet findes allerede.")),
    ("device refused", _l("Telefonen passer ikke til registerets mønster for telefoner.")),
    ("password needs", _l("Adgangskoden skal have mindst 12 tegn.")),
    ("contains the username", _l("Adgangskoden må ikke indeholde brugernavnet.")),
    (
        "too common",
        _l("Adgangskoden er for almindelig. Vælg en længere og mindre forudsigelig."),
    ),
    ("username", _l("Brugernavnet skal have 2-64 tegn: a-z, 0-9, punktum, bindestreg, _.")),
    ("role", _l("Vælg en rolle: viewer, agent eller admin.")),
    ("token needs a name", _l("Giv nøglen et navn.")),
    ("scopes", _l("Vælg mindst én rettighed til nøglen.")),
    ("no user", _l("Brugeren findes ikke.")),
    ("no token", _l("Nøglen findes ikke.")),
)


class FormError(ValueError):
    """A form that cannot be used; the message is the notice for the page."""


def override_notice(exc: OverrideError) -> str:
    """The page's words for a refused override."""
    return str(OVERRIDE_NOTICES.get(exc.code, _l("Ændringen kunne ikke gemmes.")))


def account_notice(exc: AccountError) -> str:
    """The page's words for a refused account change."""
    text = str(exc)
    found = (notice for words, notice in ACCOUNT_NOTICES if words in text)
    return str(next(found, _l("Ændringen kunne ikke gemmes.")))


def override_until(form: Form, now: datetime) -> Until:
    """The end chosen in the override form: minutes, the next change, or a clock time."""
    kind = form.get("until", "")
    if kind == "minutes":
        return Until(minutes=whole_minutes(form.get("minutes", "")))
    if kind == "next":
        return Until(next_change=True)
    if kind == "time":
        return Until(at=next_clock_time(form.get("time", ""), now))
    raise FormError(str(_l("Vælg, hvornår ændringen skal slutte.")))


def whole_minutes(text: str) -> int:
    """A number of minutes from 1 to a year."""
    text = text.strip()
    # ASCII digits only: "²" passes isdigit() but int() refuses it, and "١٢" is no number here.
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) <= MAX_MINUTES:
        raise FormError(str(OVERRIDE_NOTICES["minutes"]))
    return int(text)


def next_clock_time(text: str, now: datetime) -> datetime:
    """The next ``HH:MM`` after ``now`` in its zone: today, or tomorrow if it has passed."""
    try:
        wall = datetime.strptime(text.strip(), "%H:%M").time()
    except ValueError as exc:
        raise FormError(str(_l("Skriv klokkeslættet som TT:MM, fx 14:30."))) from exc
    tz = now.tzinfo
    if not isinstance(tz, ZoneInfo):
        raise FormError(str(_l("Ændringen kunne ikke gemmes.")))
    moment = localize(datetime.combine(now.date(), wall), tz)
    if moment <= now:
        moment = localize(datetime.combine(now.date() + timedelta(days=1), wall), tz)
    return moment


def reason(form: Form) -> str:
    """The reason: required, at most :data:`MAX_REASON` characters."""
    text = " ".join(form.get("reason", "").split())
    if not text:
        raise FormError(str(OVERRIDE_NOTICES["reason"]))
    if len(text) > MAX_REASON:
        raise FormError(str(OVERRIDE_NOTICES["reason_long"]))
    return text


def units(text: str, known: Mapping[str, object]) -> list[str]:
    """Unit ids separated by spaces or commas; each must be in the registry."""
    ids = sorted(set(text.replace(",", " ").split()))
    unknown = [unit_id for unit_id in ids if unit_id not in known]
    if unknown:
        message = _l("Ukendte enheder: %(ids)s.", ids=", ".join(unknown))
        raise FormError(str(message))
    return ids


def role(value: str | None) -> str:
    """One of the roles."""
    if value not in ROLES:
        raise FormError(str(_l("Vælg en rolle: viewer, agent eller admin.")))
    return value


def scopes(values: Iterable[str]) -> list[str]:
    """At least one known scope."""
    chosen = sorted(set(values) & set(SCOPES))
    if not chosen:
        raise FormError(str(_l("Vælg mindst én rettighed til nøglen.")))
    return chosen
