"""FAQ answers from the knowledge module, with the person's office where it matters."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

import knowledge
from actions import common
from actions.callback import name_instead_of_question
from knowledge import Answer, Knowledge, Office

PLACE_HINT = "Schreiben Sie mir Ihren Wohnort, dann nenne ich Ihnen Ihr zuständiges Amt."


class ActionAnswerFaq(Action):
    def name(self) -> str:
        return "action_answer_faq"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        name = name_instead_of_question(tracker)
        if name is not None:
            return name
        base = knowledge.load()
        intent = common.latest_intent(tracker)
        topic = base.topic_for_intent(intent)
        if topic is None:
            dispatcher.utter_message(response="utter_default")
            return []
        answer = _specific_answer(base, intent, tracker) or base.answer(topic.key)
        office, events = common.current_office(tracker)
        extra = None
        if answer.office_dependent:
            extra = _office_line(office) if office else PLACE_HINT
            if office is None:
                answer = _with_buttons(answer, ("responsible_office",))
        if answer.needs_case_file:
            answer = _with_buttons(answer, ("request_callback",))
        common.send_answer(dispatcher, answer, extra)
        return events


def _specific_answer(base: Knowledge, intent: str, tracker: Tracker) -> Answer | None:
    """A Merkzeichen or GdB named in the message narrows the general answer."""
    text = common.latest_text(tracker)
    if intent == "ask_merkzeichen":
        codes = [base.normalize_merkzeichen(str(v)) for v in tracker.get_latest_entity_values("merkzeichen")]
        code = next((c for c in codes if c), None) or base.find_merkzeichen(text)
        return base.merkzeichen_answer(code) if code else None
    if intent == "ask_tax_allowance":
        values = [str(v) for v in tracker.get_latest_entity_values("gdb")]
        gdb = next((base.find_gdb(v) for v in values if base.find_gdb(v)), None) or base.find_gdb(text)
        return base.tax_allowance_answer(gdb) if gdb else None
    return None


def _office_line(office: Office) -> str:
    return f"Ihr Amt: {office.name}, {office.address}, Telefon {office.main_phone}."


def _with_buttons(answer: Answer, keys: tuple[str, ...]) -> Answer:
    return replace(answer, buttons=tuple(dict.fromkeys(keys + answer.buttons))[:4])
