"""Zusatzurlaub for a person's case: one working week a year, or for a part of the year one
twelfth per full calendar month, fractions of at least half a day rounded up (001: facts
extra_leave_days, extra_leave_partial_share, extra_leave_round_up_from)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

MONTHS = (
    "januar",
    "februar",
    "märz",
    "april",
    "mai",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "dezember",
)
NUMBERS = {"ein": 1, "einen": 1, "zwei": 2, "drei": 3, "vier": 4, "fünf": 5, "fuenf": 5, "sechs": 6}
DAYS_PER_WEEK = re.compile(
    r"\b(\d|ein|einen|zwei|drei|vier|f(?:ü|ue)nf|sechs)\s*(?:-\s*)?(?:arbeits)?tage?\w*\s*(?:-\s*)?"
    r"(?:die|pro|in der|/|a)?\s*woche",
    re.I,
)
START = re.compile(
    r"\b(?:seit|ab|vom|zum)\s+(?:dem\s+)?(?:(\d{1,2})\.\s*)?(" + "|".join(MONTHS) + r"|maerz|\d{1,2}\.)", re.I
)


@dataclass(frozen=True)
class Case:
    days_per_week: int | None
    start_day: int | None
    start_month: int | None


def case_of(text: str) -> Case:
    """What a message says about the working week and since when the person is schwerbehindert."""
    days = None
    if match := DAYS_PER_WEEK.search(text):
        raw = match.group(1).lower()
        days = int(raw) if raw.isdigit() else NUMBERS.get(raw)
    day = month = None
    if match := START.search(text):
        name = match.group(2).lower().replace("maerz", "märz")
        month = MONTHS.index(name) + 1 if name in MONTHS else int(name.rstrip("."))
        day = int(match.group(1)) if match.group(1) else 1
        if not 1 <= month <= 12:
            day = month = None
    return Case(days if days and 1 <= days <= 6 else None, day, month)


def full_months(start_day: int, start_month: int) -> int:
    """Full calendar months from the start to the end of the year."""
    return 12 - start_month + (1 if start_day == 1 else 0)


def days_this_year(days_per_week: int, start_day: int | None = None, start_month: int | None = None) -> int:
    if start_month is None:
        return days_per_week
    share = days_per_week * full_months(start_day or 1, start_month) / 12
    return math.floor(share) + (1 if share - math.floor(share) >= 0.5 else 0)
