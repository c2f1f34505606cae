"""Wanting a person: the office's phone, whether it is open, and how to ask for a callback."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import common
from knowledge.opening_hours import status_text

CALLBACK_HINT = "Ich kann auch eine Rückrufbitte an Ihr Amt weitergeben, dann müssen Sie nicht warten."

# What the offices ask for on the phone (Köln and Düsseldorf pages: Geschäftszeichen, name, birth date).
READY_FOR_THE_CALL = (
    "Halten Sie für den Anruf bitte bereit: Ihr Geschäftszeichen, wenn Sie schon eins haben, "
    "Ihren Namen und Ihr Geburtsdatum."
)

NO_OFFICE_YET = (
    "Ich bin ein Computerprogramm und kann Sie nicht direkt verbinden. "
    "Ich nenne Ihnen gern die Telefonnummer Ihres Amtes. In welcher Stadt oder Gemeinde wohnen Sie? "
    "Sie können auch Ihre Postleitzahl schreiben."
)


class ActionRequestHuman(Action):
    def name(self) -> str:
        return "action_request_human"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        office, events = common.current_office(tracker)
        if office is None:
            dispatcher.utter_message(
                text=f"{NO_OFFICE_YET}\n{CALLBACK_HINT}", buttons=common.button_payloads(["request_callback"])
            )
            return [*events, SlotSet(common.SLOT_PENDING, "contact")]
        lines = [f"Eine Mitarbeiterin oder ein Mitarbeiter hilft Ihnen gern: {office.name}."]
        lines.append(f"Telefon: {' oder '.join(office.phones)}.")
        if office.opening_hours:
            lines.append(status_text(office.opening_hours, common.now()))
        lines += [READY_FOR_THE_CALL, CALLBACK_HINT]
        buttons = common.button_payloads(["request_callback", "opening_hours"])
        dispatcher.utter_message(text="\n".join(lines), buttons=buttons)
        return events
