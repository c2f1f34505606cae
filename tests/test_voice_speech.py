"""Chat text made speakable, and the telephone channel as transport (no servers needed).

The channel is driven with a stand-in for Rasa that records each message it gets and answers
with fixed messages: what the channel passes on, and the TwiML it makes of the answers.
"""

from __future__ import annotations

import asyncio
import logging
import re
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from cachetools import TTLCache
from rasa.core.channels.channel import UserMessage
from twilio.request_validator import RequestValidator

import knowledge
from bot.channels.guard import Limits, MessageGuard
from bot.channels.speech import spoken, spoken_buttons, spoken_message, spoken_phone
from bot.channels.voice import (
    Call,
    GermanVoiceInput,
    button_payload,
    conversation_id,
    dial_number,
    parse_form,
)
from knowledge.office_answers import OfficeQuestion, office_text

ROOT = Path(__file__).resolve().parent.parent
PUBLIC_URL = "https://hotline.example.org/webhooks/voice/webhook"
CALLER = "+492214567890"


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
    for key in kb.cards:
        answer = kb.render(key)
        said = spoken(f"{answer.text}\n{answer.source_line()}")
        assert not re.search(r"Quellen?\s*:", said) and "\n" not in said  # (cards may speak of sources)
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
    said = spoken(
        office_text(kb.texts, match.office, match.place, OfficeQuestion.CONTACT, datetime(2026, 3, 2, 9))
    )
    assert spoken_phone(match.office.main_phone) in said and match.office.main_phone not in said


def test_buttons_are_offered_as_things_to_say() -> None:
    assert spoken_buttons(["Antrag stellen", "Wertmarke", "Amt finden"]) == (
        "Sie können zum Beispiel sagen: Antrag stellen, Wertmarke oder Amt finden."
    )
    assert spoken_buttons([]) == ""
    message = {"text": "Möchten Sie mehr wissen?", "buttons": [{"title": "Kfz-Steuer", "payload": "/x"}]}
    assert spoken_message(message) == "Möchten Sie mehr wissen? Sie können zum Beispiel sagen: K F Z-Steuer."


def test_said_button_titles_become_payloads() -> None:
    buttons = (("Überspringen", "/skip"), ("Ja, absenden", "/affirm"))
    assert button_payload("Überspringen", buttons) == "/skip"
    assert button_payload("ja absenden", buttons) == "/affirm"
    assert button_payload("Ich möchte überspringen", buttons) is None


def test_caller_number_and_digits_become_metadata() -> None:
    def call(caller: str, speech: str = "", digits: str = "") -> Call:
        return Call("CA1", caller, speech, digits)

    assert call(CALLER, "Mitarbeiter").metadata() == {"caller": CALLER}
    assert call(CALLER, digits="0").metadata() == {"caller": CALLER, "digits": "0"}
    assert call(CALLER, digits="0").text == "0" and call(CALLER, "Ja", "1").text == "Ja"
    for hidden in ("anonymous", "client:agent", "sip:someone@example.org", "", "+49"):
        assert call(hidden, "Hallo").metadata() == {}, hidden  # no number, nothing to offer
    form = parse_form(b"CallSid=CA1&From=%2B492214567890&SpeechResult=Ich+wohne+in+K%C3%B6ln.&Digits=")
    assert Call.from_form(form) == Call("CA1", CALLER, "Ich wohne in Köln", "", "")


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


# --- the channel as transport, with a stand-in for Rasa ------------------------------------------------

Reply = list[dict[str, Any]]


class FakeRasa:
    """Records every message; answers each with the next of `replies` (or one plain text)."""

    def __init__(self, *replies: Reply, fail: bool = False) -> None:
        self.replies = list(replies)
        self.fail = fail
        self.received: list[UserMessage] = []

    async def __call__(self, message: UserMessage) -> None:
        self.received.append(message)
        if self.fail:
            raise ConnectionError("the action server is down")
        reply = self.replies.pop(0) if self.replies else [{"text": "Eine Antwort."}]
        for sent in reply:
            if "custom" in sent:  # as Rasa sends a json_message of an action
                await message.output_channel.send_custom_json(message.sender_id, sent["custom"])
            else:
                await message.output_channel.send_response(message.sender_id, dict(sent))  # Rasa pops

    @property
    def texts(self) -> list[str]:
        return [message.text or "" for message in self.received]


