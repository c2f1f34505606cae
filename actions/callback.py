"""Callback requests: consent, the form, the summary, storage and the reference number.

The form takes what a message gives (callbacks/extraction.py) and asks only for what is missing.
A question in the middle is answered where the form is not waiting for free text; then the form
asks again. Cancel and the summary's change buttons reject the form step, so their rules run.
"""

from __future__ import annotations

import logging
import os
from functools import cache
from typing import Any

import phonenumbers
from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

import knowledge
from actions import common
from actions.answer import metadata_of, place_of, responder, send, turn_of
from actions.common import SLOT_OFFICE, SLOT_PLACE
from callbacks.extraction import Extracted, asks_to_stop, extract, is_question
from callbacks.slots import (
    CALLER_DECLINED,
    CANNOT_PHONE,
    CLOSED,
    CONFIRMED,
    CONTACT_METHOD,
    EMAIL,
    FAX,
    FORM_SLOTS,
    NAME,
    OFFICE,
    PHONE,
    PREFERRED_TIME,
    REASON,
)
from callbacks.store import CallbackStore, NewRequest, retention_days
from callbacks.validation import check_name, check_phone, check_reason, check_sms_number
from knowledge import Outcome
from knowledge.conversation import SLOTS, Context
from knowledge.office_answers import phone_text
from knowledge.opening_hours import describe_moment
from knowledge.places import Resolution
from knowledge.texts import Texts

logger = logging.getLogger(__name__)

FORM = "callback_form"
VOICE = "voice"
SLOT_OFFER, CONSENT = SLOTS["offer"], "consent"
REQUESTED = "requested_slot"
# What the extraction should expect at each step of the form.
EXPECTING = {NAME: "name", CONTACT_METHOD: "phone", REASON: "reason", OFFICE: "place", CONFIRMED: None}
FREE_TEXT = {REASON}  # everything is taken as it is here, even a question
MAX_CANCEL_WORDS = 6
MIN_CANCEL_CONFIDENCE = 0.8
MIN_QUESTION_CONFIDENCE = 0.6
AFFIRM_WORDS = {"ja", "jo", "jep", "genau", "passt", "stimmt", "richtig", "korrekt", "ok", "okay", "absenden"}


def texts() -> Texts:
    return knowledge.load().texts


@cache
def store() -> CallbackStore:
    return CallbackStore()


class ActionOfferCallback(Action):
    """The privacy notice and the consent question; the form starts only after 'Ja'."""

    def name(self) -> str:
        return "action_offer_callback"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        t = texts()
        dispatcher.utter_message(
            text=t("callback.privacy_notice", days=retention_days()),
            buttons=[
                {"title": t("callback.consent_yes"), "payload": "/affirm"},
                {"title": t("callback.consent_no"), "payload": "/deny"},
            ],
        )
        return [SlotSet(SLOT_OFFER, CONSENT)]


class ActionCallbackRefused(Action):
    def name(self) -> str:
        return "action_callback_refused"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        t = texts()
        dispatcher.utter_message(
            text=t("callback.refused", phone=phone_text(t, common.remembered_office(tracker)))
        )
        return [SlotSet(CLOSED, "refused"), SlotSet(SLOT_OFFER, None)]


class ActionCancelCallback(Action):
    def name(self) -> str:
        return "action_cancel_callback"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(text=texts()("callback.cancelled"))
        return [ActiveLoop(None), SlotSet(REQUESTED, None), *_clear_form(), SlotSet(CLOSED, "cancelled")]


# --- asking --------------------------------------------------------------------------------------


class AskCallbackName(Action):
    def name(self) -> str:
        return "action_ask_callback_name"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        both = tracker.get_slot(CONTACT_METHOD) is None
        dispatcher.utter_message(text=texts()("callback.ask_name_and_phone" if both else "callback.ask_name"))
        return []


class AskCallbackContact(Action):
    """The phone number, or another way when the person cannot phone; on the telephone, first
    the number the caller calls from."""

    def name(self) -> str:
        return "action_ask_callback_contact_method"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        t, caller = texts(), caller_number(tracker)
        if tracker.get_slot(CANNOT_PHONE):
            dispatcher.utter_message(text=t("callback.ask_alternative"))
        elif caller and not tracker.get_slot(CALLER_DECLINED):
            national = phonenumbers.format_number(
                phonenumbers.parse(caller), phonenumbers.PhoneNumberFormat.NATIONAL
            )
            dispatcher.utter_message(text=t("callback.offer_caller_number", number=national))
        elif tracker.get_latest_input_channel() == VOICE:
            dispatcher.utter_message(text=t("callback.ask_phone_voice"))
        else:
            dispatcher.utter_message(text=t("callback.ask_phone"))
        return []


