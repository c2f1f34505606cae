"""action_answer only translates: the tracker into a Turn and a Context, the Reply into messages,
slots and a follow-up. With CollectingDispatcher and rasa_sdk trackers."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from actions.answer import ActionAnswer, ActionDefaultFallback, selected_cards, turn_of
from knowledge.conversation import SLOTS
from tests.conftest import button_payloads, texts


def nlu(text: str, intent: str, cards: list[str] = (), entities: list[dict[str, Any]] | None = None) -> dict:
    """A parse result as Rasa 3.6 sends it to the action server."""
    ranking = [
        {
            "intent_response_key": f"ask_{key}" if not key.startswith("out_of_scope") else key,
            "confidence": 0.9 - 0.1 * i,
        }
        for i, key in enumerate(cards)
    ]
    return {
        "text": text,
        "intent": {"name": intent, "confidence": 0.9},
        "intent_ranking": [{"name": intent, "confidence": 0.9}],
        "entities": entities or [],
        "response_selector": {"default": {"ranking": ranking}},
    }


def tracker_with(message: dict, slots: dict[str, Any] | None = None, channel: str = "rest") -> Tracker:
    events = [{"event": "user", "text": message["text"], "parse_data": message, "input_channel": channel}]
    return Tracker("test", slots or {}, message, events, False, None, {}, "action_listen")


def place_entity(value: str, **info: Any) -> dict:
    return {
        "entity": "place",
        "value": value,
        "additional_info": {"outcome": "found", "keys": [value], **info},
    }


def test_the_response_selector_ranking_becomes_card_keys() -> None:
    message = nlu("was kostet die wertmarke", "ask_wertmarke", ["wertmarke/price", "card_fee/wertmarke"])
    assert [key for key, _ in selected_cards(message)] == ["wertmarke/price", "card_fee/wertmarke"]


def test_a_place_entity_and_a_button_become_a_place_mention() -> None:
    entity = place_entity("m:05154032", only=True)
    turn = turn_of(tracker_with(nlu("Issum", "inform_place", entities=[entity])))
    assert turn.place is not None and turn.place.keys == ("m:05154032",) and turn.place.only
    button = {"entity": "place", "value": "m:05154032"}  # /inform_place{"place": "m:05154032"}
    assert turn_of(tracker_with(nlu("/inform_place", "inform_place", entities=[button]))).place.keys == (
        "m:05154032",
    )


def test_the_answer_is_sent_with_its_buttons_and_remembered(dispatcher, domain) -> None:
    tracker = tracker_with(nlu("was kostet die wertmarke", "ask_wertmarke", ["wertmarke/price"]))
    events = ActionAnswer().run(dispatcher, tracker, domain)
    assert "104 Euro" in texts(dispatcher)
    assert all(payload.startswith("/ask_") for payload in button_payloads(dispatcher))
    assert SlotSet(SLOTS["last_card"], "wertmarke/price") in events


def test_a_place_answer_remembers_the_office(dispatcher, domain) -> None:
    entity = place_entity("m:05154032", only=True)
    events = ActionAnswer().run(
        dispatcher, tracker_with(nlu("Issum", "inform_place", entities=[entity])), domain
    )
    assert "Kreis Kleve" in texts(dispatcher)
    assert SlotSet(SLOTS["office_id"], "kreis-kleve") in events


def test_the_fallback_counts_and_a_later_answer_resets_it(dispatcher, domain) -> None:
    events = ActionAnswer().run(dispatcher, tracker_with(nlu("blubb", "nlu_fallback")), domain)
    assert SlotSet(SLOTS["fallbacks"], 1) in events
    events = ActionAnswer().run(
        dispatcher,
        tracker_with(nlu("was kostet die wertmarke", "ask_wertmarke"), {SLOTS["fallbacks"]: 1.0}),
        domain,
    )
    assert SlotSet(SLOTS["fallbacks"], 0) in events


def test_the_default_fallback_answers_and_counts(dispatcher, domain) -> None:
    events = ActionDefaultFallback().run(
        dispatcher, tracker_with(nlu("/callback_change", "callback_change")), domain
    )
    assert texts(dispatcher) and SlotSet(SLOTS["fallbacks"], 1) in events
