"""The one check every request's input passes before any route reads it.

Text that no database can store (a NUL byte, which PostgreSQL refuses, or a lone UTF-16
surrogate, which no UTF-8 column can hold) and JSON nested deeper than any body we accept
are refused here with a 400 (``errors.py`` turns ``UnreadableInput`` into JSON under /api
and the Danish 400 page elsewhere), so no route can fail on them later.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from flask import request

from phoneservice.web.errors import UnreadableInput

# The largest request body: far above any form or JSON body we take (reasons are at most
# 200 characters); larger bodies get a 413 before anything reads them.
MAX_CONTENT_LENGTH = 64 * 1024
# Our JSON bodies are flat objects; 32 levels leave room and stop a recursion bomb.
MAX_JSON_DEPTH = 32
# NUL and the UTF-16 surrogate halves, which cannot be encoded as UTF-8.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def check_request() -> None:
    """Refuse the request if its query, form, path or JSON body holds unreadable input."""
    for where, text in _texts():
        if UNSTORABLE.search(text):
            raise UnreadableInput(f"{where}: contains a NUL byte or an invalid character")
    if request.is_json and request.get_data(cache=True):
        check_json(request.get_data(cache=True))


def check_json(data: bytes) -> None:
    """Refuse a JSON body nested too deeply or holding unstorable strings."""
    try:
        found = json.loads(data)
    except RecursionError as exc:
        raise UnreadableInput(f"body: nested deeper than {MAX_JSON_DEPTH} levels") from exc
    except ValueError:
        return  # not JSON at all: the route says what it wanted
    _check_value(found)


def _check_value(value: Any) -> None:
    """Walk a decoded JSON value without recursion, checking its depth and its strings."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if depth > MAX_JSON_DEPTH:
            raise UnreadableInput(f"body: nested deeper than {MAX_JSON_DEPTH} levels")
        if isinstance(item, str) and UNSTORABLE.search(item):
            raise UnreadableInput("body: contains a NUL byte or an invalid character")
        if isinstance(item, dict):
            pending.extend((member, depth + 1) for pair in item.items() for member in pair)
        elif isinstance(item, list):
            pending.extend((member, depth + 1) for member in item)


def _texts() -> Iterator[tuple[str, str]]:
    """Every name and value of the query string, the form and the path, with where it was."""
    yield from _pairs(request.args.items(multi=True))
    if request.method != "GET" and request.mimetype in _FORM_TYPES:
        yield from _pairs(request.form.items(multi=True))
    yield from _pairs((request.view_args or {}).items())


def _pairs(items: Iterable[tuple[str, Any]]) -> Iterator[tuple[str, str]]:
    """``(where, text)`` for each name and each text value; the name says where."""
    for name, value in items:
        where = name if not UNSTORABLE.search(name) else "parameter name"
        yield where, name
        if isinstance(value, str):
            yield where, value