def caller_number(tracker: Tracker) -> str | None:
    """The number a telephone caller calls from, if the office can call it back."""
    caller = metadata_of(tracker).get("caller") if tracker.get_latest_input_channel() == VOICE else None
    checked = check_phone(str(caller)) if caller else None
    return checked.value if checked is not None and checked.ok else None


class AskCallbackReason(Action):
    def name(self) -> str:
        return "action_ask_callback_reason"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(text=texts()("callback.ask_reason"))
        return []


class AskCallbackOffice(Action):
    def name(self) -> str:
        return "action_ask_callback_office"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(text=texts()("callback.ask_office"))
        return []


class AskCallbackConfirmed(Action):
    """The summary before storing, with buttons to send, change a field or cancel."""

    def name(self) -> str:
        return "action_ask_callback_confirmed"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        t = texts()
        office = knowledge.load().offices.get(tracker.get_slot(OFFICE) or "")
        field = lambda slot: t(f"callback.fields.{slot}")  # noqa: E731
        lines = [t("callback.summary_intro"), f"{field(NAME)}: {tracker.get_slot(NAME)}"]
        lines.append(f"{field(CONTACT_METHOD)}: {contact_text(tracker)}")
        lines.append(f"{field(REASON)}: {tracker.get_slot(REASON)}")
        if tracker.get_slot(PREFERRED_TIME):
            lines.append(f"{field(PREFERRED_TIME)}: {tracker.get_slot(PREFERRED_TIME)}")
        lines.append(f"{field(OFFICE)}: {office.name if office else '–'}")
        lines.append(t("callback.summary_question"))
        buttons = [{"title": t("callback.send"), "payload": "/affirm"}]
        for slot in (NAME, CONTACT_METHOD, REASON, OFFICE):
            payload = f'/callback_change{{"callback_field":"{slot}"}}'
            buttons.append({"title": t("callback.change", field=field(slot)), "payload": payload})
        buttons.append({"title": t("callback.abort"), "payload": "/cancel"})
        dispatcher.utter_message(text="\n".join(lines), buttons=buttons)
        return []


def contact_text(tracker: Tracker) -> str:
    method = tracker.get_slot(CONTACT_METHOD) or "phone"
    value = {"email": tracker.get_slot(EMAIL), "fax": tracker.get_slot(FAX)}.get(method) or tracker.get_slot(
        PHONE
    )
    return f"{texts()(f'callback.methods.{method}')} {value}"


# --- filling and checking ------------------------------------------------------------------------


