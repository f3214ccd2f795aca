"""``/admin`` and ``/api/v1/overrides``: overrides, users, tokens and the audit log."""
