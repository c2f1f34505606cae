"""Chat text made speakable, and the small decisions of the telephone channel (no servers needed)."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

import pytest
from twilio.request_validator import RequestValidator

import knowledge
from bot.channels.guard import MessageGuard
from bot.channels.speech import spoken, spoken_buttons, spoken_message, spoken_phone
from bot.channels.voice import (
    Call,
    GermanVoiceInput,
    button_payload,
    conversation_id,
    dial_number,
    is_no,
    is_yes,
    parse_form,
    usable_caller_number,
    wants_person,
)
from knowledge.office_answers import OfficeQuestion, office_text


def test_phone_numbers_are_read_in_small_groups() -> None:
    assert (
        spoken_phone("0221 221-30702") == "null zwei zwei eins, zwei zwei eins, drei null, sieben null, zwei"
    )
    assert spoken_phone("+492219876543") == spoken_phone("0221 9876543")
    assert (
        spoken("Telefon: 02861 82-1216.")
        == "Telefon: null zwei acht sechs eins, acht zwei, eins zwei eins sechs."
    )


def test_years_amounts_and_postcodes_stay_numbers() -> None:
    text = spoken("Seit 2021 kostet es 1.140 Euro, Amt in 51103 Köln, 3 bis 7 Wochen.")
    assert "2021" in text and "1.140 Euro" in text and "51103" in text and "null" not in text


def test_every_office_phone_is_spoken_digit_by_digit(kb: knowledge.Knowledge) -> None:
    for office in kb.offices.values():
        for phone in office.phones:
            said = spoken_phone(phone)
            digits = [word for group in said.split(", ") for word in group.split()]
            assert len(digits) == sum(c.isdigit() for c in phone), phone


def test_sources_links_and_markup_are_not_read(kb: knowledge.Knowledge) -> None:
    for key in kb.topics:
        answer = kb.answer(key)
        said = spoken(f"{answer.text}\n{answer.source_line()}")
        assert "Quelle" not in said and "\n" not in said
        assert not any(mark in said for mark in ("€", "%", "§", "GdB", "z. B.", "http")), key
    said = spoken("**Wichtig:** mehr unter https://www.beispiel.de/ausweis. Oder [hier](http://x.de) 😀")
    assert "http" not in said and "www" not in said and "*" not in said and "😀" not in said
    assert "auf der Internetseite des Amtes" in said and "hier" in said


@pytest.mark.parametrize(
    ("written", "said"),
    [
        ("Es kostet 104 €.", "Es kostet 104 Euro."),
        ("um 50 % ermäßigt", "um 50 Prozent ermäßigt."),
        ("z. B. vormittags", "zum Beispiel vormittags."),
        ("ab einem GdB von 50", "ab einem G D B von 50."),
        ("Merkzeichen aG oder Bl", "Merkzeichen a G oder B L."),
        ("nach SGB II", "nach S G B zwei."),
        ("Mo, Do, Fr: 8:00 bis 12:30 Uhr", "Montag, Donnerstag, Freitag: 8 Uhr bis 12 Uhr 30."),
        ("Bitte schreiben Sie Ihre Frage.", "Bitte sagen Sie Ihre Frage."),
        ("E-Mail: amt@stadt-koeln.de", "E-Mail: amt ät stadt-koeln Punkt de."),
        ("Ihre Nummer: RR-AC7D9K.", "Ihre Nummer: R R, A C sieben D neun K."),
        ("Es gibt B, RF und 1.Kl. Fragen Sie mich.", "Es gibt B, R F und erste Klasse. Fragen Sie mich."),
    ],
)
def test_written_forms_become_spoken_forms(written: str, said: str) -> None:
    assert spoken(written) == said


def test_office_answer_is_speakable(kb: knowledge.Knowledge) -> None:
    match = kb.find_office("Köln")
    assert match.office and match.place
    said = spoken(office_text(match.office, match.place, OfficeQuestion.CONTACT, datetime(2026, 3, 2, 9)))
    assert spoken_phone(match.office.main_phone) in said and match.office.main_phone not in said


def test_buttons_are_offered_as_things_to_say() -> None:
    assert spoken_buttons(["Antrag stellen", "Wertmarke", "Amt finden"]) == (
        "Sie können zum Beispiel sagen: Antrag stellen, Wertmarke oder Amt finden."
    )
    assert spoken_buttons([]) == ""
    message = {"text": "Möchten Sie mehr wissen?", "buttons": [{"title": "Kfz-Steuer", "payload": "/x"}]}
    assert spoken_message(message) == "Möchten Sie mehr wissen? Sie können zum Beispiel sagen: K F Z-Steuer."


def test_said_button_titles_become_payloads() -> None:
    buttons = ({"title": "Überspringen", "payload": "/skip"}, {"title": "Ja, absenden", "payload": "/affirm"})
    assert button_payload("Überspringen", buttons) == "/skip"
    assert button_payload("ja absenden", buttons) == "/affirm"
    assert button_payload("Ich möchte überspringen", buttons) is None


def test_person_wishes_yes_and_no() -> None:
    def call(text: str = "", digits: str = "") -> Call:
        return Call("CA1", "+492214567890", text or digits, digits, None, 0, "")

    assert (
        wants_person(call(digits="0"))
        and wants_person(call("null"))
        and wants_person(call("Mitarbeiter bitte"))
    )
    assert not wants_person(call("Kann eine andere Person den Antrag für mich stellen?"))
    assert not wants_person(call(digits="46395"))
    assert is_yes("Ja, bitte") and is_yes("genau") and not is_yes("ja, aber nicht diese Nummer")
    assert is_no("Nein") and is_no("2") and not is_no("Ja")


def test_caller_numbers_that_can_be_called_back() -> None:
    assert usable_caller_number("+492214567890") == "0221 4567890"
    assert usable_caller_number("anonymous") is None
    assert usable_caller_number("client:agent") is None
    assert usable_caller_number("+4990012345678") is None  # premium-rate lines are never offered


def test_conversation_id_hides_the_call() -> None:
    sender = conversation_id("CA" + "a" * 32)
    assert sender == conversation_id("CA" + "a" * 32) != conversation_id("CA" + "b" * 32)
    assert "CA" not in sender and "aaaa" not in sender


def test_office_numbers_in_e164(kb: knowledge.Knowledge) -> None:
    assert dial_number("0221 221-30702") == "+4922122130702"
    for office in kb.offices.values():
        assert dial_number(office.main_phone).startswith("+49")


def test_blank_form_fields_are_kept_for_the_signature() -> None:
    params = {"CallSid": "CA1", "CallerCity": "", "SpeechResult": "Grüß Gott"}
    url = "https://hotline.example.org/webhooks/voice/webhook?step=listen&silent=0"
    signature = RequestValidator("secret").compute_signature(url, params)
    body = b"CallSid=CA1&CallerCity=&SpeechResult=Gr%C3%BC%C3%9F+Gott"
    assert RequestValidator("secret").validate(url, parse_form(body), signature)


def test_without_a_token_even_a_signed_request_is_refused() -> None:
    url = "https://hotline.example.org/webhooks/voice/webhook"
    form = parse_form(b"CallSid=CA1&SpeechResult=Hallo")
    signature = RequestValidator("secret").compute_signature(url, {"CallSid": "CA1", "SpeechResult": "Hallo"})
    request = SimpleNamespace(headers={"X-Twilio-Signature": signature}, query_string="")
    guard = MessageGuard()
    assert GermanVoiceInput("secret", url, guard=guard)._authentic(request, form)
    assert not GermanVoiceInput(None, url, guard=guard)._authentic(request, form)
    assert not GermanVoiceInput("other", url, guard=guard)._authentic(request, form)
