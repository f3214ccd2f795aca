"""Danish phrases for the pages: when a unit closes or opens, dates, errors.

Pure functions over aware datetimes with ``now`` as an argument, so every phrase is
tested without a clock. All user-facing text of the board lives here or in templates,
ready for a translation layer later.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from phoneservice.domain.hours import Status
from phoneservice.domain.schedule import CLOSED_LABEL, OPEN_LABEL

WEEKDAYS = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")
MONTHS = (
    "januar",
    "februar",
    "marts",
    "april",
    "maj",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "december",
)
KINDS = {"centre": "Kommunalt center", "authority": "Anden myndighed"}
GROUPS = {"centre": "Kommunale centre", "authority": "Andre myndigheder"}
# Within this many days a weekday name is unambiguous ("tirsdag"); after it, a date.
WEEKDAY_DAYS = 6
# A date this far ahead gets its year.
YEAR_DAYS = 180
# The labels of an ordinary day: not worth repeating next to OPEN / CLOSED.
PLAIN_REASONS = frozenset({OPEN_LABEL, CLOSED_LABEL})

ERRORS = {
    400: ("Forespørgslen kan ikke læses", "Noget i adressen kan ikke læses, fx et tidspunkt."),
    403: ("Ingen adgang", "Din rolle giver ikke adgang til denne side."),
    404: ("Siden findes ikke", "Adressen findes ikke. Gå tilbage til oversigten."),
    405: ("Handlingen er ikke tilladt", "Siden kan kun vises, ikke ændres herfra."),
    409: ("Handlingen kunne ikke udføres", "Opgaven er ændret imens. Indlæs siden igen."),
    500: ("Der skete en fejl", "Serveren fejlede. Fejlen er logget; prøv igen om lidt."),
}
UNKNOWN_UNIT = ("Enheden findes ikke", "Der er ingen enhed med id {unit_id!r}.")


def clock(moment: datetime) -> str:
    """``14:00``."""
    return f"{moment:%H:%M}"


def day_name(day: date) -> str:
    """``mandag``."""
    return WEEKDAYS[day.weekday()]


def date_text(day: date, *, year: bool = False) -> str:
    """``28. december`` (``28. december 2026`` with ``year``)."""
    text = f"{day.day}. {MONTHS[day.month - 1]}"
    return f"{text} {day.year}" if year else text


def long_date(day: date) -> str:
    """``mandag 23. november 2026``."""
    return f"{day_name(day)} {date_text(day, year=True)}"


def when(moment: datetime, now: datetime) -> str:
    """``kl. 14:00``, ``i morgen kl. 10:00``, ``tirsdag kl. 10:00``, ``28. december kl. 10:00``."""
    today = now.astimezone(moment.tzinfo).date()
    if moment.time() == time(0) and moment.date() == today + timedelta(days=1):
        return "kl. 24:00"  # the end of today reads better than tomorrow at 00:00
    days = (moment.date() - today).days
    hour = f"kl. {clock(moment)}"
    if days == 0:
        return hour
    if days == 1:
        return f"i morgen {hour}"
    if days <= WEEKDAY_DAYS:
        return f"{day_name(moment.date())} {hour}"
    return f"{date_text(moment.date(), year=days >= YEAR_DAYS)} {hour}"


def day_word(day: date, today: date) -> str:
    """``i dag``, ``i går``, ``i morgen``, ``mandag`` within a week, else ``28. december``."""
    days = (day - today).days
    words = {0: "i dag", 1: "i morgen", -1: "i går"}
    if days in words:
        return words[days]
    if abs(days) <= WEEKDAY_DAYS:
        return day_name(day)
    return date_text(day, year=abs(days) >= YEAR_DAYS)


def moment(at: datetime, now: datetime) -> str:
    """``i dag kl. 15:00``, ``i går kl. 09:38``, ``mandag kl. 15:00``: ``at`` seen at ``now``."""
    local = at.astimezone(now.tzinfo)
    return f"{day_word(local.date(), now.date())} kl. {clock(local)}"


def due(at: datetime, now: datetime) -> str:
    """A callback deadline: ``i morgen kl. 15:00``, or ``forfalden siden i går kl. 15:00``."""
    return f"forfalden siden {moment(at, now)}" if now > at else moment(at, now)


def phone(number: str | None) -> str:
    """A number for reading: ``+45 23 11 99 93``; other numbers as they are."""
    text = (number or "").strip()
    digits = text.removeprefix("+45")
    if len(digits) == 8 and digits.isdigit():
        pairs = " ".join(digits[i : i + 2] for i in range(0, 8, 2))
        return f"+45 {pairs}" if text.startswith("+45") else pairs
    return text


def change(status: Status, now: datetime) -> str:
    """The next change of ``status`` as seen at ``now``: ``lukker kl. 14:00``, ``åbner ...``."""
    if status.open:
        if status.closes_at is None:
            return "åben hele døgnet"
        return f"lukker {when(status.closes_at, now)}"
    if status.next_open is None:
        return "åbner ikke inden for et år"
    return f"åbner {when(status.next_open, now)}"


def reason(status: Status) -> str | None:
    """The reason worth showing (``Juleaftensdag``), or None on an ordinary day."""
    return None if status.reason in PLAIN_REASONS else status.reason


def override(status: Status, now: datetime) -> str | None:
    """``Ændret manuelt til i morgen kl. 10:00: Personalemøde`` while an override holds."""
    found = status.override
    if found is None:
        return None
    state = "åben" if found.open else "lukket"
    until = when(found.end.astimezone(now.tzinfo), now)
    return f"Manuelt {state} til {until}: {found.reason}"


def error(status: int) -> tuple[str, str]:
    """The Danish title and explanation of an HTTP error status."""
    return ERRORS.get(status, ERRORS[500] if status >= 500 else ERRORS[400])


def unknown_unit(unit_id: str) -> tuple[str, str]:
    """The title and explanation of a 404 for a unit id."""
    title, text = UNKNOWN_UNIT
    return title, text.format(unit_id=unit_id)
