"""What every report figure means, in Danish, printed beside the figures (SPEC §7).

The texts are message ids for translation (Danish is the source language). ``N_``
marks them for extraction without translating here; each is a ``%``-format string
filled from the same values (:func:`values`), so ``%%`` is a literal per cent sign.
"""

from __future__ import annotations

from typing import Any

from phoneservice.domain.reports.figures import WAIT_PERCENTILE, ReportParameters
from phoneservice.domain.reports.report import Report


def N_(text: str) -> str:
    """Mark ``text`` as a message id; it is translated where it is shown."""
    return text


PERIOD = N_(
    "Fra og med %(first)s til og med %(last)s i lokal tid (%(timezone)s). Et opkald hører "
    "til den dag, det kom ind; en tilbagekaldsopgave til den dag, dens første mistede "
    "opkald kom ind."
)
EMPTY = N_(
    "Et tal, hvis nævner er 0, vises som – (null i JSON, tomt felt i CSV), aldrig som 0 %%. "
    "En periode uden opkald viser 0 opkald og – i alle andele, ventetider og medianer."
)
RATES = N_(
    "Andele vises i procent på siden, i teksten og i CSV til Excel; i JSON og "
    "kommandolinjens CSV er de tal fra 0 til 1, i XLSX tal fra 0 til 1 vist i procent. "
    "Ventetider og tider er i sekunder."
)
THRESHOLD = N_(
    "Tærskel for serviceniveau (T): %(threshold)s sekunder, medmindre der står en anden ved "
    "enheden."
)
SHORT_ABANDON = N_(
    "Grænse for kort opgivelse: et opkald, hvor borgeren lægger på i køen efter mindre end "
    "%(short)s sekunder, er en kort opgivelse."
)

FIGURES = {
    "calls": N_("Opkald: alle opkald, der kom ind i perioden."),
    "answered": N_("Besvaret: en medarbejder tog opkaldet."),
    "abandoned": N_(
        "Lagt på: borgeren lagde på i køen efter mindst %(short)s sekunder (korte opgivelser "
        "tælles for sig)."
    ),
    "short_abandons": N_(
        "Korte opgivelser: borgeren lagde på i køen inden for %(short)s sekunder."
    ),
    "timeouts": N_("Timeout: køen opgav borgeren, før nogen svarede; borgeren lagde ikke selv på."),
    "closed": N_("Lukket: opkaldet kom, mens enheden var lukket, og nåede ingen medarbejder."),
    "unanswered": N_(
        "Ubesvaret uden kø: opkaldet nåede enheden, men hverken en kø eller en medarbejder."
    ),
    "unknown": N_(
        "Ukendt: udfaldet kunne ikke ses (et hul i telefonanlæggets hændelser); tæller som mistet."
    ),
    "calls_during_hours": N_(
        "Opkald i telefontiden: kom, mens enheden havde åbent efter registret (med "
        "midlertidige ændringer)."
    ),
    "answer_rate": N_(
        "Svarprocent i telefontiden = besvarede opkald i telefontiden ÷ (opkald i "
        "telefontiden − korte opgivelser i telefontiden)."
    ),
    "service_level": N_(
        "Serviceniveau = besvarede opkald med højst T sekunders ventetid ÷ besvarede opkald "
        "med kendt ventetid."
    ),
    "wait_avg_s": N_(
        "Gennemsnitlig ventetid: sekunder fra opkaldet kom i kø, til en medarbejder svarede, "
        "for besvarede opkald med kendt ventetid."
    ),
    "wait_p90_s": N_(
        "Ventetid, 90 %%-fraktil: 9 ud af 10 besvarede opkald ventede højst så længe (lineær "
        "interpolation mellem de to nærmeste, som PostgreSQLs percentile_cont)."
    ),
    "unacknowledgeable": N_(
        "Kan ikke kvitteres: mistede opkald med skjult nummer; de giver ingen tilbagekaldsopgave."
    ),
    "callbacks_created": N_(
        "Tilbagekald oprettet: opgaver, hvis første mistede opkald kom i perioden. De fordeler "
        "sig på til tiden, for sent, overskredet, afventer, kunne ikke nås og annulleret."
    ),
    "on_time": N_(
        "Til tiden: borgeren blev nået (opgaven gennemført) senest ved fristen, udgangen af "
        "næste arbejdsdag."
    ),
    "late": N_("For sent: borgeren blev nået efter fristen."),
    "overdue": N_("Overskredet: opgaven er stadig åben, og fristen er passeret."),
    "pending": N_("Afventer: opgaven er åben, og fristen er ikke nået endnu."),
    "unreachable": N_(
        "Kunne ikke nås: forkert nummer, de tilladte forsøg slog fejl, eller opgaven stod åben"
        " længere end opbevaringstiden (udløbet)."
    ),
    "cancelled": N_("Annulleret: en medarbejder lukkede opgaven med en begrundelse."),
    "on_time_rate": N_("Andel til tiden = til tiden ÷ (oprettet − afventer − annulleret)."),
    "ack_median_s": N_(
        "Median tid til kvittering: fra første mistede opkald til første forsøg på at ringe "
        "borgeren op (et forsøg med udfald) eller til opgaven blev lukket, hvad der kom "
        "først. Kun opgaver, der er kvitteret, tæller med."
    ),
    "closed_by_hour_of_week": N_(
        "Opkald uden for telefontiden efter ugedag og time i lokal tid, mandag kl. 00-01 "
        "først: hvornår borgerne ringer, mens der er lukket. Ved skift til vintertid findes "
        "kl. 02-03 to gange; begge tælles i samme felt."
    ),
}
GENERAL = {
    "period": PERIOD,
    "threshold": THRESHOLD,
    "short_abandon": SHORT_ABANDON,
    "empty": EMPTY,
    "rates": RATES,
}


def values(report: Report) -> dict[str, Any]:
    """The values the definition texts are filled from."""
    params = report.params
    return {
        "first": report.request.first.isoformat(),
        "last": report.request.last.isoformat(),
        "timezone": params.timezone.key,
        "threshold": params.default_threshold_s,
        "short": params.short_abandon_s,
    }


def definitions(report: Report) -> dict[str, Any]:
    """The ``definitions`` member of ``report --json``: parameters and every text, filled."""
    thresholds = {row.unit: row.threshold_s for row in report.whole.units if row.unit}
    return filled_definitions(report.params, values(report), thresholds)


def filled_definitions(
    params: ReportParameters, filled: dict[str, Any], thresholds: dict[str, int | None]
) -> dict[str, Any]:
    """The parameters and every text filled from ``filled`` (also the evaluation's JSON)."""
    return {
        "timezone": params.timezone.key,
        "threshold_s": params.default_threshold_s,
        "thresholds_s": thresholds,
        "short_abandon_s": params.short_abandon_s,
        "wait_percentile": WAIT_PERCENTILE,
        **{key: text % filled for key, text in GENERAL.items()},
        "figures": {key: text % filled for key, text in FIGURES.items()},
    }
