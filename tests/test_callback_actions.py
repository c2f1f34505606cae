"""The callback form's actions with CollectingDispatcher and rasa_sdk trackers."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import callback
from actions.callback import (
    ActionCallbackChange,
    ActionCallbackRefused,
    ActionCancelCallback,
    ActionOfferCallback,
    ActionSubmitCallback,
    AskCallbackConfirmed,
    AskCallbackContact,
    ValidateCallbackForm,
)
from callbacks.store import CallbackStore
from tests.conftest import button_payloads, texts

FILLED = {
    "callback_name": "Anna Müller",
    "callback_contact_method": "phone",
    "callback_phone": "+4922112345678",
    "callback_reason": "Stand meines Antrags, AZ 55/123",
    "callback_office": "koeln",
    "office_id": "koeln",
}


@pytest.fixture
def store(tmp_path, monkeypatch) -> CallbackStore:
    temporary = CallbackStore(f"sqlite:///{tmp_path / 'callbacks.db'}")
    monkeypatch.setattr(callback, "store", lambda: temporary)
    return temporary


def user(text: str, intent: str = "inform", entities: list | None = None, **extra: Any) -> dict:
    parse = {"text": text, "intent": {"name": intent, "confidence": 0.95}, "entities": entities or []}
    return {"event": "user", "text": text, "parse_data": parse, **extra}


def form_tracker(
    step: str | None, *messages: dict, slots: dict | None = None, channel: str = "rest"
) -> Tracker:
    """The form waiting for `step`; the last of `messages` is the one to read."""
    events = [{**m, "input_channel": channel} for m in messages]
    latest = events[-1]["parse_data"]
    slots = {"requested_slot": step, **(slots or {})}
    return Tracker(
        "form-test", slots, latest, events, False, None, {"name": "callback_form"}, "action_listen"
    )


def run_form(tracker: Tracker, domain: dict) -> tuple[dict, CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ValidateCallbackForm().run(dispatcher, tracker, domain))
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}, dispatcher


def test_privacy_notice_asks_for_consent(dispatcher, domain) -> None:
    tracker = form_tracker(None, user("Rückruf bitte", "request_callback"))
    events = ActionOfferCallback().run(dispatcher, tracker, domain)
    reply = texts(dispatcher)
    assert "speichere" in reply and "Tagen gelöscht" in reply and "einverstanden" in reply
    assert button_payloads(dispatcher) == ["/affirm", "/deny"]
    assert SlotSet("offer", "consent") in events


def test_no_consent_gives_the_phone_number(dispatcher, domain, store) -> None:
    tracker = form_tracker(None, user("nein", "deny"), slots={"office_id": "koeln"})
    events = ActionCallbackRefused().run(dispatcher, tracker, domain)
    assert "0221 221-30702" in texts(dispatcher) and "nichts" in texts(dispatcher)
    assert store.list() == [] and SlotSet("callback_closed", "refused") in events


def test_a_one_message_request_fills_name_phone_and_reason_at_the_start(domain) -> None:
    request = user("Rückruf bitte – Maria Kaya, 0211 445566, es geht um meine Wertmarke", "request_callback")
    slots, _ = run_form(form_tracker(None, request, user("ja", "affirm")), domain)
    assert slots["callback_name"] == "Maria Kaya"
    assert slots["callback_phone"] == "+49211445566" and slots["callback_contact_method"] == "phone"
    assert "Wertmarke" in slots["callback_reason"]


def test_the_place_named_in_the_request_picks_the_office(domain) -> None:
    entity = {
        "entity": "place",
        "value": "m:05170024",
        "additional_info": {"outcome": "found", "keys": ["m:05170024"]},
    }
    request = user(
        "Stefanie Wendt, bitte Rückruf unter 02841 334455, ich wohne in Moers", "request_callback", [entity]
    )
    slots, _ = run_form(form_tracker(None, request, user("ja", "affirm")), domain)
    assert slots["callback_office"] == "kreis-wesel" and slots["callback_name"] == "Stefanie Wendt"


def test_the_known_office_is_taken_and_can_be_changed_later(domain) -> None:
    slots, _ = run_form(form_tracker(None, user("ja", "affirm"), slots={"office_id": "koeln"}), domain)
    assert slots["callback_office"] == "koeln"


def test_a_bare_name_is_taken_and_a_question_at_the_name_step_is_answered(domain) -> None:
    slots, _ = run_form(form_tracker("callback_name", user("maria kaya")), domain)
    assert slots["callback_name"] == "Maria Kaya"
    question = user("Wie lange dauert das eigentlich?", "ask_processing_time")
    slots, dispatcher = run_form(form_tracker("callback_name", question), domain)
    assert slots.get("callback_name") is None and "Wochen" in texts(dispatcher)


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("Tel. 0211 445566", "+49211445566"),
        ("+49 (0)211 445566", "+49211445566"),
        ("Handy: 0176 12345678", "+4917612345678"),
    ],
)
def test_a_number_with_words_around_it_is_taken(domain, text: str, phone: str) -> None:
    slots, _ = run_form(form_tracker("callback_contact_method", user(text)), domain)
    assert slots["callback_phone"] == phone


def test_the_rest_of_a_phone_message_fills_the_preferred_time(domain) -> None:
    slots, _ = run_form(
        form_tracker("callback_contact_method", user("02331 123456, am liebsten Freitag früh")), domain
    )
    assert slots["callback_phone"] == "+492331123456" and "Freitag" in slots["callback_preferred_time"]


def test_an_unusable_number_is_refused_with_a_reason(domain) -> None:
    slots, dispatcher = run_form(form_tracker("callback_contact_method", user("0900 123456")), domain)
    assert slots.get("callback_phone") is None and "0900" in texts(dispatcher)


def test_a_person_who_cannot_phone_gives_an_email(domain) -> None:
    message = user("Ich bin gehörlos, bitte per E-Mail an maria.kaya@web.de")
    slots, _ = run_form(form_tracker("callback_contact_method", message), domain)
    assert slots["callback_contact_method"] == "email" and slots["callback_email"] == "maria.kaya@web.de"


def test_the_reason_step_takes_a_question_as_the_reason(domain) -> None:
    slots, _ = run_form(
        form_tracker("callback_reason", user("Wann kommt mein Ausweis?", "ask_processing_time")), domain
    )
    assert slots["callback_reason"] == "Wann kommt mein Ausweis?"


def test_a_place_at_the_office_step_picks_the_office(domain) -> None:
    entity = {
        "entity": "place",
        "value": "m:05154032",
        "additional_info": {"outcome": "found", "keys": ["m:05154032"]},
    }
    slots, _ = run_form(form_tracker("callback_office", user("Issum", "inform_place", [entity])), domain)
    assert slots["callback_office"] == "kreis-kleve"


def test_the_summary_shows_every_field_and_a_correction_is_taken(dispatcher, domain) -> None:
    AskCallbackConfirmed().run(
        dispatcher, form_tracker("callback_confirmed", user("x"), slots=FILLED), domain
    )
    summary = texts(dispatcher)
    assert "Anna Müller" in summary and "+4922112345678" in summary and "Köln" in summary
    assert "/affirm" in button_payloads(dispatcher) and "/cancel" in button_payloads(dispatcher)
    correction = user("die Nummer ist falsch, richtig ist 0221 7654321")
    slots, _ = run_form(form_tracker("callback_confirmed", correction, slots=FILLED), domain)
    assert slots["callback_phone"] == "+492217654321" and slots.get("callback_confirmed") is None
    slots, _ = run_form(form_tracker("callback_confirmed", user("ja, passt", "affirm"), slots=FILLED), domain)
    assert slots["callback_confirmed"] is True


def test_a_corrected_name_at_the_summary_is_taken_without_asking_what_to_change(domain) -> None:
    correction = user("Der Nachname ist falsch, richtig ist Anna Meyer", "ask_change_address")
    slots, dispatcher = run_form(form_tracker("callback_confirmed", correction, slots=FILLED), domain)
    assert slots["callback_name"] == "Anna Meyer" and slots["callback_confirmed"] is None
    assert "ändern" not in texts(dispatcher)


@pytest.mark.parametrize(
    ("step", "text"),
    [
        ("callback_reason", "abbrechen"),
        ("callback_office", "Vergessen Sie es, ich will das doch nicht. Stopp."),
        ("callback_reason", "Ach wissen Sie was, ich möchte das alles doch nicht mehr, abbrechen"),
    ],
)
def test_cancel_and_the_change_buttons_leave_the_form_to_their_rules(domain, step: str, text: str) -> None:
    slots, _ = run_form(form_tracker(step, user(text, "cancel")), domain)
    assert slots == {} or set(slots) == {"requested_slot"}


def test_a_long_reason_the_nlu_takes_for_cancel_stays_the_reason(domain) -> None:
    text = "Ich möchte meinen Antrag auf Merkzeichen G zurückziehen und wissen, wie das geht"
    slots, _ = run_form(form_tracker("callback_reason", user(text, "cancel")), domain)
    assert "zurückziehen" in slots["callback_reason"]


def test_submission_is_stored_once_with_a_reference(dispatcher, domain, store) -> None:
    tracker = form_tracker(None, user("ja", "affirm"), slots=FILLED)
    events = ActionSubmitCallback().run(dispatcher, tracker, domain)
    assert "RR-" in texts(dispatcher) and SlotSet("callback_closed", "submitted") in events
    ActionSubmitCallback().run(CollectingDispatcher(), tracker, domain)  # a retried message
    [request] = store.list()
    assert (
        request.phone == "+4922112345678" and request.contact_method == "phone" and request.office == "koeln"
    )


def test_an_email_request_is_stored_without_a_phone(dispatcher, domain, store) -> None:
    slots = {**FILLED, "callback_contact_method": "email", "callback_phone": None, "callback_email": "a@b.de"}
    ActionSubmitCallback().run(dispatcher, form_tracker(None, user("ja", "affirm"), slots=slots), domain)
    [request] = store.list()
    assert request.phone is None and request.email == "a@b.de" and "E-Mail" in texts(dispatcher)


def test_a_broken_store_is_told_honestly(dispatcher, domain, monkeypatch) -> None:
    class Broken:
        def submit(self, *args: Any) -> None:
            raise OSError("disk full")

    monkeypatch.setattr(callback, "store", lambda: Broken())
    ActionSubmitCallback().run(dispatcher, form_tracker(None, user("ja", "affirm"), slots=FILLED), domain)
    assert "nicht speichern" in texts(dispatcher) and "RR-" not in texts(dispatcher)


def test_cancel_clears_everything(dispatcher, domain) -> None:
    events = ActionCancelCallback().run(
        dispatcher, form_tracker("callback_reason", user("abbrechen", "cancel"), slots=FILLED), domain
    )
    assert SlotSet("callback_name", None) in events and SlotSet("callback_closed", "cancelled") in events


def test_a_change_button_forgets_that_field(dispatcher, domain) -> None:
    message = user('/callback_change{"callback_field":"callback_contact_method"}', "callback_change",
                   [{"entity": "callback_field", "value": "callback_contact_method"}])  # fmt: skip
    events = ActionCallbackChange().run(
        dispatcher, form_tracker("callback_confirmed", message, slots=FILLED), domain
    )
    assert SlotSet("callback_phone", None) in events and SlotSet("callback_confirmed", None) in events


def test_on_the_telephone_the_callers_number_is_offered_and_taken(dispatcher, domain) -> None:
    call = user("ja", "affirm", metadata={"caller": "+4922112345678"})
    AskCallbackContact().run(
        dispatcher, form_tracker("callback_contact_method", call, channel="voice"), domain
    )
    assert "0221 12345678" in texts(dispatcher)
    slots, _ = run_form(form_tracker("callback_contact_method", call, channel="voice"), domain)
    assert slots["callback_phone"] == "+4922112345678"
