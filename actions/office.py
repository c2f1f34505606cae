"""Which office is responsible, how to reach it and whether it is open now."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

import knowledge
from actions import common
from actions.callback import name_instead_of_question
from actions.fallback import send_main_topics
from knowledge import OfficeMatch, Outcome
from knowledge.office_answers import (
    ASK_FOR_PLACE,
    UNKNOWN_PLACE,
    OfficeQuestion,
    ambiguous_text,
    office_text,
    outside_nrw_text,
)

QUESTION_BY_INTENT = {
    "ask_responsible_office": OfficeQuestion.RESPONSIBLE,
    "ask_contact": OfficeQuestion.CONTACT,
    "ask_opening_hours": OfficeQuestion.HOURS,
}


# "ich wohne seit kurzem in Bad Salzuflen": longer messages with a place are about something else.
MAX_WORDS_OF_A_PLACE_ANSWER = 6


class ActionOfficeInfo(Action):
    def name(self) -> str:
        return "action_office_info"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        name = name_instead_of_question(tracker)
        if name is not None:
            return name
        intent = common.latest_intent(tracker)
        question = QUESTION_BY_INTENT.get(intent) or _pending(tracker) or OfficeQuestion.RESPONSIBLE
        match = common.place_in_message(tracker)
        if match is not None:
            return answer_match(dispatcher, match, question)
        if intent == "inform_town":
            if _pending(tracker) is None:  # no question waits for a place: likely not a place at all
                send_main_topics(dispatcher, tracker)
                return []
            dispatcher.utter_message(text=UNKNOWN_PLACE)
            return []
        remembered = tracker.get_slot(common.SLOT_TOWN)
        if remembered:
            return answer_match(dispatcher, knowledge.load().find_office(remembered), question)
        dispatcher.utter_message(text=ASK_FOR_PLACE)
        return [SlotSet(common.SLOT_PENDING, question.value)]


class ActionOutOfScope(Action):
    """Out of scope, unless a short message names a place of NRW: "ich komme aus Stadtlohn" is often
    classified as out of scope, but the person wants to know their office."""

    def name(self) -> str:
        return "action_out_of_scope"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        match = common.found_place(tracker)
        if match is not None and len(common.latest_text(tracker).split()) <= MAX_WORDS_OF_A_PLACE_ANSWER:
            return answer_match(dispatcher, match, _pending(tracker) or OfficeQuestion.RESPONSIBLE)
        dispatcher.utter_message(response="utter_out_of_scope")
        return []


def answer_match(
    dispatcher: CollectingDispatcher, match: OfficeMatch, question: OfficeQuestion
) -> list[dict[str, Any]]:
    matched = match.resolution.matched or ""
    if match.outcome is Outcome.FOUND and match.place and match.office:
        text = office_text(match.office, match.place, question, common.now())
        others = [q.value for q in OfficeQuestion if q is not question] + ["request_human"]
        dispatcher.utter_message(text=text, buttons=common.button_payloads(others))
        return [*common.remember(match), SlotSet(common.SLOT_PENDING, None)]
    if match.outcome is Outcome.AMBIGUOUS:
        buttons = [common.place_button(place) for place in match.resolution.places]
        shortest = min((place.name for place in match.resolution.places), key=len)
        dispatcher.utter_message(text=ambiguous_text(shortest), buttons=buttons)
        return [SlotSet(common.SLOT_PENDING, question.value)]
    if match.outcome is Outcome.OUTSIDE_NRW:
        dispatcher.utter_message(text=outside_nrw_text(matched))
        return [SlotSet(common.SLOT_PENDING, None)]
    dispatcher.utter_message(text=UNKNOWN_PLACE)
    return [SlotSet(common.SLOT_PENDING, question.value)]


def _pending(tracker: Tracker) -> OfficeQuestion | None:
    value = tracker.get_slot(common.SLOT_PENDING)
    return OfficeQuestion(value) if value in {q.value for q in OfficeQuestion} else None
