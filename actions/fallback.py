"""Two-stage fallback: first offer the likeliest topics, then the main topics, phone and callback."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

import knowledge
from actions import common
from knowledge.office_answers import phone_text

MAX_SUGGESTIONS = 3
MAIN_TOPICS = ("apply", "extend", "lost_card", "wertmarke", "parking", "responsible_office")


class ActionAskAffirmation(Action):
    """Replaces Rasa's default: suggests the likeliest topics as buttons."""

    def name(self) -> str:
        return "action_default_ask_affirmation"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        by_intent = {button.intent: key for key, button in knowledge.load().buttons.items()}
        ranking = tracker.latest_message.get("intent_ranking") or []
        keys = [by_intent[item["name"]] for item in ranking if item.get("name") in by_intent]
        buttons = common.button_payloads(keys[:MAX_SUGGESTIONS])
        match = common.found_place(tracker)  # "Stadtlohn" alone is often not understood as a place
        if match is not None and match.place is not None:
            buttons.insert(0, common.place_button(match.place, f"Zuständiges Amt für {match.place.label()}"))
        buttons.append({"title": "Nein, etwas anderes", "payload": "/deny"})
        dispatcher.utter_message(
            text="Ich bin nicht sicher, ob ich Sie richtig verstehe. Meinen Sie eines davon?",
            buttons=buttons,
        )
        return []


class ActionDefaultFallback(Action):
    """Still not understood: main topics, the way to a person, nothing lost."""

    def name(self) -> str:
        return "action_default_fallback"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        send_main_topics(dispatcher, tracker)
        return [UserUtteranceReverted()]


def send_main_topics(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """Not understood: say so, offer the main topics, the office's phone and a callback."""
    phone = phone_text(common.remembered_office(tracker))
    dispatcher.utter_message(
        text=(
            "Das habe ich leider nicht verstanden. Zu diesen Themen kann ich Ihnen helfen. "
            f"{phone} Sie können auch einen Rückruf vom Amt erbitten."
        ),
        buttons=common.button_payloads([*MAIN_TOPICS, "request_callback"]),
    )