class ValidateCallbackForm(FormValidationAction):
    def name(self) -> str:
        return "validate_callback_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Like the SDK's, but also keeps the slots filled on the way that are not form slots
        (the number behind the contact method, the office of the conversation)."""
        extracted = await self.get_extraction_events(dispatcher, tracker, domain)
        tracker.add_slots(extracted)
        validated = await self._extract_validation_events(dispatcher, tracker, domain)
        form_slots = set(self.domain_slots(domain)) | {REQUESTED}
        kept = [event for event in extracted if event["name"] not in form_slots]
        return kept + validated

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """One parse of the message fills every slot it can (not one extract_ method per slot)."""
        requested = tracker.get_slot(REQUESTED)
        intent = common.latest_intent(tracker)
        text = common.latest_text(tracker)
        if intent == "callback_change" or (intent == "cancel" and _stops(text, requested, tracker)):
            return []  # rejected: the rules for cancel and for the change buttons take over
        values: dict[str, Any] = {}
        if requested is None:  # the form starts: what the request and the consent already said
            values.update({SLOT_OFFER: None, **_prefilled(tracker)})
            for earlier in _request_messages(tracker):
                found = extract(earlier.get("text") or "")
                values.update(
                    _fields(found, tracker, None, dispatcher, quiet=True, message=earlier.get("parse_data"))
                )
        expecting = EXPECTING.get(requested or "")
        found = _fields(extract(text, expecting), tracker, requested, dispatcher, quiet=requested is None)
        values.update(found)
        offered_caller = (
            requested == CONTACT_METHOD and CONTACT_METHOD not in values and caller_number(tracker)
        )
        if offered_caller and not tracker.get_slot(CALLER_DECLINED) and intent in ("affirm", "deny"):
            answer = {CONTACT_METHOD: "phone", PHONE: caller_number(tracker)}
            values.update(answer if intent == "affirm" else {CALLER_DECLINED: True, CONTACT_METHOD: None})
        if requested == CONFIRMED and values:
            values[CONFIRMED] = None  # "richtig ist Jürgen Meyer": changed, the summary again
        elif requested and requested not in values:
            values.update(self._nothing_for(requested, text, intent, tracker, dispatcher))
        return [SlotSet(slot, value) for slot, value in values.items()]

    def _nothing_for(
        self, requested: str, text: str, intent: str, tracker: Tracker, dispatcher: CollectingDispatcher
    ) -> dict[str, Any]:
        """The message did not give what was asked: the summary's yes/no, a question, or a hint."""
        t = texts()
        if requested == CONFIRMED:
            words = set(text.lower().replace(",", " ").replace("!", " ").split())
            if intent == "affirm" or words & AFFIRM_WORDS and len(words) <= 4:
                return {CONFIRMED: True}
            dispatcher.utter_message(text=t("callback.what_to_change"))
            return {CONFIRMED: None}
        confidence = float((tracker.latest_message.get("intent") or {}).get("confidence") or 0)
        asks = intent.startswith("ask_") and confidence >= MIN_QUESTION_CONFIDENCE
        if requested not in FREE_TEXT and (asks or is_question(text)):
            reply = responder().respond(turn_of(tracker), Context.from_slots(tracker.get_slot), common.now())
            send(dispatcher, reply)
            dispatcher.utter_message(text=t("callback.back_to_form"))
            return {requested: None}
        if requested == NAME:
            dispatcher.utter_message(text=t("callback.not_a_name"))
        elif requested == CONTACT_METHOD:
            dispatcher.utter_message(
                text=t(
                    "callback.no_alternative" if tracker.get_slot(CANNOT_PHONE) else "callback.not_a_number"
                )
            )
        elif requested == OFFICE:
            dispatcher.utter_message(text=t("callback.place_unknown"))
        elif requested == REASON:
            dispatcher.utter_message(text=check_reason(text).error or t("callback.ask_reason"))
        return {requested: None}

    def validate_callback_name(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        if value is None:
            return {NAME: None}
        checked = check_name(str(value))
        if not checked.ok:
            dispatcher.utter_message(text=checked.error)
        return {NAME: checked.value}

    def validate_callback_contact_method(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        if value == "sms" and not check_sms_number(tracker.get_slot(PHONE) or "").ok:
            dispatcher.utter_message(text=texts()("callback.sms_needs_mobile"))
            return {CONTACT_METHOD: None, PHONE: None}
        return {CONTACT_METHOD: value}

    def validate_callback_reason(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        if value is None:
            return {REASON: None}
        checked = check_reason(str(value))
        if not checked.ok:
            dispatcher.utter_message(text=checked.error)
        return {REASON: checked.value}

    def validate_callback_office(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        return {OFFICE: value if value in knowledge.load().offices else None}

    def validate_callback_confirmed(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        return {CONFIRMED: True if value is True else None}


def _stops(text: str, requested: str | None, tracker: Tracker) -> bool:
    """A cancel that ends the form: short, with a word that says so, or (where the form does not
    take free text) classified so with confidence."""
    if len(text.split()) <= MAX_CANCEL_WORDS or asks_to_stop(text):
        return True
    confidence = float((tracker.latest_message.get("intent") or {}).get("confidence") or 0)
    return requested not in FREE_TEXT and confidence >= MIN_CANCEL_CONFIDENCE


def _prefilled(tracker: Tracker) -> dict[str, Any]:
    """The office known from the conversation: shown in the summary, changeable there."""
    office_id = tracker.get_slot(SLOT_OFFICE)
    return {OFFICE: office_id} if office_id in knowledge.load().offices else {}


def _request_messages(tracker: Tracker) -> list[dict[str, Any]]:
    """The user events since the one that asked for the callback, before this one."""
    events = list(tracker.events or [])
    users = [index for index, event in enumerate(events) if event.get("event") == "user"]
    messages: list[dict[str, Any]] = []
    for event in reversed(events[: users[-1]] if users else []):
        if event.get("event") == "user":
            messages.insert(0, event)
            if ((event.get("parse_data") or {}).get("intent") or {}).get("name") == "request_callback":
                break
        elif event.get("event") == "action" and event.get("name") == "action_submit_callback":
            break
    return [event for event in messages if not (event.get("text") or "/").startswith("/")][-2:]


def _fields(
    found: Extracted,
    tracker: Tracker,
    requested: str | None,
    dispatcher: CollectingDispatcher,
    quiet: bool,
    message: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The slots a parse fills; a place comes from the NLU's place entity of `message` (by
    default the latest one)."""
    values: dict[str, Any] = {}
    if found.name:
        values[NAME] = found.name
    if found.email:
        values.update({CONTACT_METHOD: "email", EMAIL: found.email})
    elif found.fax and not found.phone:
        values.update({CONTACT_METHOD: "fax", FAX: found.fax})
    elif found.phone:
        values.update({CONTACT_METHOD: "sms" if found.wants_sms else "phone", PHONE: found.phone})
    elif found.phone_error and requested == CONTACT_METHOD and not quiet:
        dispatcher.utter_message(text=found.phone_error)
    if found.cannot_phone and CONTACT_METHOD not in values:
        values[CANNOT_PHONE] = True
    if found.reason:
        values[REASON] = found.reason
    if found.preferred_time:
        values[PREFERRED_TIME] = found.preferred_time
    place = _office_of_place(
        tracker, message or tracker.latest_message or {}, requested == OFFICE and not quiet, dispatcher
    )
    if place:
        values.update(place)
    return values


def _office_of_place(
    tracker: Tracker, message: dict[str, Any], speak: bool, dispatcher: CollectingDispatcher
) -> dict[str, Any]:
    mention = place_of(message, tracker)
    if mention is None:
        return {}
    kb, t = knowledge.load(), texts()
    places = tuple(p for p in (kb.places.place(key) for key in mention.keys) if p is not None)
    match = kb.match(Resolution(mention.outcome, places, mention.matched, region=mention.region))
    if match.outcome is Outcome.FOUND and match.office and match.place:
        return {OFFICE: match.office.id, SLOT_OFFICE: match.office.id, SLOT_PLACE: match.place.label()}
    if not speak:
        return {}
    if match.outcome is Outcome.AMBIGUOUS:
        options = " oder ".join(place.label() for place in places)
        dispatcher.utter_message(text=t("callback.place_ambiguous", options=options))
    elif match.outcome in (Outcome.OUTSIDE_NRW, Outcome.ABROAD):
        dispatcher.utter_message(
            text=t("callback.place_outside", place=mention.matched, region=mention.region)
        )
    return {OFFICE: None}


class ActionCallbackChange(Action):
    """A 'change this field' button at the summary: forget that field, ask it again."""

    def name(self) -> str:
        return "action_callback_change"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        field = next(tracker.get_latest_entity_values("callback_field"), None)
        events: list[EventType] = [SlotSet(CONFIRMED, None)]
        if field == CONTACT_METHOD:
            events += [SlotSet(slot, None) for slot in (CONTACT_METHOD, PHONE, EMAIL, FAX, CANNOT_PHONE)]
        elif field in (NAME, REASON, OFFICE, PREFERRED_TIME):
            events.append(SlotSet(field, None))
        return events


class ActionSubmitCallback(Action):
    """Commits the request before confirming it; a retried message finds the same reference."""

    def name(self) -> str:
        return "action_submit_callback"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        t = texts()
        office = knowledge.load().offices[tracker.get_slot(OFFICE) or tracker.get_slot(SLOT_OFFICE)]
        method = tracker.get_slot(CONTACT_METHOD) or "phone"
        request = NewRequest(
            office=office.id,
            name=tracker.get_slot(NAME),
            phone=tracker.get_slot(PHONE) if method in ("phone", "sms") else None,
            email=tracker.get_slot(EMAIL) if method == "email" else None,
            fax=tracker.get_slot(FAX) if method == "fax" else None,
            contact_method=method,
            reason=tracker.get_slot(REASON),
            preferred_time=tracker.get_slot(PREFERRED_TIME),
        )
        try:
            reference, created = store().submit(request, tracker.sender_id, common.now())
        except Exception as error:  # noqa: BLE001  the person must hear the truth, whatever broke
            # Only the error type: database messages can quote the stored values.
            logger.error("Callback store unavailable: %s", type(error).__name__)
            dispatcher.utter_message(
                text=t("callback.not_stored", phone=office.main_phone),
                buttons=[{"title": t("callback.retry"), "payload": "/affirm"}],
            )
            return []
        logger.info("Callback request stored for office %s (new: %s)", office.id, created)
        if os.environ.get("ASSISTANT_FAULT") == "crash_after_callback_commit":
            os._exit(70)  # fault injection for the crash test: committed, but no reply sent
        if method == "phone":
            text = f"{t('callback.stored', reference=reference)}\n{_when(office)}"
        else:
            written = t(f"callback.methods_written.{method}")
            text = t("callback.stored_written", reference=reference, office=office.name, method=written)
        dispatcher.utter_message(text=text)
        return [*_clear_form(), SlotSet(CLOSED, "submitted")]


def _when(office: knowledge.Office) -> str:
    t, now = texts(), common.now()
    if office.opening_hours is None:
        return t("callback.when_unknown", office=office.name)
    status = office.opening_hours.status(now)
    if status.is_open:
        return t("callback.when_open_now", office=office.name)
    if status.next_opening:
        return t("callback.when_next", office=office.name, moment=describe_moment(status.next_opening, now))
    return t("callback.when_unknown", office=office.name)


def _clear_form() -> list[EventType]:
    return [SlotSet(slot, None) for slot in FORM_SLOTS]
