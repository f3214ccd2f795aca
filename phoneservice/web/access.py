"""Who may see which task and number, and the access log of every look and action (SPEC §11).

The callback page and the authenticated API ask the same questions here, so the rule
"numbers only for one's own units" and the log of who saw what are written once.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from flask import request

from phoneservice.domain.callbacks.rules import ATTEMPT_OUTCOMES, NOTE_LIMIT
from phoneservice.services.callbacks import CallbackNotFound, CallbackView
from phoneservice.web import store
from phoneservice.web.auth import principal
from phoneservice.web.errors import BadParameter

MAX_ID = 2**31 - 1  # the largest id an INTEGER column holds on PostgreSQL


def shown_number(unit: str | None, number: str | None) -> str | None:
    """The citizen's number when the principal serves ``unit``; None otherwise (the one check)."""
    return number if principal().serves(unit) else None


def visible_units() -> frozenset[str] | None:
    """The units whose tasks the principal sees; None: every unit."""
    return principal().units


def task(callback_id: int) -> CallbackView:
    """A task of the principal's units; others are :class:`CallbackNotFound`, as if absent."""
    if callback_id > MAX_ID:  # beyond any stored id, and beyond the database's integers
        raise CallbackNotFound(f"no callback with id {callback_id}")
    view = store.callbacks().get(callback_id)
    units = visible_units()
    if units is not None and view.callback.unit not in units:
        raise CallbackNotFound(f"no callback with id {callback_id}")
    return view


def outcome(value: object) -> str:
    """An attempt outcome, or :class:`BadParameter`."""
    if value not in ATTEMPT_OUTCOMES:
        raise BadParameter(f"outcome: {value!r} must be one of {', '.join(ATTEMPT_OUTCOMES)}")
    return str(value)


def short_text(name: str, value: object, *, required: bool = False) -> str | None:
    """A note or reason: text of at most NOTE_LIMIT characters (stripped), or None."""
    if value is not None and not isinstance(value, str):
        raise BadParameter(f"{name}: must be text")
    text = (value or "").strip()
    if len(text) > NOTE_LIMIT:
        raise BadParameter(f"{name}: at most {NOTE_LIMIT} characters, not {len(text)}")
    if required and not text:
        raise BadParameter(f"{name}: required")
    return text or None


def log(action: str, subject: str, detail: str | None = None) -> None:
    """One entry of the access log: the principal, what they did, to what, from where."""
    store.audit().audit(principal().actor, action, subject, detail, remote_addr=request.remote_addr)


def log_list(action: str, subject: str, count: int, ids: str) -> None:
    """The access log of a list shown: how many items and which (``n=3 ids=7-9``)."""
    log(action, subject, f"n={count} ids={ids}")


def units_subject(unit: str | None, units: Collection[str] | None) -> str:
    """The units a list covers, for the log: one, the principal's own, or ``*`` for all."""
    if unit is not None:
        return unit
    return " ".join(sorted(units)) if units is not None else "*"


def compact(ids: Iterable[int]) -> str:
    """Task ids in a short form: ``3,7-9`` (runs of consecutive ids as a range)."""
    runs: list[list[int]] = []
    for number in sorted(set(ids)):
        if runs and number == runs[-1][-1] + 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    return ",".join(str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs)
