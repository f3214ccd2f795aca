"""Every column that can hold a citizen's personal data, named once (SPEC §11).

The retention purge blanks exactly these columns, and the tests check the list against
every text column of every table: a new column with a number, a name or free text in it
belongs here, or it survives the purge.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

PERSONAL_COLUMNS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        # the caller's number, the name the PBX showed with it, and the number as received
        "calls": ("caller_number", "caller_name", "caller_raw"),
        # the number to call back, and free text: staff write names and CPR numbers
        # into notes and reasons despite the UI
        "callbacks": ("caller_number", "note", "cancel_reason"),
        "callback_attempts": ("note",),
    }
)

# The column that records when a row's personal data went (tables that have one).
ERASED_AT = "number_erased_at"


def erased(table: str) -> dict[str, None]:
    """The values of an ``UPDATE`` that blanks every personal column of ``table``."""
    return dict.fromkeys(PERSONAL_COLUMNS[table])