class FakeTrackerStore:
    """Counts reads: the channel must not read the conversation to decide anything."""

    def __init__(self) -> None:
        self.reads = 0

    async def retrieve(self, sender_id: str) -> None:
        self.reads += 1
        return None


class Phone:
    """One call through the channel; each request returns the parsed TwiML."""

    def __init__(self, rasa: FakeRasa, channel: GermanVoiceInput | None = None, caller: str = CALLER) -> None:
        self.rasa = rasa
        self.channel = channel or GermanVoiceInput("secret", PUBLIC_URL, guard=MessageGuard(Limits(burst=0)))
        self.store = FakeTrackerStore()
        self.agent = SimpleNamespace(tracker_store=self.store)
        self.sid = "CA" + "7" * 32
        self.caller = caller

    def request(self, speech: str = "", digits: str = "", dial_status: str = "") -> ET.Element:
        call = Call(self.sid, self.caller, speech, digits, dial_status)
        twiml = asyncio.run(self.channel.answer(call, self.rasa, self.agent))
        return ET.fromstring(str(twiml))

    def say(self, speech: str) -> ET.Element:
        return self.request(speech=speech)


def said(twiml: ET.Element) -> str:
    return " ".join(say.text or "" for say in twiml.iter("Say"))


def dialled(twiml: ET.Element) -> str | None:
    dial = twiml.find("Dial")
    return (dial.text or "").strip() if dial is not None else None


def listens(twiml: ET.Element) -> bool:
    return twiml.find("Gather") is not None and twiml.find("Dial") is None and twiml.find("Hangup") is None


TRANSFER = {"custom": {"transfer": {"office": "koeln", "number": "0221 221-30702"}}}
HUMAN_TEXT = {
    "text": "Eine Mitarbeiterin oder ein Mitarbeiter hilft Ihnen gern.",
    "buttons": [{"title": "Rückruf anfordern", "payload": "/request_callback"}],
}


@pytest.mark.parametrize(
    ("speech", "digits"),
    [("Mitarbeiter", ""), ("Mensch bitte", ""), ("", "0"), ("null", ""), ("Ja", ""), ("Nein", ""), ("", "2")],
)
def test_the_channel_never_decides_on_its_own(speech: str, digits: str) -> None:
    """Person wishes, yes and no: passed to Rasa as they came; no transfer unless Rasa asks for one."""
    rasa = FakeRasa()
    phone = Phone(rasa)
    phone.request()
    twiml = phone.request(speech=speech, digits=digits)
    [message] = rasa.received
    assert message.text == (speech or digits) and message.input_channel == "voice"
    assert message.sender_id == conversation_id(phone.sid)
    assert message.metadata == {"caller": CALLER, **({"digits": digits} if digits else {})}
    assert listens(twiml) and dialled(twiml) is None and "Eine Antwort." in said(twiml)
    assert phone.store.reads == 0  # nothing read from the tracker store


def test_a_transfer_payload_dials_the_office_in_e164(kb: knowledge.Knowledge) -> None:
    koeln = kb.offices["koeln"]
    phone = Phone(FakeRasa([HUMAN_TEXT, TRANSFER]))
    phone.request()
    twiml = phone.say("Ich möchte mit einem Menschen sprechen")
    assert dialled(twiml) == "+4922122130702" == dial_number(koeln.main_phone)
    dial = twiml.find("Dial")
    assert dial is not None and dial.get("action") == PUBLIC_URL and dial.get("method") == "POST"
    speech = said(twiml)
    assert "hilft Ihnen gern" in speech and "verbinde" in speech and koeln.name in speech
    assert "Sie können zum Beispiel sagen" not in speech  # no options: nobody listens before the call
    assert all(say.get("language") == "de-DE" and say.get("voice") for say in twiml.iter("Say"))


