"""action_answer: every question, place, small talk and fallback, answered by knowledge.dialogue.

The action only translates: the tracker into a Turn and a Context, the Reply into messages,
slots and a follow-up action.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from functools import cache
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

import knowledge
from actions import common
from knowledge.conversation import Context, PlaceMention, Reply, Turn
from knowledge.dialogue import Responder

PLACE_ENTITY = "place"
CARD_ENTITY = "card"


@cache
def responder() -> Responder:
    return Responder(knowledge.load())


def turn_of(tracker: Tracker) -> Turn:
    message = tracker.latest_message or {}
    intent = message.get("intent") or {}
    ranking = tuple(
        (item["name"], float(item.get("confidence") or 0)) for item in message.get("intent_ranking") or []
    )
    return Turn(
        text=message.get("text") or "",
        intent=intent.get("name") or "",
        confidence=float(intent.get("confidence") or 0),
        intents=ranking,
        cards=selected_cards(message),
        place=place_of(message, tracker),
        requested_card=next(tracker.get_latest_entity_values(CARD_ENTITY), None),
        channel=tracker.get_latest_input_channel(),
        digits=metadata_of(tracker).get("digits"),
    )


def metadata_of(tracker: Tracker) -> dict[str, Any]:
    """The metadata of the latest user message (the telephone's caller number and keys)."""
    for event in reversed(tracker.events or []):
        if event.get("event") == "user":
            return event.get("metadata") or {}
    return {}


def selected_cards(message: dict[str, Any]) -> tuple[tuple[str, float], ...]:
    """The ranked answer cards: bot.nlu.cards.CardRanker's, else the response selector's
    ('ask_extend/by_phone' -> 'extend/by_phone')."""
    if message.get("card_ranking"):
        return tuple((item["card"], float(item["score"])) for item in message["card_ranking"])
    selector = (message.get("response_selector") or {}).get("default") or {}
    ranked = []
    for item in selector.get("ranking") or []:
        key = item.get("intent_response_key") or ""
        ranked.append((key.removeprefix("ask_"), float(item.get("confidence") or 0)))
    return tuple(ranked)


def place_of(message: dict[str, Any], tracker: Tracker) -> PlaceMention | None:
    """The place entity of the NLU component, or a place button ({"place": "m:05154032"})."""
    for entity in message.get("entities") or []:
        if entity.get("entity") != PLACE_ENTITY:
            continue
        info = entity.get("additional_info")
        if isinstance(info, dict):
            return PlaceMention.from_info(info)
        place = knowledge.load().places.place(str(entity.get("value")))
        if place is not None:  # a button names the place by its key
            return PlaceMention(knowledge.Outcome.FOUND, (place.key,), only=True)
    return None


def send(dispatcher: CollectingDispatcher, reply: Reply) -> None:
    if os.environ.get("ASSISTANT_FAULT") == "slow_answers":  # fault injection: a lookup that hangs
        time.sleep(float(os.environ.get("ASSISTANT_FAULT_DELAY_S", "30")))
    for message in reply.messages:
        buttons = [{"title": button.title, "payload": button.payload} for button in message.buttons]
        if message.custom is not None:
            dispatcher.utter_message(json_message=message.custom)
        else:
            dispatcher.utter_message(text=message.text, buttons=buttons)


class ActionAnswer(Action):
    def name(self) -> str:
        return "action_answer"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        before = Context.from_slots(tracker.get_slot)
        reply = responder().respond(turn_of(tracker), before, common.now())
        send(dispatcher, reply)
        context = reply.context if reply.kind == "fallback" else reply.context.but(fallbacks=0)
        events: list[dict[str, Any]] = [
            SlotSet(slot, value) for slot, value in context.changed_slots(before).items()
        ]
        if reply.followup:
            events.append(FollowupAction(reply.followup))
        return events


class ActionDefaultFallback(Action):
    """No rule fits (e.g. a stale button): the fallback of knowledge.dialogue, nothing lost. Its slots
    stay (no UserUtteranceReverted, which would undo them), so the second stage follows the first."""

    def name(self) -> str:
        return "action_default_fallback"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        before = Context.from_slots(tracker.get_slot)
        turn = replace(turn_of(tracker), intent="nlu_fallback")
        reply = responder().respond(turn, before, common.now())
        send(dispatcher, reply)
        return [SlotSet(slot, value) for slot, value in reply.context.changed_slots(before).items()]
