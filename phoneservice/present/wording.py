"""Phrases for people: when a unit closes or opens, dates, deadlines, errors; Danish first.

Pure functions over aware datetimes with ``now`` as an argument, so every phrase is
tested without a clock. :class:`Words` holds them for one :class:`Language`; the module
functions are the Danish ones (the command line and the default of the pages), and
:func:`for_language` gives the English set to a page asked for in English. The other
interface text of the pages is in the templates, translated by the message catalogue.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from phoneservice.domain.hours.schedule import CLOSED_LABEL, OPEN_LABEL
from phoneservice.domain.hours.status import Status

# Within this many days a weekday name is unambiguous ("tirsdag"); after it, a date.
WEEKDAY_DAYS = 6
# A date this far ahead gets its year.
YEAR_DAYS = 180
# The labels of an ordinary day: not worth repeating next to OPEN / CLOSED.
PLAIN_REASONS = frozenset({OPEN_LABEL, CLOSED_LABEL})


@dataclass(frozen=True, slots=True)
class Language:
    """The words and patterns of one language."""

    code: str
    weekdays: tuple[str, ...]
    months: tuple[str, ...]
    day_pattern: str  # "{day}. {month}" / "{day} {month}"
    at: str  # "kl. {time}"
    midnight: str
    relative_days: Mapping[int, str]  # 0: today, 1: tomorrow, -1: yesterday
    closes: str
    opens: str
    always_open: str
    never_opens: str
    overdue: str
    override_open: str
    override_closed: str
    kinds: Mapping[str, str]
    groups: Mapping[str, str]
    errors: Mapping[int, tuple[str, str]]
    unknown_unit: tuple[str, str]
    unreadable: tuple[str, str]  # a form or address holding a NUL byte or broken text
    reasons: Mapping[str, str] = field(default_factory=dict)  # Danish day names translated


DA = Language(
    code="da",
    weekdays=("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag"),
    months=(
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
    ),
    day_pattern="{day}. {month}",
    at="kl. {time}",
    midnight="kl. 24:00",
    relative_days={0: "i dag", 1: "i morgen", -1: "i går"},
    closes="lukker {when}",
    opens="åbner {when}",
    always_open="åben hele døgnet",
    never_opens="åbner ikke inden for et år",
    overdue="forfalden siden {moment}",
    override_open="Manuelt åben til {until}: {reason}",
    override_closed="Manuelt lukket til {until}: {reason}",
    kinds={"centre": "Kommunalt center", "authority": "Anden myndighed"},
    groups={"centre": "Kommunale centre", "authority": "Andre myndigheder"},
    errors={
        400: ("Forespørgslen kan ikke læses", "Noget i adressen kan ikke læses, fx et tidspunkt."),
        403: ("Ingen adgang", "Din rolle giver ikke adgang til denne side."),
        404: ("Siden findes ikke", "Adressen findes ikke. Gå tilbage til oversigten."),
        405: ("Handlingen er ikke tilladt", "Siden kan kun vises, ikke ændres herfra."),
        409: ("Handlingen kunne ikke udføres", "Opgaven er ændret imens. Indlæs siden igen."),
        500: ("Der skete en fejl", "Serveren fejlede. Fejlen er logget; prøv igen om lidt."),
    },
    unknown_unit=("Enheden findes ikke", "Der er ingen enhed med id {unit_id!r}."),
    unreadable=(
        "Forespørgslen kan ikke læses",
        "Formularen eller adressen indeholder tegn, der ikke kan gemmes. Ret teksten og prøv igen.",
    ),
)

EN = Language(
    code="en",
    weekdays=("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    months=(
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    day_pattern="{day} {month}",
    at="at {time}",
    midnight="at midnight",
    relative_days={0: "today", 1: "tomorrow", -1: "yesterday"},
    closes="closes {when}",
    opens="opens {when}",
    always_open="open around the clock",
    never_opens="does not open within a year",
    overdue="overdue since {moment}",
    override_open="Opened by hand until {until}: {reason}",
    override_closed="Closed by hand until {until}: {reason}",
    kinds={"centre": "Municipal centre", "authority": "Other authority"},
    groups={"centre": "Municipal centres", "authority": "Other authorities"},
    errors={
        400: (
            "The request cannot be read",
            "Something in the address cannot be read, e.g. a time.",
        ),
        403: ("No access", "Your role does not give access to this page."),
        404: ("Page not found", "The address does not exist. Go back to the board."),
        405: ("Not allowed", "This page can only be viewed, not changed from here."),
        409: ("The action could not be done", "The task changed meanwhile. Reload the page."),
        500: ("Something went wrong", "The server failed. The error is logged; try again soon."),
    },
    unknown_unit=("Unit not found", "There is no unit with id {unit_id!r}."),
    unreadable=(
        "The request cannot be read",
        "The form or the address holds characters that cannot be stored. Fix the text and retry.",
    ),
    reasons={
        "Nytårsdag": "New Year's Day",
        "Skærtorsdag": "Maundy Thursday",
        "Langfredag": "Good Friday",
        "Påskedag": "Easter Sunday",
        "Anden påskedag": "Easter Monday",
        "Kristi himmelfartsdag": "Ascension Day",
        "Dagen efter Kristi himmelfartsdag": "Day after Ascension Day",
        "Pinsedag": "Whit Sunday",
        "Anden pinsedag": "Whit Monday",
        "Juleaftensdag": "Christmas Eve",
        "Juledag": "Christmas Day",
        "Anden juledag": "Boxing Day",
        "Nytårsaften": "New Year's Eve",
        "Nytårsaftensdag": "New Year's Eve",
        "Grundlovsdag": "Constitution Day",
        "Arbejdernes kampdag": "Labour Day",
        "Mellem jul og nytår": "Between Christmas and New Year",
        "Lukkedag": "Closing day",
        "Halv dag": "Half day",
    },
)


class Words:
    """Every phrase of the pages in one language."""

    def __init__(self, language: Language) -> None:
        self.language = language
        self.KINDS = language.kinds
        self.GROUPS = language.groups
        self.PLAIN_REASONS = PLAIN_REASONS

    def clock(self, moment: datetime) -> str:
        """``14:00``."""
        return f"{moment:%H:%M}"

    def day_name(self, day: date) -> str:
        """``mandag``."""
        return self.language.weekdays[day.weekday()]

    def date_text(self, day: date, *, year: bool = False) -> str:
        """``28. december`` (``28. december 2026`` with ``year``)."""
        month = self.language.months[day.month - 1]
        text = self.language.day_pattern.format(day=day.day, month=month)
        return f"{text} {day.year}" if year else text

    def long_date(self, day: date) -> str:
        """``mandag 23. november 2026``."""
        return f"{self.day_name(day)} {self.date_text(day, year=True)}"

    def when(self, moment: datetime, now: datetime) -> str:
        """``kl. 14:00``, ``i morgen kl. 10:00``, ``tirsdag kl. 10:00``, ``28. december kl. …``."""
        today = now.astimezone(moment.tzinfo).date()
        if moment.time() == time(0) and moment.date() == today + timedelta(days=1):
            return self.language.midnight  # the end of today reads better than tomorrow 00:00
        days = (moment.date() - today).days
        hour = self.language.at.format(time=self.clock(moment))
        if days == 0:
            return hour
        if days == 1:
            return f"{self.language.relative_days[1]} {hour}"
        if days <= WEEKDAY_DAYS:
            return f"{self.day_name(moment.date())} {hour}"
        return f"{self.date_text(moment.date(), year=days >= YEAR_DAYS)} {hour}"

    def day_word(self, day: date, today: date) -> str:
        """``i dag``, ``i går``, ``i morgen``, ``mandag`` within a week, else a date."""
        days = (day - today).days
        if days in self.language.relative_days:
            return self.language.relative_days[days]
        if abs(days) <= WEEKDAY_DAYS:
            return self.day_name(day)
        return self.date_text(day, year=abs(days) >= YEAR_DAYS)

    def moment(self, at: datetime, now: datetime) -> str:
        """``i dag kl. 15:00``, ``i går kl. 09:38``: ``at`` as seen at ``now``."""
        local = at.astimezone(now.tzinfo)
        hour = self.language.at.format(time=self.clock(local))
        return f"{self.day_word(local.date(), now.date())} {hour}"

    def due(self, at: datetime, now: datetime) -> str:
        """A deadline: ``i morgen kl. 15:00``, or ``forfalden siden i går kl. 15:00``."""
        if now > at:
            return self.language.overdue.format(moment=self.moment(at, now))
        return self.moment(at, now)

    def phone(self, number: str | None) -> str:
        """A number for reading: ``+45 23 11 99 93``; other numbers as they are."""
        return phone(number)

    def change(self, status: Status, now: datetime) -> str:
        """The next change of ``status`` at ``now``: ``lukker kl. 14:00``, ``åbner ...``."""
        if status.open:
            if status.closes_at is None:
                return self.language.always_open
            return self.language.closes.format(when=self.when(status.closes_at, now))
        if status.next_open is None:
            return self.language.never_opens
        return self.language.opens.format(when=self.when(status.next_open, now))

    def reason(self, status: Status) -> str | None:
        """The reason worth showing (``Juleaftensdag``), or None on an ordinary day."""
        if status.reason in PLAIN_REASONS:
            return None
        return self.reason_name(status.reason)

    def reason_name(self, text: str | None) -> str:
        """A day's name (``Juleaftensdag``) in this language; the registry's own names as given."""
        return self.language.reasons.get(text or "", text or "")

    def override(self, status: Status, now: datetime) -> str | None:
        """``Manuelt lukket til kl. 14:30: brandalarm`` while an override holds."""
        found = status.override
        if found is None:
            return None
        pattern = self.language.override_open if found.open else self.language.override_closed
        # "until 14:30", not "until at 14:30"; Danish keeps "til kl. 14:30"
        until = self.when(found.end.astimezone(now.tzinfo), now).removeprefix("at ")
        return pattern.format(until=until, reason=found.reason)

    def error(self, status: int) -> tuple[str, str]:
        """The title and explanation of an HTTP error status."""
        errors = self.language.errors
        return errors.get(status, errors[500] if status >= 500 else errors[400])

    def unreadable(self) -> tuple[str, str]:
        """The title and explanation of a 400 for input that cannot be stored."""
        return self.language.unreadable

    def unknown_unit(self, unit_id: str) -> tuple[str, str]:
        """The title and explanation of a 404 for a unit id."""
        title, text = self.language.unknown_unit
        return title, text.format(unit_id=unit_id)


def tel_uri(number: str | None) -> str:
    """A ``tel:`` link for a number as written: its digits, with a leading ``+`` kept."""
    text = (number or "").strip()
    digits = "".join(char for char in text if char.isascii() and char.isdigit())
    return f"tel:{'+' if text.startswith('+') else ''}{digits}"


def phone(number: str | None) -> str:
    """A Danish number for reading: ``+45 23 11 99 93``; other numbers as they are."""
    text = (number or "").strip()
    digits = text.removeprefix("+45")
    if len(digits) == 8 and digits.isdigit():
        pairs = " ".join(digits[i : i + 2] for i in range(0, 8, 2))
        return f"+45 {pairs}" if text.startswith("+45") else pairs
    return text


DANISH, ENGLISH = Words(DA), Words(EN)
_BY_CODE = {"da": DANISH, "en": ENGLISH}


def for_language(code: str) -> Words:
    """The phrases of ``code`` (``da`` or ``en``); Danish for anything else."""
    return _BY_CODE.get(code, DANISH)


# The Danish phrases as plain functions: the command line and the tests use these.
WEEKDAYS, MONTHS = DA.weekdays, DA.months
KINDS, GROUPS, ERRORS = DA.kinds, DA.groups, DA.errors
clock = DANISH.clock
day_name = DANISH.day_name
date_text = DANISH.date_text
long_date = DANISH.long_date
when = DANISH.when
day_word = DANISH.day_word
moment = DANISH.moment
due = DANISH.due
change = DANISH.change
reason = DANISH.reason
override = DANISH.override
error = DANISH.error
unknown_unit = DANISH.unknown_unit

# The command line speaks Danish: a call's outcome and a callback's state in its text lines
# (JSON keeps the codes). The web's words for them are in its templates and catalogue.
CALL_OUTCOMES: Mapping[str, str] = {
    "answered": "besvaret",
    "abandoned": "lagt på",
    "timeout": "timeout",
    "closed": "lukket",
    "unanswered": "ubesvaret",
    "unknown": "ukendt",
}
CALLBACK_STATES: Mapping[str, str] = {
    "open": "åben",
    "done": "afsluttet",
    "unreachable": "ikke truffet",
    "cancelled": "annulleret",
}
