"""Who may do what (SPEC §11): the roles of a local account."""

from __future__ import annotations

# A viewer sees the board and reports; an agent also works its units' callbacks; an
# admin sees every unit and manages users, tokens and overrides.
ROLES = ("viewer", "agent", "admin")
