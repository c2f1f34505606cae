"""Custom actions with rasa-sdk's CollectingDispatcher and real trackers."""

from __future__ import annotations

from datetime import datetime

from rasa_sdk.events import SlotSet

from actions.fallback import ActionAskAffirmation, ActionDefaultFallback
from actions.faq import ActionAnswerFaq
from actions.office import ActionOfficeInfo, ActionOutOfScope
from actions.smalltalk import ActionRequestHuman
from tests.conftest import button_payloads, texts


def run(action, dispatcher, tracker, domain):
    return action.run(dispatcher, tracker, domain)


def test_faq_answer_has_fact_source_and_buttons(dispatcher, tracker, domain) -> None:
    run(ActionAnswerFaq(), dispatcher, tracker("Was kostet die Wertmarke?", "ask_wertmarke"), domain)
    reply = texts(dispatcher)
    assert "104 Euro" in reply
    assert "Quelle: Stadt Köln" in reply
    assert "/ask_companion" in button_payloads(dispatcher)


def test_office_dependent_answer_asks_for_the_place(dispatcher, tracker, domain) -> None:
    events = run(ActionAnswerFaq(), dispatcher, tracker("Ausweis verloren", "ask_lost_card"), domain)
    reply = texts(dispatcher)
    assert "Ersatzausweis" in reply and "Polizei" in reply
    assert "Wohnort" in reply
    assert "/ask_responsible_office" in button_payloads(dispatcher)
    assert events == []


def test_office_dependent_answer_uses_the_remembered_office(dispatcher, tracker, domain) -> None:
    slots = {"town": "Hagen", "office_id": "dortmund"}
    run(ActionAnswerFaq(), dispatcher, tracker("wie verlängere ich", "ask_extend", slots=slots), domain)
    assert "Untere Brinkstraße 80" in texts(dispatcher)


def test_town_in_a_faq_question_is_remembered(dispatcher, tracker, domain) -> None:
    message = tracker("Wie verlängere ich den Ausweis in Bocholt?", "ask_extend")
    events = run(ActionAnswerFaq(), dispatcher, message, domain)
    assert SlotSet("office_id", "kreis-borken") in events
    assert "Burloer Straße" in texts(dispatcher)


def test_merkzeichen_entity_selects_the_answer(dispatcher, tracker, domain) -> None:
    entities = [{"entity": "merkzeichen", "value": "ag"}]
    run(ActionAnswerFaq(), dispatcher, tracker("was ist ag", "ask_merkzeichen", entities), domain)
    assert "außergewöhnlich gehbehindert" in texts(dispatcher)


def test_merkzeichen_without_entity_is_found_in_text(dispatcher, tracker, domain) -> None:
    run(ActionAnswerFaq(), dispatcher, tracker("meine oma ist taubblind", "ask_merkzeichen"), domain)
    assert "taubblind" in texts(dispatcher)


def test_tax_allowance_with_gdb(dispatcher, tracker, domain) -> None:
    entities = [{"entity": "gdb", "value": "60"}]
    run(ActionAnswerFaq(), dispatcher, tracker("pauschbetrag gdb 60", "ask_tax_allowance", entities), domain)
    assert "1.440 Euro" in texts(dispatcher)


def test_opening_hours_for_koeln_today(dispatcher, tracker, domain, fixed_now) -> None:
    fixed_now(datetime(2026, 11, 25, 10, 0))  # a Wednesday: closed
    message = tracker(
        "Ist das Amt in Köln heute offen?", "ask_opening_hours", [{"entity": "town", "value": "Köln"}]
    )
    events = run(ActionOfficeInfo(), dispatcher, message, domain)
    reply = texts(dispatcher)
    assert "Jetzt ist geschlossen" in reply
    assert "morgen um 8:00 Uhr" in reply
    assert SlotSet("town", "Köln") in events


def test_opening_hours_open_now(dispatcher, tracker, domain, fixed_now) -> None:
    fixed_now(datetime(2026, 11, 24, 16, 0))  # Tuesday afternoon
    run(ActionOfficeInfo(), dispatcher, tracker("hat köln offen", "ask_opening_hours"), domain)
    assert "Jetzt ist geöffnet, heute bis 18:00 Uhr" in texts(dispatcher)


def test_office_question_without_place_asks_and_waits(dispatcher, tracker, domain) -> None:
    events = run(ActionOfficeInfo(), dispatcher, tracker("telefonnummer bitte", "ask_contact"), domain)
    assert "Postleitzahl" in texts(dispatcher)
    assert SlotSet("pending_question", "contact") in events


def test_place_answers_the_pending_question(dispatcher, tracker, domain) -> None:
    message = tracker("46395", "inform_town", [{"entity": "postcode", "value": "46395"}],
                      slots={"pending_question": "contact"})  # fmt: skip
    events = run(ActionOfficeInfo(), dispatcher, message, domain)
    reply = texts(dispatcher)
    assert "Burloer Straße 93" in reply and "Telefon" in reply
    assert SlotSet("pending_question", None) in events