def test_after_a_transfer_nobody_answered_or_the_talk_ended(kb: knowledge.Knowledge) -> None:
    koeln = kb.offices["koeln"]
    rasa = FakeRasa([TRANSFER], [TRANSFER])
    phone = Phone(rasa)
    phone.request()
    phone.say("Mitarbeiter")
    nobody = phone.request(dial_status="no-answer")
    assert listens(nobody)
    assert koeln.name in said(nobody) and spoken_phone(koeln.main_phone) in said(nobody)
    assert "Rückruf" in said(nobody)
    phone.say("Mitarbeiter")
    done = phone.request(dial_status="completed")
    assert done.find("Hangup") is not None and done.find("Gather") is None
    assert rasa.texts == ["Mitarbeiter", "Mitarbeiter"]  # the outcome of a transfer is not a message
    forgotten = Phone(FakeRasa()).request(dial_status="busy")  # dialled by another process
    assert listens(forgotten) and "Rückruf" in said(forgotten)


def test_a_transfer_without_a_number_is_not_dialled() -> None:
    phone = Phone(FakeRasa([{"text": "Gern."}, {"custom": {"transfer": {"office": "nowhere"}}}]))
    phone.request()
    twiml = phone.say("Mitarbeiter")
    assert listens(twiml) and dialled(twiml) is None and "Gern." in said(twiml)


def test_end_call_hangs_up_after_the_goodbye() -> None:
    goodbye = {"text": "Auf Wiedersehen! Wenn Sie noch Fragen haben, schreiben Sie mir gern wieder."}
    phone = Phone(FakeRasa([goodbye, {"custom": {"end_call": True}}]))
    phone.request()
    twiml = phone.say("Tschüss")
    assert twiml.find("Hangup") is not None and twiml.find("Gather") is None
    assert "rufen Sie gern wieder an" in said(twiml)
    assert conversation_id(phone.sid) not in phone.channel.calls


def test_text_and_buttons_are_said_while_listening() -> None:
    reply = [
        {"text": "Die Wertmarke kostet 104 €.\nQuelle: Stadt Köln, 2024"},
        {"text": "Möchten Sie mehr wissen?", "buttons": [{"title": "Kfz-Steuer", "payload": "/ask_tax"}]},
    ]
    phone = Phone(FakeRasa(reply))
    phone.request()
    twiml = phone.say("Was kostet die Wertmarke?")
    gather = twiml.find("Gather")
    assert gather is not None and listens(twiml)
    assert gather.get("language") == "de-DE" and gather.get("input") == "speech dtmf"
    assert gather.get("action") == PUBLIC_URL and "?" not in gather.get("action", "")
    assert [say.text for say in gather.iter("Say")] == [
        "Die Wertmarke kostet 104 Euro.",
        spoken_message(reply[1]),
    ]
    redirect = twiml.find("Redirect")
    assert redirect is not None and (redirect.text or "").strip() == PUBLIC_URL


def test_a_said_button_title_sends_the_buttons_payload() -> None:
    skip = [
        {"text": "Möchten Sie noch etwas sagen?", "buttons": [{"title": "Überspringen", "payload": "/skip"}]}
    ]
    rasa = FakeRasa(skip, [{"text": "Gut."}])
    phone = Phone(rasa)
    phone.request()
    assert "Sie können zum Beispiel sagen: Überspringen." in said(phone.say("Rückruf"))
    phone.request()  # a silence in between: the options are still the ones just read out
    phone.say("Überspringen")
    phone.say("Überspringen")  # the last answer had no buttons: now it is just words
    assert rasa.texts == ["Rückruf", "/skip", "Überspringen"]


def test_greeting_then_silence_asks_once_more_then_says_goodbye() -> None:
    rasa = FakeRasa()
    phone = Phone(rasa)
    greeting = phone.request()
    assert listens(greeting) and "Mitarbeiter" in said(greeting) and "Null" in said(greeting)
    again = phone.request()
    assert listens(again) and "nicht gehört" in said(again)
    goodbye = phone.request()
    assert goodbye.find("Gather") is None and goodbye.find("Hangup") is not None
    assert "Wiederhören" in said(goodbye)
    assert rasa.received == []  # silence is the channel's; Rasa heard nothing


def test_speech_in_between_resets_the_silences() -> None:
    phone = Phone(FakeRasa())
    phone.request()
    phone.request()
    phone.say("Hallo")
    assert "nicht gehört" in said(phone.request())  # asked again, not the goodbye


def test_when_rasa_fails_the_caller_hears_the_office_phone() -> None:
    phone = Phone(FakeRasa(fail=True))
    phone.request()
    twiml = phone.say("Ich wohne in Köln und brauche die Nummer")
    assert listens(twiml) and "technische Störung" in said(twiml)
    assert spoken_phone(knowledge.load().offices["koeln"].main_phone) in said(twiml)


