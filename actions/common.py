"""Shared helpers for the actions: the clock, buttons, and the person's place and office."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

import knowledge
from knowledge import Answer, Office, OfficeMatch, Outcome, Place
from knowledge.opening_hours import BERLIN

SLOT_TOWN = "town"
SLOT_OFFICE = "office_id"
SLOT_PENDING = "pending_question"
PLACE_ENTITIES = ("postcode", "town")


def now() -> datetime:
    """The current time in Germany; tests replace this function."""
    return datetime.now(BERLIN)


def button_payloads(keys: Iterable[str]) -> list[dict[str, str]]:
    buttons = knowledge.load().buttons
    return [{"title": buttons[key].title, "payload": buttons[key].payload} for key in keys]


def send_answer(dispatcher: CollectingDispatcher, answer: Answer, extra: str | None = None) -> None:
    if os.environ.get("ASSISTANT_FAULT") == "slow_answers":  # fault injection: a lookup that hangs
        time.sleep(float(os.environ.get("ASSISTANT_FAULT_DELAY_S", "30")))
    parts = [answer.text] + ([extra] if extra else []) + [answer.source_line()]
    dispatcher.utter_message(text="\n".join(parts), buttons=button_payloads(answer.buttons))


def place_button(place: Place, title: str | None = None) -> dict[str, str]:
    """A button that tells the assistant this place, as if the person had typed it."""
    payload = "/inform_town" + json.dumps({"town": place.label()}, ensure_ascii=False)
    return {"title": title or place.label(), "payload": payload}


def found_place(tracker: Tracker) -> OfficeMatch | None:
    """The latest message names exactly one place of NRW (and so one office)."""
    match = place_in_message(tracker)
    return match if match is not None and match.outcome is Outcome.FOUND and match.place else None


def latest_text(tracker: Tracker) -> str:
    return tracker.latest_message.get("text") or ""


def latest_intent(tracker: Tracker) -> str:
    return (tracker.latest_message.get("intent") or {}).get("name") or ""


def place_in_message(tracker: Tracker) -> OfficeMatch | None:
    """A place the latest message names: entities first (postcode, town), then the whole text."""
    base = knowledge.load()
    queries = [
        str(value) for entity in PLACE_ENTITIES for value in tracker.get_latest_entity_values(entity) if value
    ]
    for query in [*queries, latest_text(tracker)]:
        match = base.find_office(query)
        if match.outcome is not Outcome.UNKNOWN:
            return match
    return None


def current_office(tracker: Tracker) -> tuple[Office | None, list[dict[str, Any]]]:
    """The office of a place named in this message (remembered via the returned events),
    else the office remembered from earlier in the conversation."""
    match = place_in_message(tracker)
    if match is not None and match.office is not None:
        return match.office, remember(match)
    return remembered_office(tracker), []


def remembered_office(tracker: Tracker) -> Office | None:
    office_id = tracker.get_slot(SLOT_OFFICE)
    return knowledge.load().offices.get(office_id) if office_id else None


def remember(match: OfficeMatch) -> list[dict[str, Any]]:
    if match.place is None or match.office is None:
        return []
    return [SlotSet(SLOT_TOWN, match.place.label()), SlotSet(SLOT_OFFICE, match.office.id)]
