"""The current time in Germany, in one place, so that tests can set it."""

from __future__ import annotations

from datetime import datetime

from knowledge.opening_hours import BERLIN


def now() -> datetime:
    return datetime.now(BERLIN)
