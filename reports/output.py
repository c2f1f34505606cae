"""The report's outputs: a plain-text table (German, for the managers), two CSV files and a chart."""

from __future__ import annotations

import csv
import warnings
from collections.abc import Mapping
from pathlib import Path

from reports.deflection import UNKNOWN_OFFICE, DayOffice, FallbackRow, Report

NO_CONVERSATIONS = "Keine Gespräche im gewählten Zeitraum."
# German Excel opens ';'-separated UTF-8 files with a BOM directly.
CSV_DIALECT = {"delimiter": ";", "lineterminator": "\n"}
CSV_ENCODING = "utf-8-sig"
REPORT_COLUMNS = (
    "day",
    "office_id",
    "office_name",
    "conversations",
    "answered_without_person",
    "answered_without_person_percent",
    "person_requested",
    "callbacks",
    "fallbacks",
    "clarified",
    "gaps",
    "top_topics",
)
FALLBACK_COLUMNS = ("day", "office_id", "office_name", "text", "intent_guess", "confidence", "outcome")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MAX_NAME_WIDTH = 40


def office_name(office_id: str, names: Mapping[str, str]) -> str:
    if office_id == UNKNOWN_OFFICE:
        return UNKNOWN_OFFICE
    return names.get(office_id, office_id)


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}" if whole else "0.0"


def table(report: Report, offices: Mapping[str, str], topic_titles: Mapping[str, str]) -> str:
    if not report.rows:
        return NO_CONVERSATIONS
    headers = (
        "Tag",
        "Amt",
        "Gespräche",
        "Ohne Person",
        "Person gewünscht",
        "Rückrufe",
        "Fallbacks",
        "Lücken",
    )
    lines = [headers + ("Häufigste Themen",)]
    for row in report.rows:
        topics = ", ".join(f"{topic_titles.get(t, t)} ({n})" for t, n in row.top_topics())
        lines.append((*_numbers(row, _short(office_name(row.office_id, offices))), topics or "–"))
    total = _total(report.rows)
    lines.append((*_numbers(total, ""), ""))
    widths = [max(len(line[i]) for line in lines) for i in range(len(headers))]
    rendered = [
        "  ".join(
            cell.ljust(width) if i < 2 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(line, widths, strict=False))
        )
        + "  "
        + line[-1]
        for line in lines
    ]
    rendered.insert(1, "-" * len(rendered[0]))
    rendered.insert(-1, "-" * len(rendered[0]))
    return "\n".join(line.rstrip() for line in rendered)


def _numbers(row: DayOffice, office: str) -> tuple[str, ...]:
    day = row.day.isoformat() if office else "Gesamt"
    answered = f"{row.answered_without_person} ({percent(row.answered_without_person, row.conversations)} %)"
    return (
        day,
        office,
        str(row.conversations),
        answered,
        str(row.person_requested),
        str(row.callbacks),
        str(row.fallbacks),
        str(row.gaps),
    )


def _total(rows: list[DayOffice]) -> DayOffice:
    total = DayOffice(rows[0].day, "")
    for row in rows:
        total.conversations += row.conversations
        total.answered_without_person += row.answered_without_person
        total.person_requested += row.person_requested
        total.callbacks += row.callbacks
        total.fallbacks += row.fallbacks
        total.clarified += row.clarified
        total.gaps += row.gaps
    return total


def _short(name: str) -> str:
    return name if len(name) <= MAX_NAME_WIDTH else name[: MAX_NAME_WIDTH - 1] + "…"


def write_report_csv(path: Path, report: Report, offices: Mapping[str, str]) -> None:
    with path.open("w", encoding=CSV_ENCODING, newline="") as handle:
        writer = csv.writer(handle, **CSV_DIALECT)
        writer.writerow(REPORT_COLUMNS)
        for row in report.rows:
            writer.writerow(
                (
                    row.day.isoformat(),
                    row.office_id,
                    office_name(row.office_id, offices),
                    row.conversations,
                    row.answered_without_person,
                    percent(row.answered_without_person, row.conversations),
                    row.person_requested,
                    row.callbacks,
                    row.fallbacks,
                    row.clarified,
                    row.gaps,
                    ", ".join(f"{topic} ({count})" for topic, count in row.top_topics()),
                )
            )


def write_fallbacks_csv(path: Path, fallbacks: list[FallbackRow], offices: Mapping[str, str]) -> None:
    with path.open("w", encoding=CSV_ENCODING, newline="") as handle:
        writer = csv.writer(handle, **CSV_DIALECT)
        writer.writerow(FALLBACK_COLUMNS)
        for row in fallbacks:
            writer.writerow(
                (
                    row.day.isoformat(),
                    row.office_id,
                    office_name(row.office_id, offices),
                    _no_formula(row.text),
                    row.intent_guess,
                    f"{row.confidence:.2f}",
                    row.outcome,
                )
            )


def _no_formula(text: str) -> str:
    """A spreadsheet must not run what a person typed ("=HYPERLINK(...)")."""
    return "'" + text if text.startswith(FORMULA_START) else text


def write_chart(path: Path, report: Report) -> None:
    """Per day, all offices together: conversations, answered without a person, callbacks."""
    with warnings.catch_warnings():  # matplotlib's pyparsing use warns on import; not ours to fix
        warnings.simplefilter("ignore")
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

    days = sorted({row.day for row in report.rows})
    series = {
        "Gespräche": [sum(r.conversations for r in report.rows if r.day == d) for d in days],
        "Ohne Person beantwortet": [
            sum(r.answered_without_person for r in report.rows if r.day == d) for d in days
        ],
        "Rückrufe": [sum(r.callbacks for r in report.rows if r.day == d) for d in days],
    }
    figure, axes = plt.subplots(figsize=(max(6.0, 0.6 * len(days) + 3), 4.5), dpi=100)
    try:
        width = 0.27
        # Hatches as well as colours: the bars stay apart in grey print and for colour-blind readers.
        for index, ((label, values), hatch) in enumerate(zip(series.items(), ("", "//", ".."), strict=True)):
            x = [position + (index - 1) * width for position in range(len(days))]
            axes.bar(x, values, width, label=label, hatch=hatch, edgecolor="black", linewidth=0.5)
        axes.set_xticks(
            range(len(days)), [d.strftime("%d.%m.") for d in days], rotation=45 if len(days) > 10 else 0
        )
        axes.set_ylabel("Anzahl")
        axes.set_title("Gespräche pro Tag" if days else NO_CONVERSATIONS)
        axes.yaxis.get_major_locator().set_params(integer=True)
        if days:
            axes.legend()
        figure.tight_layout()
        figure.savefig(path, format="png")
    finally:
        plt.close(figure)
