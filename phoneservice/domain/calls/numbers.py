"""Caller numbers: the CallerIDNum as received, and its E.164 form (SPEC §5.1, §13).

The one normaliser for every witness (the AMI stream, queue_log); callback tasks key on
its result. ``phonenumbers`` is data and pure code (no I/O, no framework), so the domain
may use it; the registry's country is the region national numbers are read in.
"""

from __future__ import annotations

from functools import lru_cache

import phonenumbers

DEFAULT_REGION = "DK"
_NO_NUMBER = frozenset({"", "<unknown>"})  # how Asterisk shows a caller without a number
_E164 = phonenumbers.PhoneNumberFormat.E164


def as_received(value: str | None) -> str | None:
    """The CallerIDNum as received; None when Asterisk had none (empty, ``<unknown>``)."""
    text = (value or "").strip()
    return None if text.casefold() in _NO_NUMBER else text


@lru_cache(maxsize=4096)  # parsing costs ~0.5 ms; callers call again (pure, so safe to keep)
def caller_number(raw: str | None, region: str = DEFAULT_REGION) -> str | None:
    """The caller's number in E.164, or None when withheld, empty or not a valid number.

    A national number is read in ``region``: in Denmark ``55193292``, ``004555193292``
    and ``4555193292`` all become ``+4555193292``; ``+46…`` stays Swedish. Letters
    (``anonymous``, ``Restricted``, vanity spellings) are never a number to call back.
    Valid means a country code and a length that country uses: ``phonenumbers``' lists
    of assigned ranges lag behind the operators, and a missed call must keep its callback.
    """
    text = (raw or "").strip()
    if not text or any(char.isalpha() for char in text):
        return None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(number, _E164) if _valid(number) else None


def _valid(number: phonenumbers.PhoneNumber) -> bool:
    """Whether the number has a known country code and a length that country uses."""
    return bool(phonenumbers.is_possible_number(number))