def test_ambiguous_place_asks_back_with_buttons(dispatcher, tracker, domain) -> None:
    run(ActionOfficeInfo(), dispatcher, tracker("Mülheim", "inform_town"), domain)
    assert "„Mülheim“ gibt es mehrmals" in texts(dispatcher)
    payloads = button_payloads(dispatcher)
    assert any("Mülheim an der Ruhr" in p for p in payloads)
    assert any("Mülheim (Köln)" in p for p in payloads)


def test_place_outside_nrw(dispatcher, tracker, domain) -> None:
    run(ActionOfficeInfo(), dispatcher, tracker("Hannover", "inform_town"), domain)
    assert "nicht in Nordrhein-Westfalen" in texts(dispatcher)


def test_nonsense_place_asks_again(dispatcher, tracker, domain) -> None:
    message = tracker("xyzabc", "inform_town", slots={"pending_question": "contact"})
    events = run(ActionOfficeInfo(), dispatcher, message, domain)
    assert "finde ich leider nicht" in texts(dispatcher)
    assert events == []  # the question keeps waiting for a place


def test_nonsense_without_a_waiting_question_is_a_fallback(dispatcher, tracker, domain) -> None:
    run(ActionOfficeInfo(), dispatcher, tracker("xq zzv prrt", "inform_town"), domain)
    assert "nicht verstanden" in texts(dispatcher)
    assert "/ask_responsible_office" in button_payloads(dispatcher)


def test_changed_town_replaces_the_old_one(dispatcher, tracker, domain) -> None:
    message = tracker("ich wohne jetzt in Hagen", "inform_town", slots={"town": "Köln", "office_id": "koeln"})
    events = run(ActionOfficeInfo(), dispatcher, message, domain)
    assert SlotSet("office_id", "dortmund") in events


def test_request_human_gives_phone_and_callback(dispatcher, tracker, domain, fixed_now) -> None:
    fixed_now(datetime(2026, 11, 23, 9, 0))
    slots = {"town": "Köln", "office_id": "koeln"}
    run(
        ActionRequestHuman(),
        dispatcher,
        tracker("ich will einen menschen", "request_human", slots=slots),
        domain,
    )
    reply = texts(dispatcher)
    assert "0221 221-30702" in reply and "Rückruf" in reply and "geöffnet" in reply


def test_ask_affirmation_suggests_likely_topics(dispatcher, tracker, domain) -> None:
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.5},
        {"name": "ask_wertmarke", "confidence": 0.3},
        {"name": "ask_companion", "confidence": 0.2},
    ]
    run(ActionAskAffirmation(), dispatcher, tracker("bahn frei?", "nlu_fallback", ranking=ranking), domain)
    assert button_payloads(dispatcher)[:2] == ["/ask_wertmarke", "/ask_companion"]
    assert button_payloads(dispatcher)[-1] == "/deny"


def test_default_fallback_offers_topics_and_a_person(dispatcher, tracker, domain) -> None:
    run(ActionDefaultFallback(), dispatcher, tracker("blubb", "nlu_fallback"), domain)
    payloads = button_payloads(dispatcher)
    assert "/ask_apply" in payloads and "/request_callback" in payloads
    assert "Rückruf" in texts(dispatcher)


def test_every_domain_action_is_implemented(domain) -> None:
    from rasa_sdk.executor import ActionExecutor

    executor = ActionExecutor()
    executor.register_package("actions")
    assert set(domain["actions"]) <= set(executor.actions)


def test_ask_affirmation_offers_the_office_of_a_place_it_did_not_understand(
    dispatcher, tracker, domain
) -> None:
    run(ActionAskAffirmation(), dispatcher, tracker("Stadtlohn", "nlu_fallback"), domain)
    first = dispatcher.messages[0]["buttons"][0]
    assert first["payload"] == '/inform_town{"town": "Stadtlohn"}' and "Stadtlohn" in first["title"]


def test_out_of_scope_with_a_place_answers_with_the_office(dispatcher, tracker, domain, kb) -> None:
    events = run(ActionOutOfScope(), dispatcher, tracker("ich komme aus Stadtlohn", "out_of_scope"), domain)
    office = kb.find_office("Stadtlohn").office
    assert office.main_phone in texts(dispatcher)
    assert {"event": "slot", "timestamp": None, "name": "office_id", "value": office.id} in events


def test_out_of_scope_without_a_place_says_what_the_assistant_can_do(dispatcher, tracker, domain) -> None:
    run(ActionOutOfScope(), dispatcher, tracker("wie wird das wetter morgen", "out_of_scope"), domain)
    assert dispatcher.messages[0]["response"] == "utter_out_of_scope"
