"""Callback requests: consent, the form, the summary, storage and the reference number."""

from __future__ import annotations

import logging
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

import knowledge
from actions import common
from callbacks.slots import (
    ALTERNATIVE,
    CLOSED,
    CONFIRMED,
    NAME,
    OFFICE,
    PERSONAL_SLOTS,
    PHONE,
    PREFERRED_TIME,
    REASON,
)
from callbacks.store import CallbackStore, NewRequest, retention_days
from callbacks.validation import (
    Checked,
    check_email,
    check_name,
    check_phone,
    check_reason,
    looks_like_a_name,
)
from knowledge import Outcome
from knowledge.office_answers import phone_text
from knowledge.opening_hours import describe_moment

logger = logging.getLogger(__name__)

FORM_SLOTS = (*PERSONAL_SLOTS, OFFICE, CONFIRMED)
SKIPPED = "keine Angabe"
FIELD_LABELS = {
    NAME: "Name",
    PHONE: "Telefonnummer",
    REASON: "Anliegen",
    PREFERRED_TIME: "Wunschzeit",
    ALTERNATIVE: "Andere Kontaktmöglichkeit",
    OFFICE: "Amt",
}
MAX_PREFERRED_TIME, MAX_ALTERNATIVE = 200, 300

PRIVACY_NOTICE = (
    "Ich kann Ihre Rückrufbitte an Ihr Amt weitergeben. "
    "Dafür speichere ich Ihren Namen, Ihre Telefonnummer und Ihr Anliegen. "
    "Wenn Sie möchten, auch eine Wunschzeit und eine andere Kontaktmöglichkeit. "
    "Nur Ihr Amt liest diese Angaben, um Sie zurückzurufen. "
    "Nach der Erledigung werden sie nach {days} Tagen gelöscht. "
    "Sind Sie einverstanden?"
)


@lru_cache(maxsize=1)
def store() -> CallbackStore:
    return CallbackStore()


NLU_DATA = Path(__file__).resolve().parents[1] / "data" / "nlu"


@lru_cache(maxsize=1)
def question_words() -> frozenset[str]:
    """Every word of the training examples of the questions (intents ask_*), lower case."""
    words: set[str] = set()
    for path in NLU_DATA.glob("*.yml"):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            if str(item.get("intent", "")).startswith("ask_"):
                text = re.sub(r"\]\([^)]*\)|[\[\]]", " ", item["examples"])
                words.update(word.lower() for word in re.findall(r"[^\W\d_]+", text))
    return frozenset(words)


def name_instead_of_question(tracker: Tracker) -> list[dict[str, Any]] | None:
    """At "Wie heißen Sie?", a name like "Uwe Grün" can be classified as a question (grün: the orange
    card) and would be answered instead of taken. Returns the name slot for such a message."""
    if (tracker.active_loop or {}).get("name") != "callback_form":
        return None
    if tracker.get_slot("requested_slot") != NAME:
        return None
    text = common.latest_text(tracker)
    if not looks_like_a_name(text, question_words()):
        return None
    return [SlotSet(NAME, check_name(text).value)]


class ActionOfferCallback(Action):
    """The privacy notice and the consent question; the form starts only after 'Ja'."""

    def name(self) -> str:
        return "action_offer_callback"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(
            text=PRIVACY_NOTICE.format(days=retention_days()),
            buttons=[
                {"title": "Ja, einverstanden", "payload": "/affirm"},
                {"title": "Nein", "payload": "/deny"},
            ],
        )
        return []


class ActionCallbackRefused(Action):
    def name(self) -> str:
        return "action_callback_refused"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        phone = phone_text(common.remembered_office(tracker))
        dispatcher.utter_message(text=f"In Ordnung, ich speichere nichts. {phone}")
        return [SlotSet(CLOSED, "refused")]


class ActionCancelCallback(Action):
    def name(self) -> str:
        return "action_cancel_callback"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(
            text="Ich habe die Rückrufbitte abgebrochen und nichts gespeichert. Kann ich sonst helfen?"
        )
        return [
            ActiveLoop(None),
            SlotSet("requested_slot", None),
            *_clear_form(),
            SlotSet(CLOSED, "cancelled"),
        ]


class ActionAskCallbackConfirmed(Action):
    """The summary before storing, with buttons to send, change a field or cancel."""

    def name(self) -> str:
        return "action_ask_callback_confirmed"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        office_id = tracker.get_slot(OFFICE) or tracker.get_slot(common.SLOT_OFFICE)
        office = knowledge.load().offices.get(office_id)
        lines = ["Bitte prüfen Sie Ihre Angaben:"]
        for slot in PERSONAL_SLOTS:
            lines.append(f"{FIELD_LABELS[slot]}: {tracker.get_slot(slot) or SKIPPED}")
        lines.append(f"Amt: {office.name if office else '–'}")
        lines.append("Soll ich die Rückrufbitte so absenden?")
        buttons = [{"title": "Ja, absenden", "payload": "/affirm"}]
        buttons += [
            {
                "title": f"{FIELD_LABELS[slot]} ändern",
                "payload": f'/callback_change{{"callback_field":"{slot}"}}',
            }
            for slot in PERSONAL_SLOTS
        ]
        buttons.append({"title": "Abbrechen", "payload": "/cancel"})
        dispatcher.utter_message(text="\n".join(lines), buttons=buttons)
        return []


