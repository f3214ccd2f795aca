"""The report's tables as people download them: the header row and the names in the page's
language, written as Excel's CSV or as XLSX by :mod:`phoneservice.present.spreadsheets`."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from phoneservice.domain.reports.report import NO_UNIT, TOTAL, Report
from phoneservice.present.reports import WEEKDAYS, table_rows
from phoneservice.present.spreadsheets import Sheet

# The header of every field of the tables, in Danish (the message id).
COLUMNS = {
    "unit": _l("Enhed (id)"),
    "name": _l("Enhed"),
    "from": _l("Fra og med"),
    "to": _l("Til og med"),
    "weekday": _l("Ugedag"),
    "threshold_s": _l("T (s)"),
    "calls": _l("Opkald"),
    "answered": _l("Besvaret"),
    "abandoned": _l("Lagt på"),
    "short_abandons": _l("Korte opgivelser"),
    "timeouts": _l("Timeout"),
    "closed": _l("Lukket"),
    "unanswered": _l("Ubesvaret uden kø"),
    "unknown": _l("Ukendt"),
    "calls_during_hours": _l("Opkald i telefontiden"),
    "answered_during_hours": _l("Besvaret i telefontiden"),
    "short_abandons_during_hours": _l("Korte opgivelser i telefontiden"),
    "answer_rate": _l("Svarprocent i telefontiden (%)"),
    "answered_with_wait": _l("Besvaret med kendt ventetid"),
    "answered_within_threshold": _l("Besvaret inden for T"),
    "service_level": _l("Serviceniveau (%)"),
    "wait_avg_s": _l("Gns. ventetid (s)"),
    "wait_p90_s": _l("Ventetid, 90-percentil (s)"),
    "unacknowledgeable": _l("Kan ikke kvitteres"),
    "created": _l("Oprettet"),
    "on_time": _l("Til tiden"),
    "late": _l("For sent"),
    "overdue": _l("Overskredet"),
    "pending": _l("Afventer"),
    "unreachable": _l("Kunne ikke nås"),
    "cancelled": _l("Annulleret"),
    "on_time_rate": _l("Andel til tiden (%)"),
    "acknowledged": _l("Kvitteret"),
    "ack_median_s": _l("Median tid til kvittering (s)"),
}
DAYS = (_l("man"), _l("tir"), _l("ons"), _l("tor"), _l("fre"), _l("lør"), _l("søn"))
TITLES = {
    "calls": _l("Opkald"),
    "callbacks": _l("Tilbagekald"),
    "closed_hours": _l("Uden for telefontiden"),
    "periods": _l("Perioder"),
}
CALLBACKS = "callbacks_"  # the prefix of the callback figures in the table of periods


def sheet(report: Report, table: str) -> Sheet:
    """One table of the report with its header and names in the page's language."""
    header, *rows = table_rows(report, table)
    named = [_named(header, row) for row in rows]
    return Sheet(str(TITLES[table]), header, [label(key) for key in header], named)


def label(key: str) -> str:
    """The header of field ``key``: an hour of the week as it is, callbacks marked."""
    if key.startswith(CALLBACKS):
        return f"{gettext('Tilbagekald')}: {COLUMNS[key.removeprefix(CALLBACKS)]}"
    return str(COLUMNS.get(key, key))


def row_name(name: str) -> str:
    """A row's name: the total and the calls without unit in the page's language."""
    labels = {TOTAL: gettext("I alt"), NO_UNIT: gettext("Uden enhed")}
    return str(labels.get(name, name))


def _named(header: list[str], row: list[Any]) -> list[Any]:
    """The row with the total's name and the weekday in the page's language."""
    days = dict(zip(WEEKDAYS, DAYS, strict=True))
    found = dict(zip(header, row, strict=True))
    if "name" in found:
        found["name"] = row_name(found["name"])
    if "weekday" in found:
        found["weekday"] = str(days[found["weekday"]])
    return list(found.values())
