"""A unit: a municipal centre or an outside authority, and how to reach it."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date

from phoneservice.domain.evaluation.model import NO_GOALS, Goals
from phoneservice.domain.hours.schedule import Schedule

CENTRE = "centre"
AUTHORITY = "authority"
KINDS = (CENTRE, AUTHORITY)
# Danish numbers: eight digits nationally, "+45" or "0045" in front internationally.
DANISH_PREFIX, INTERNATIONAL_PREFIX, NATIONAL_LENGTH = "45", "00", 8
# A search made only of these characters (and at least one digit) asks "whose number?".
NUMBER_QUERY = re.compile(r"[0-9+()./ -]*[0-9][0-9+()./ -]*", re.ASCII)
_NOT_DIGIT = re.compile(r"[^0-9]", re.ASCII)


@dataclass(frozen=True, eq=False)
class Unit:
    """One phone line in the registry with its contact data and its schedule."""

    id: str
    name: str
    kind: str
    phone: str
    schedule: Schedule
    calendar: str
    menu: str | None = None
    email: str | None = None
    url: str | None = None
    notes: str | None = None
    after_hours: str | None = None
    tags: tuple[str, ...] = ()
    queues: tuple[str, ...] = ()
    dids: tuple[str, ...] = ()
    verified: date | None = None
    service_level_seconds: int | None = None  # T of the service level; None: the default
    transfer: str | None = None  # the extension or direct number staff transfer a caller to
    transfer_public: bool = False  # whether visitors who are not signed in may see it
    goals: Goals = NO_GOALS  # the registry's [goals] with this unit's own goals put over them

    def matches(self, query: str) -> bool:
        """Whether a search matches the id, the name or a tag (case-insensitive), or,
        for a number in any format, a part of the phone, transfer number or a DID."""
        needle = query.casefold().strip()
        haystack = (self.id, self.name, *self.tags)
        if any(needle in text.casefold() for text in haystack):
            return True
        digits = query_digits(query)
        return digits is not None and any(digits in form for form in self.numbers)

    @property
    def numbers(self) -> tuple[str, ...]:
        """Every digit form of the unit's phone, transfer number and DIDs (no repeats)."""
        written = (self.phone, *((self.transfer,) if self.transfer else ()), *self.dids)
        forms = (form for text in written for form in number_forms(text))
        return tuple(dict.fromkeys(forms))

    def transfer_shown(self, staff: bool) -> str | None:
        """The transfer number for this reader: staff always, others only when public."""
        return self.transfer if staff or self.transfer_public else None

    def seen_by(self, staff: bool) -> Unit:
        """This unit as a reader may see (and search) it: no hidden transfer number."""
        if self.transfer_shown(staff) == self.transfer:
            return self
        return replace(self, transfer=None)


def number_forms(text: str) -> tuple[str, ...]:
    """The digit strings a number can be typed as, so a search may find it by any part.

    A Danish number (eight digits, or with +45 / 0045 in front) gives all three forms:
    ``"+45 56 57 57 57"`` -> ``56575757``, ``4556575757``, ``004556575757``. Another
    country's number gives its digits with and without 00; an extension just its digits.
    """
    digits = _NOT_DIGIT.sub("", text)
    international = _international(text.strip(), digits)
    if international is None:
        national = digits if len(digits) == NATIONAL_LENGTH else None
    elif international.startswith(DANISH_PREFIX) and len(international) == 10:
        national = international[len(DANISH_PREFIX) :]
    else:
        return (international, INTERNATIONAL_PREFIX + international)
    if national is None:
        return (digits,) if digits else ()
    with_prefix = DANISH_PREFIX + national
    return (national, with_prefix, INTERNATIONAL_PREFIX + with_prefix)


def _international(text: str, digits: str) -> str | None:
    """The digits after + or 00 (country code first), or None for a national number.

    Ten digits starting with 45 are a Danish number written without its +.
    """
    if text.startswith("+"):
        return digits
    if digits.startswith(INTERNATIONAL_PREFIX):
        return digits[len(INTERNATIONAL_PREFIX) :]
    if len(digits) == 10 and digits.startswith(DANISH_PREFIX):
        return digits
    return None


def query_digits(query: str) -> str | None:
    """The digits of a search that is a number (``56 57 57 57``, ``+4556575757``), else None.

    A number is found when these digits are part of one of its :func:`number_forms`, so a
    query needs no prefix rules of its own: ``+45`` or ``0045`` in front are in the forms.
    """
    text = query.strip()
    return _NOT_DIGIT.sub("", text) if NUMBER_QUERY.fullmatch(text) else None