class ValidateCallbackForm(FormValidationAction):
    def name(self) -> str:
        return "validate_callback_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """The office is only asked for when the town is not known yet."""
        if tracker.get_slot(common.SLOT_OFFICE):
            return [slot for slot in domain_slots if slot != OFFICE]
        return domain_slots

    def validate_callback_name(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        return _checked(NAME, check_name(str(value)), dispatcher)

    def validate_callback_phone(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        return _checked(PHONE, check_phone(str(value)), dispatcher)

    def validate_callback_reason(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        return _checked(REASON, check_reason(str(value)), dispatcher)

    def validate_callback_preferred_time(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        if _skipped(tracker):
            return {PREFERRED_TIME: SKIPPED}
        text = check_reason(str(value))
        if not text.ok or len(text.value) > MAX_PREFERRED_TIME:
            dispatcher.utter_message(text="Bitte nennen Sie kurz eine Zeit, zum Beispiel „vormittags“.")
            return {PREFERRED_TIME: None}
        return {PREFERRED_TIME: text.value}

    def validate_callback_alternative(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        if _skipped(tracker):
            return {ALTERNATIVE: SKIPPED}
        text = str(value).strip()
        if "@" in text and " " not in text:  # only an e-mail address: check its syntax
            return _checked(ALTERNATIVE, check_email(text), dispatcher)
        checked = check_reason(text)
        if not checked.ok or len(checked.value) > MAX_ALTERNATIVE:
            dispatcher.utter_message(text="Bitte beschreiben Sie die andere Kontaktmöglichkeit kurz.")
            return {ALTERNATIVE: None}
        return {ALTERNATIVE: checked.value}

    def validate_callback_office(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        match = knowledge.load().find_office(str(value))
        if match.outcome is Outcome.FOUND and match.office and match.place:
            return {
                OFFICE: match.office.id,
                common.SLOT_OFFICE: match.office.id,
                common.SLOT_TOWN: match.place.label(),
            }
        if match.outcome is Outcome.AMBIGUOUS:
            options = " oder ".join(place.label() for place in match.resolution.places)
            dispatcher.utter_message(text=f"Meinen Sie {options}? Bitte schreiben Sie den Ort genauer.")
        elif match.outcome is Outcome.OUTSIDE_NRW:
            dispatcher.utter_message(
                text="Ich kann Rückrufbitten nur an Ämter in Nordrhein-Westfalen weitergeben."
            )
        else:
            dispatcher.utter_message(
                text="Diesen Ort finde ich nicht. Bitte schreiben Sie Ihren Wohnort oder Ihre Postleitzahl."
            )
        return {OFFICE: None}

    def validate_callback_confirmed(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        if value is not True:
            dispatcher.utter_message(
                text="Was möchten Sie ändern? Wählen Sie unten aus oder schreiben Sie „abbrechen“."
            )
        return {CONFIRMED: True if value is True else None}


class ActionCallbackChange(Action):
    """A 'change this field' button at the summary: forget that field, ask it again."""

    def name(self) -> str:
        return "action_callback_change"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        field = next(tracker.get_latest_entity_values("callback_field"), None)
        events = [SlotSet(CONFIRMED, None)]
        if field in PERSONAL_SLOTS:
            events.append(SlotSet(field, None))
        return events


class ActionSubmitCallback(Action):
    """Commits the request before confirming it; a retried message finds the same reference."""

    def name(self) -> str:
        return "action_submit_callback"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        office_id = tracker.get_slot(OFFICE) or tracker.get_slot(common.SLOT_OFFICE)
        office = knowledge.load().offices[office_id]
        request = NewRequest(
            office=office.id,
            name=tracker.get_slot(NAME),
            phone=tracker.get_slot(PHONE),
            reason=tracker.get_slot(REASON),
            preferred_time=_optional(tracker.get_slot(PREFERRED_TIME)),
            alternative_contact=_optional(tracker.get_slot(ALTERNATIVE)),
        )
        try:
            reference, created = store().submit(request, tracker.sender_id, common.now())
        except Exception as error:  # noqa: BLE001  the person must hear the truth, whatever broke
            # Only the error type: database messages can quote the stored values.
            logger.error("Callback store unavailable: %s", type(error).__name__)
            dispatcher.utter_message(
                text="Ihre Rückrufbitte konnte ich leider gerade nicht speichern. "
                "Ihre Angaben habe ich noch. Versuchen Sie es gleich noch einmal, "
                f"oder rufen Sie an: {office.main_phone}.",
                buttons=[{"title": "Noch einmal versuchen", "payload": "/affirm"}],
            )
            return []
        logger.info("Callback request stored for office %s (new: %s)", office.id, created)
        if os.environ.get("ASSISTANT_FAULT") == "crash_after_callback_commit":
            os._exit(70)  # fault injection for the crash test: committed, but no reply sent
        dispatcher.utter_message(
            text=f"Ihre Rückrufbitte ist gespeichert. Ihre Nummer: {reference}.\n{_when(office)}"
        )
        return [*_clear_form(), SlotSet(CLOSED, "submitted")]


def _when(office: knowledge.Office) -> str:
    now = common.now()
    if office.opening_hours is None:
        return f"{office.name} ruft Sie während der Sprechzeiten zurück."
    status = office.opening_hours.status(now)
    if status.is_open:
        return f"{office.name} hat gerade geöffnet und ruft Sie so bald wie möglich zurück."
    if status.next_opening:
        return f"{office.name} ruft Sie zurück, frühestens {describe_moment(status.next_opening, now)}."
    return f"{office.name} ruft Sie während der Öffnungszeiten zurück."


def _checked(slot: str, checked: Checked, dispatcher: CollectingDispatcher) -> dict[str, Any]:
    if not checked.ok:
        dispatcher.utter_message(text=checked.error)
    return {slot: checked.value}


def _skipped(tracker: Tracker) -> bool:
    return common.latest_intent(tracker) in {"skip", "deny"}


def _optional(value: str | None) -> str | None:
    return None if value in (None, SKIPPED) else value


def _clear_form() -> list[dict[str, Any]]:
    return [SlotSet(slot, None) for slot in FORM_SLOTS]
