"""Shared helpers for the actions: the clock and the person's remembered office."""

from __future__ import annotations

from datetime import datetime

from rasa_sdk import Tracker

import knowledge
from knowledge import Office, clock
from knowledge.conversation import SLOT_OFFICE, SLOTS

SLOT_PLACE = SLOTS["place"]


def now() -> datetime:
    """The current time in Germany; tests replace this function."""
    return clock.now()


def latest_text(tracker: Tracker) -> str:
    return tracker.latest_message.get("text") or ""


def latest_intent(tracker: Tracker) -> str:
    return (tracker.latest_message.get("intent") or {}).get("name") or ""


def remembered_office(tracker: Tracker) -> Office | None:
    office_id = tracker.get_slot(SLOT_OFFICE)
    return knowledge.load().offices.get(office_id) if office_id else None