def test_a_call_without_a_sid_is_ended() -> None:
    channel = GermanVoiceInput("secret", PUBLIC_URL, guard=MessageGuard(Limits(burst=0)))
    twiml = ET.fromstring(str(asyncio.run(channel.answer(Call("", CALLER, "Hallo", ""), FakeRasa()))))
    assert twiml.find("Hangup") is not None and "nicht bearbeitet" in said(twiml)


def test_refused_messages_are_spoken() -> None:
    channel = GermanVoiceInput("secret", PUBLIC_URL, guard=MessageGuard(Limits(max_length=20, burst=0)))
    rasa = FakeRasa()
    twiml = Phone(rasa, channel).say("Eine sehr lange Frage, die nicht endet")
    assert listens(twiml) and "zu lang" in said(twiml) and "sagen Sie" in said(twiml)
    assert rasa.received == []


def test_the_call_memory_is_bounded_and_expires() -> None:
    channel = GermanVoiceInput("secret", PUBLIC_URL, guard=MessageGuard(Limits(burst=0)))
    assert isinstance(channel.calls, TTLCache) and channel.calls.maxsize and channel.calls.ttl
    clock = [0.0]
    channel.calls = TTLCache(maxsize=3, ttl=60, timer=lambda: clock[0])
    for index in range(10):
        phone = Phone(FakeRasa(), channel)
        phone.sid = f"CA{index}"
        phone.request()
    assert len(channel.calls) == 3
    clock[0] = 61.0
    assert len(channel.calls) == 0
    phone = Phone(FakeRasa(), channel)
    assert "Mitarbeiter" in said(phone.request())  # a forgotten call is greeted, not hung up on


def test_neither_numbers_nor_speech_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        phone = Phone(FakeRasa([{"text": "Gern."}, TRANSFER], [{"custom": {"unknown": 1}}]))
        phone.request()
        phone.say("Ich heiße Annegret Wübbelhorst")
        phone.request(dial_status="no-answer")
        phone.request(digits="02314567890")
        Phone(FakeRasa(fail=True)).say("Zimmer 4711")
    for secret in (CALLER, "4567890", "Wübbelhorst", "Zimmer 4711", phone.sid):
        assert secret not in caplog.text, secret


def test_bot_never_imports_actions() -> None:
    for path in (ROOT / "bot").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(from|import) actions\b", source, re.MULTILINE), path


# --- the channels' texts ---------------------------------------------------------------------------------


def test_channel_texts_are_in_channels_yml_under_their_own_keys(kb: knowledge.Knowledge) -> None:
    texts_dir = ROOT / "knowledge" / "data" / "texts"
    channels = yaml.safe_load((texts_dir / "channels.yml").read_text(encoding="utf-8"))
    assert set(channels) == {"guard", "rest", "telegram", "voice", "speech"}
    for path in texts_dir.glob("*.yml"):
        if path.name != "channels.yml":
            assert not set(channels) & set(yaml.safe_load(path.read_text(encoding="utf-8")) or {}), path
    used: set[str] = set()
    for path in (ROOT / "bot" / "channels").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"[\"']((?:guard|rest|telegram|voice|speech)\.[a-z_]+)[\"']", source))
        prefix = {"voice.py": "voice", "telegram.py": "telegram"}.get(path.name)
        if prefix:  # their helpers text("greeting") and channel_text("edited")
            keys = re.findall(r"\b(?:text|channel_text)\(\"([a-z_]+)\"", source)
            used |= {f"{prefix}.{key}" for key in keys}
    written = {f"{section}.{key}" for section, entries in channels.items() for key in entries}
    assert used == written, (sorted(used - written), sorted(written - used))  # none missing, none unused
    assert all(key in kb.texts for key in written)


def test_spoken_channel_texts_need_no_rewriting(kb: knowledge.Knowledge) -> None:
    """What the telephone says of its own is already plain spoken German."""
    for key in [k for k in kb.texts.entries if k.startswith("voice.") and k != "voice.hints"]:
        sentence = kb.texts(key, office="Stadt Köln", phone="null zwei zwei eins")
        assert spoken(sentence) == sentence, key
