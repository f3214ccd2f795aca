"""The password policy: long enough, not a common password, not the username (SPEC §11).

The common passwords are a list shipped with the package (``data/common_passwords.txt``,
rebuilt by ``scripts/common_passwords``). Since every password has at least
:data:`MIN_PASSWORD` characters, a common word padded with digits or signs
("Sommer2024!", "password123456") counts as that word.
"""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files

MIN_PASSWORD = 12
MIN_NAME_IN_PASSWORD = 3  # a username this short ("bo") is part of too many real words
_PADDING_END = re.compile(r"[\W\d_]+$")
_PADDING_START = re.compile(r"^[\W\d_]+")


class WeakPassword(ValueError):
    """A password the policy refuses; the message says why (English)."""


def check_password(password: str, username: str) -> str:
    """``password`` if the policy allows it for ``username``; else :class:`WeakPassword`."""
    if len(password) < MIN_PASSWORD:
        raise WeakPassword(f"a password needs at least {MIN_PASSWORD} characters")
    folded = password.casefold()
    name = username.strip().casefold()
    if len(name) >= MIN_NAME_IN_PASSWORD and name in folded:
        raise WeakPassword("the password contains the username")
    if is_common(folded):
        raise WeakPassword("the password is too common: choose a longer, less predictable one")
    return password


def is_common(password: str) -> bool:
    """Whether ``password`` (case-folded) is a common one, alone or padded with digits/signs."""
    bare = _PADDING_END.sub("", password)
    candidates = {password, bare, _PADDING_START.sub("", bare)} - {""}
    return not candidates.isdisjoint(common_passwords())


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list, read once per process on first use."""
    text = files("phoneservice.services").joinpath("data/common_passwords.txt")
    lines = text.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))
