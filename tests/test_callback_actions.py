"""The callback form's actions with CollectingDispatcher and real trackers."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from rasa_sdk.events import SlotSet

from actions import callback
from actions.callback import (
    ActionAskCallbackConfirmed,
    ActionCallbackChange,
    ActionCallbackRefused,
    ActionCancelCallback,
    ActionOfferCallback,
    ActionSubmitCallback,
    ValidateCallbackForm,
)
from actions.faq import ActionAnswerFaq
from actions.office import ActionOfficeInfo
from callbacks.store import CallbackStore
from tests.conftest import button_payloads, texts

FILLED = {
    "callback_name": "Anna Müller",
    "callback_phone": "+4922112345678",
    "callback_reason": "Stand meines Antrags, AZ 55/123",
    "callback_preferred_time": "vormittags",
    "callback_alternative": "keine Angabe",
    "office_id": "koeln",
    "town": "Köln",
}


@pytest.fixture
def store(tmp_path, monkeypatch) -> CallbackStore:
    temporary = CallbackStore(f"sqlite:///{tmp_path / 'callbacks.db'}")
    monkeypatch.setattr(callback, "store", lambda: temporary)
    return temporary


def validate(slot: str, value: str, tracker, dispatcher, intent: str = "inform_town") -> dict:
    method = getattr(ValidateCallbackForm(), f"validate_{slot}")
    return method(value, dispatcher, tracker(value, intent), {})


def test_privacy_notice_asks_for_consent(dispatcher, tracker, domain) -> None:
    ActionOfferCallback().run(dispatcher, tracker("Rückruf bitte", "request_callback"), domain)
    reply = texts(dispatcher)
    assert "speichere" in reply and "Tagen gelöscht" in reply and "einverstanden" in reply
    assert button_payloads(dispatcher) == ["/affirm", "/deny"]


def test_no_consent_gives_the_phone_number(dispatcher, tracker, domain, store) -> None:
    ActionCallbackRefused().run(dispatcher, tracker("nein", "deny", slots={"office_id": "koeln"}), domain)
    assert "0221 221-30702" in texts(dispatcher) and "nichts" in texts(dispatcher)
    assert store.list() == []


@pytest.mark.parametrize(
    ("slot", "value", "expected"),
    [
        ("callback_name", "  anna   müller ", "anna müller"),
        ("callback_phone", "0171 1234567", "+491711234567"),
        ("callback_reason", "Frage\x07 zum Antrag", "Frage zum Antrag"),
        ("callback_alternative", "anna@example.de", "anna@example.de"),
        ("callback_alternative", "bitte per E-Mail, ich bin gehörlos", "bitte per E-Mail, ich bin gehörlos"),
        ("callback_preferred_time", "nachmittags ab 14 Uhr", "nachmittags ab 14 Uhr"),
    ],
)
def test_valid_answers_are_kept(slot, value, expected, tracker, dispatcher) -> None:
    assert validate(slot, value, tracker, dispatcher) == {slot: expected}
    assert dispatcher.messages == []


@pytest.mark.parametrize(
    ("slot", "value", "message"),
    [
        ("callback_name", "123", "Namen"),
        ("callback_phone", "0900 123456", "Service-Nummern"),
        ("callback_phone", "meine nummer", "Ziffern"),
        ("callback_phone", "12", "ungültig"),
        ("callback_reason", "   ", "worum"),
        ("callback_alternative", "anna@", "E-Mail-Adresse"),
        ("callback_office", "Hannover", "Nordrhein-Westfalen"),
        ("callback_office", "Mülheim", "Meinen Sie"),
    ],
)
def test_invalid_answers_are_rejected_with_a_message(slot, value, message, tracker, dispatcher) -> None:
    assert validate(slot, value, tracker, dispatcher) == {slot: None}
    assert message in texts(dispatcher)


def test_optional_questions_can_be_skipped(tracker, dispatcher) -> None:
    assert validate("callback_preferred_time", "überspringen", tracker, dispatcher, "skip") == {
        "callback_preferred_time": "keine Angabe"
    }
    assert validate("callback_alternative", "nein", tracker, dispatcher, "deny") == {
        "callback_alternative": "keine Angabe"
    }


def test_office_from_the_town(tracker, dispatcher) -> None:
    result = validate("callback_office", "Bocholt", tracker, dispatcher)
    assert result["callback_office"] == "kreis-borken" and result["office_id"] == "kreis-borken"


def test_office_is_not_asked_when_the_town_is_known(tracker, dispatcher) -> None:
    def required(slots: dict) -> list[str]:
        form = ValidateCallbackForm()
        message = tracker("x", "affirm", slots=slots)
        return asyncio.run(form.required_slots(["callback_name", "callback_office"], dispatcher, message, {}))

    known, unknown = required({"office_id": "koeln"}), required({})
    assert known == ["callback_name"] and unknown == ["callback_name", "callback_office"]


def test_summary_shows_everything_with_change_buttons(dispatcher, tracker, domain) -> None:
    ActionAskCallbackConfirmed().run(dispatcher, tracker("x", "skip", slots=FILLED), domain)
    reply = texts(dispatcher)
    assert "Anna Müller" in reply and "+4922112345678" in reply and "Stadt Köln" in reply
    payloads = button_payloads(dispatcher)
    assert payloads[0] == "/affirm" and payloads[-1] == "/cancel"
    assert '/callback_change{"callback_field":"callback_phone"}' in payloads


def test_change_forgets_one_field(tracker, dispatcher, domain) -> None:
    message = tracker(
        "/callback_change", "callback_change", [{"entity": "callback_field", "value": "callback_phone"}]
    )
    events = ActionCallbackChange().run(dispatcher, message, domain)
    assert events == [SlotSet("callback_confirmed", None), SlotSet("callback_phone", None)]


def test_submit_stores_once_and_gives_reference_and_time(
    dispatcher, tracker, domain, store, fixed_now
) -> None:
    fixed_now(datetime(2026, 11, 25, 10, 0))  # Wednesday: Köln is closed
    events = ActionSubmitCallback().run(dispatcher, tracker("ja", "affirm", slots=FILLED), domain)
    [stored] = store.list()
    assert stored.reference in texts(dispatcher)
    assert "frühestens morgen um 8:00 Uhr" in texts(dispatcher)
    assert stored.alternative_contact is None and stored.preferred_time == "vormittags"
    assert SlotSet("callback_name", None) in events and SlotSet("callback_phone", None) in events
    ActionSubmitCallback().run(dispatcher, tracker("ja", "affirm", slots=FILLED), domain)
    assert len(store.list()) == 1


def test_store_failure_is_told_honestly(dispatcher, tracker, domain, monkeypatch) -> None:
    def broken():
        raise OSError("database down")

    monkeypatch.setattr(callback, "store", broken)
    events = ActionSubmitCallback().run(dispatcher, tracker("ja", "affirm", slots=FILLED), domain)
    assert "nicht speichern" in texts(dispatcher) and "0221 221-30702" in texts(dispatcher)
    assert "gespeichert. Ihre Nummer" not in texts(dispatcher)
    assert events == []  # nothing lost: the slots stay for another try


def test_cancel_stores_nothing_and_clears(dispatcher, tracker, domain, store) -> None:
    events = ActionCancelCallback().run(dispatcher, tracker("abbrechen", "cancel", slots=FILLED), domain)
    assert "abgebrochen" in texts(dispatcher) and store.list() == []
    assert SlotSet("callback_name", None) in events


@pytest.mark.parametrize("action", [ActionAnswerFaq(), ActionOfficeInfo()])
def test_a_name_taken_for_a_question_fills_the_name_slot(action, dispatcher, tracker, domain) -> None:
    form = tracker("Uwe Grün", "ask_orange_card", slots={"requested_slot": "callback_name"})
    form.active_loop = {"name": "callback_form"}
    assert action.run(dispatcher, form, domain) == [SlotSet("callback_name", "Uwe Grün")]
    assert dispatcher.messages == []


def test_outside_the_form_the_same_words_are_a_question(dispatcher, tracker, domain) -> None:
    ActionAnswerFaq().run(dispatcher, tracker("Uwe Grün", "ask_orange_card"), domain)
    assert dispatcher.messages
