"""What every figure of the evaluation means, in Danish and English (docs/evaluation.md).

The Danish text is the message id for translation (``N_`` marks it for extraction, as in
:mod:`phoneservice.domain.reports.definitions`); the English text beside it is the
translation to enter in the catalogue. Both are ``%``-format strings filled from
:func:`values` (``%%`` is a literal per cent sign).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from phoneservice.domain.evaluation.evaluate import CONFIDENT_FROM, DAYS_PER_YEAR, TOP_HOURS
from phoneservice.domain.reports.definitions import N_


@dataclass(frozen=True, slots=True)
class Definition:
    """One figure's definition: the Danish message id and its English text."""

    da: str
    en: str


DEFINITIONS = {
    "answer_rate": Definition(
        N_(
            "Svarprocent = besvarede opkald i telefontiden ÷ (opkald i telefontiden − korte "
            "opgivelser i telefontiden); målet er nået, når tallet er mindst målet."
        ),
        "Answer rate = answered calls in phone hours ÷ (calls in phone hours − short abandons "
        "in phone hours); the goal is met when the figure is at least the goal.",
    ),
    "service_level": Definition(
        N_(
            "Serviceniveau = besvarede opkald, der ventede højst enhedens T sekunder ÷ "
            "besvarede opkald med kendt ventetid; målet er nået, når tallet er mindst målet."
        ),
        "Service level = answered calls that waited at most the unit's T seconds ÷ answered "
        "calls with a known wait; the goal is met when the figure is at least the goal.",
    ),
    "acknowledged_on_time": Definition(
        N_(
            "Kvitteret til tiden = tilbagekaldsopgaver, hvor borgeren blev nået senest ved "
            "udgangen af næste arbejdsdag ÷ (oprettet − afventer − annulleret)."
        ),
        "Acknowledged on time = callback tasks where the citizen was reached by the end of "
        "the next working day ÷ (created − pending − cancelled).",
    ),
    "max_wait_p90_seconds": Definition(
        N_(
            "Ventetid, 90 %%-fraktil: 9 ud af 10 besvarede opkald ventede højst så mange "
            "sekunder; målet er nået, når tallet er højst målet."
        ),
        "Wait, 90th percentile: 9 in 10 answered calls waited at most this many seconds; the "
        "goal is met when the figure is at most the goal.",
    ),
    "basis": Definition(
        N_("Grundlag: antallet af opkald eller opgaver, som et tal er regnet ud fra."),
        "Basis: the number of calls or tasks a figure is computed from.",
    ),
    "interval": Definition(
        N_(
            "Usikkerhed: ved færre end %(confident)s opkald vises det interval, andelen med "
            "95 %% sikkerhed ligger i (Wilson-interval)."
        ),
        "Uncertainty: with fewer than %(confident)s calls, the interval the share lies in "
        "with 95 %% confidence is shown (Wilson interval).",
    ),
    "uncertain": Definition(
        N_(
            "Usikkert: målet ligger inden for intervallet, så der er for få opkald til at "
            "sige, om målet er nået."
        ),
        "Uncertain: the goal lies inside the interval, so there are too few calls to say "
        "whether it was met.",
    ),
    "met": Definition(
        N_(
            "Nået: tallet nåede målet; – når der ikke er et mål eller ikke er noget tal (en "
            "periode uden opkald)."
        ),
        "Met: the figure reached its goal; – when there is no goal or no figure (a period "
        "without calls).",
    ),
    "previous": Definition(
        N_("Forrige periode: samme tal for lige så mange dage umiddelbart før perioden."),
        "Previous period: the same figure for as many days just before the period.",
    ),
    "trend": Definition(
        N_(
            "Udvikling: tallene for hver kalendermåned i perioden (første og sidste måned "
            "kun den del, der ligger i perioden)."
        ),
        "Trend: the figures of each calendar month of the period (the first and last "
        "month only the part inside the period).",
    ),
    "outside_hours": Definition(
        N_(
            "Opkald uden for telefontiden efter ugedag og time i lokal tid, mandag kl. 00-01 først."
        ),
        "Calls outside phone hours by weekday and local hour, Monday 00-01 first.",
    ),
    "top_hours": Definition(
        N_(
            "De %(top)s timer i ugen med flest opkald uden for telefontiden; om året = "
            "opkald × %(days_per_year)s ÷ dage i perioden."
        ),
        "The %(top)s hours of the week with most calls outside phone hours; per year = calls "
        "× %(days_per_year)s ÷ days in the period.",
    ),
    "callbacks": Definition(
        N_(
            "Tilbagekald: oprettet i perioden, til tiden, for sent, kunne ikke nås, åbne "
            "(overskredet og afventer) og median tid til kvittering."
        ),
        "Callbacks: created in the period, on time, late, unreachable, open (overdue and "
        "pending) and the median time to acknowledge.",
    ),
    "arrivals_per_hour": Definition(
        N_(
            "Opkald i timen: opkald i telefontiden i denne time af ugen ÷ antal konkrete "
            "timer (dato og time) med sådanne opkald."
        ),
        "Calls per hour: calls in phone hours in this hour of the week ÷ the concrete hours "
        "(date and hour) with such calls.",
    ),
    "handling_s": Definition(
        N_("Samtaletid: gennemsnitlig samtaletid for besvarede opkald med kendt samtaletid."),
        "Handling time: the mean talk time of answered calls with a known talk time.",
    ),
    "patience_s": Definition(
        N_(
            "Tålmodighed: samlet ventetid i køen for alle opkald ÷ opkald, der forlod køen "
            "ubesvaret (et skøn over den gennemsnitlige tålmodighed)."
        ),
        "Patience: total time waited in the queue by all calls ÷ calls that left the queue "
        "unanswered (an estimate of the mean patience).",
    ),
    "needed_erlang_c": Definition(
        N_(
            "Behov (Erlang C): færreste medarbejdere, med hvilke Erlang C giver mindst "
            "enhedens mål for serviceniveau inden for dens T sekunder."
        ),
        "Needed (Erlang C): the fewest agents with which Erlang C gives at least the unit's "
        "service-level goal within its T seconds.",
    ),
    "needed_erlang_a": Definition(
        N_(
            "Behov (Erlang A): det samme, når borgere lægger på efter den målte "
            "tålmodighed; en borger, der lægger på, tæller som ikke besvaret i tide."
        ),
        "Needed (Erlang A): the same when callers hang up after the measured patience; a "
        "caller who hangs up counts as not answered in time.",
    ),
    "seen": Definition(
        N_(
            "Set: medarbejdere, der besvarede opkald i denne time af ugen, i gennemsnit over "
            "de konkrete timer."
        ),
        "Seen: agents who answered calls in this hour of the week, on average over the "
        "concrete hours.",
    ),
}


def values() -> dict[str, Any]:
    """The values the definition texts are filled from."""
    return {"confident": CONFIDENT_FROM, "top": TOP_HOURS, "days_per_year": DAYS_PER_YEAR}


def definitions(language: str = "da") -> dict[str, str]:
    """Every definition in ``language`` (``da`` or ``en``), filled."""
    filled = values()
    return {key: getattr(d, language) % filled for key, d in DEFINITIONS.items()}
