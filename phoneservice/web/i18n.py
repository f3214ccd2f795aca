"""Languages: Danish first, English by ``Accept-Language`` or the switch (``?lang=en``).

The Danish text in the templates is the message id; the English catalogue in
``translations/en`` translates it (docs/web.md says why Danish is the source). The choice
made with the switch is kept in a cookie for a year.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, Response, g, request
from flask_babel import Babel, get_locale

from phoneservice.present import wording

LANGUAGES = ("da", "en")
DEFAULT = "da"
COOKIE = "lang"
COOKIE_AGE = 365 * 24 * 3600


def init(app: Flask) -> None:
    """Flask-Babel on ``app``, with the language chosen per request."""
    app.config["BABEL_DEFAULT_LOCALE"] = DEFAULT
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = "translations"
    Babel(app, locale_selector=select_language)
    app.after_request(_remember_choice)
    app.context_processor(
        lambda: {
            "language": language(),
            "languages": LANGUAGES,
            "language_url": language_url,
            "words": words,
        }
    )


def select_language() -> str:
    """``?lang=``, then the cookie, then the browser's ``Accept-Language``, then Danish."""
    chosen = request.args.get(COOKIE)
    if chosen in LANGUAGES:
        g.language_choice = chosen
        return chosen
    kept = request.cookies.get(COOKIE)
    if kept in LANGUAGES:
        return kept
    return request.accept_languages.best_match(LANGUAGES, default=DEFAULT) or DEFAULT


def language() -> str:
    """The language of this request: ``da`` or ``en``."""
    return str(get_locale() or DEFAULT)


def language_url(code: str) -> str:
    """This page in language ``code``: its query (search, filters) kept, ``lang`` set."""
    args = request.args.to_dict(flat=False)
    args[COOKIE] = [code]
    return "?" + urlencode(args, doseq=True)


def words() -> wording.Words:
    """The phrases (times, dates, reasons, errors) in this request's language."""
    return wording.for_language(language())


def _remember_choice(response: Response) -> Response:
    """Keep a language chosen with the switch in a cookie."""
    chosen = g.get("language_choice")
    if chosen:
        response.set_cookie(COOKIE, chosen, max_age=COOKIE_AGE, samesite="Lax", httponly=True)
    return response
