"""The current time in Germany, in one place, so that tests can set it."""

from __future__ import annotations

import os
from datetime import datetime

from knowledge.opening_hours import BERLIN

# A fixed time (ISO 8601, e.g. "2026-12-01T10:00:00+01:00") for tests and demos that must not
# depend on the hour they run at, such as a transfer to an office that is open.
FIXED_NOW = "ASSISTANT_NOW"


def now() -> datetime:
    fixed = os.environ.get(FIXED_NOW)
    if fixed:
        return datetime.fromisoformat(fixed).astimezone(BERLIN)
    return datetime.now(BERLIN)
