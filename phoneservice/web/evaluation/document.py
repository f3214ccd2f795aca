"""The evaluation as a document: what the template is given, and the PDF made from it.

The page and the PDF are one template (``evaluation.html``); the PDF sets ``pdf`` so the
template leaves out the form and the menu, starts with a cover (the municipality's name
and the period) and links its stylesheets inline, and WeasyPrint lays it out on A4. The
PDF is always Danish (``force_locale``): it is what is handed to the council. WeasyPrint
fetches nothing: every resource is in the HTML, and its URL fetcher refuses the rest.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import has_request_context, render_template
from flask_babel import force_locale

from phoneservice.domain.evaluation.model import GOAL_KEYS, SHARE_GOALS, Evaluation
from phoneservice.domain.reports.definitions import FIGURES, GENERAL
from phoneservice.domain.reports.figures import ReportParameters
from phoneservice.present.evaluation import (
    DAY_NAMES,
    EVALUATION_FIGURES,
    GOAL_LABELS,
    definition_values,
    shown_units,
)
from phoneservice.web.evaluation import charts

if TYPE_CHECKING:
    from phoneservice.bootstrap import Services

# The report's definitions of the figures the evaluation shows, then its own.
SHOWN_DEFINITIONS = (
    *((key, GENERAL[key]) for key in ("period", "threshold", "short_abandon", "empty")),
    *(
        (key, FIGURES[key])
        for key in ("answer_rate", "service_level", "wait_p90_s", "on_time_rate", "ack_median_s")
    ),
    *EVALUATION_FIGURES.items(),
)
STATIC = Path(__file__).resolve().parent.parent / "static"
PRINTED_CSS = ("board.css", "staff.css", "reports.css", "evaluation.css", "evaluation-print.css")
PDF_LANGUAGE = "da"


def context(found: Evaluation | None, params: ReportParameters | None) -> dict[str, Any]:
    """What the template needs besides the form: the evaluation and its helpers."""
    filled = {} if found is None or params is None else definition_values(found, params)
    return {
        "evaluation": found,
        "shown": [] if found is None else shown_units(found),
        "charts": charts,
        "goal_labels": GOAL_LABELS,
        "share_goals": SHARE_GOALS,
        "goal_keys": GOAL_KEYS,
        "day_names": DAY_NAMES,
        "definitions": [(key, text, filled) for key, text in SHOWN_DEFINITIONS],
        "pdf": False,
    }


def render_document(found: Evaluation, params: ReportParameters) -> str:
    """The page's template as the PDF's HTML, in Danish, its stylesheets inline."""
    css = "\n".join((STATIC / name).read_text(encoding="utf-8") for name in PRINTED_CSS)
    with force_locale(PDF_LANGUAGE):
        return render_template(
            "evaluation.html",
            **{**context(found, params), "pdf": True},
            printed_css=css,
            form=None,
            units=[],
            query={},
        )


def evaluation_pdf(services: Services, found: Evaluation, unit: str | None = None) -> bytes:
    """The evaluation as an A4 PDF (in a request of the app, or of an app made here)."""
    params = services.reports.parameters()
    if has_request_context():
        return to_pdf(render_document(found, params))
    from phoneservice.web import create_app

    app = create_app(services)
    path = f"/evaluation.pdf?from={found.first}&to={found.last}" + (f"&unit={unit}" if unit else "")
    with app.test_request_context(path):
        return to_pdf(render_document(found, params))


def to_pdf(html: str) -> bytes:
    """HTML laid out by WeasyPrint; nothing is fetched."""
    from weasyprint import HTML  # imported when a PDF is asked for: it loads Pango

    pdf: bytes = HTML(string=html, url_fetcher=_refuse).write_pdf()
    return pdf


def _refuse(url: str, *_: Any, **__: Any) -> Any:
    """WeasyPrint's URL fetcher: the document is whole, so any fetch is a mistake."""
    raise ValueError(f"the evaluation document fetches nothing ({url[:40]})")
