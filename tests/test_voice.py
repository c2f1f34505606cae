"""The telephone channel end to end: signed Twilio-style requests against the real assistant.

The channel only carries the call (tests/test_voice_speech.py tests it alone); transfers, the
place question and the offer of the caller's own number are the dialogue's and the callback
form's, so these tests check the whole assistant on the phone.
"""

from __future__ import annotations

import os
import re
import secrets
import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import requests
from twilio.request_validator import RequestValidator

import knowledge
from bot.channels.speech import spoken as as_spoken
from bot.channels.speech import spoken_phone
from bot.channels.voice import conversation_id
from knowledge import clock
from tests.e2e.server import Assistant, running_assistant

pytestmark = pytest.mark.e2e

TOKEN = "test-" + secrets.token_hex(16)
# Behind a proxy: Twilio signs the public URL, which is not the one the server sees.
PUBLIC_URL = "https://hotline.example.org/webhooks/voice/webhook"
CALLER = "+492214567890"
CALLER_NATIONAL = "0221 4567890"
NAME, REASON = "Annegret Wübbelhorst", "Frage zum Stand meines Antrags QZ-4711"
FAQ_QUESTION = "Was kostet eigentlich die Wertmarke im Jahr?"
OFFICE_HOURS = "2026-12-01T10:00:00+01:00"  # a Tuesday morning: the offices of these tests are open


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Assistant]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(os.environ, "TWILIO_AUTH_TOKEN", TOKEN)
        patch.setitem(os.environ, "VOICE_WEBHOOK_URL", PUBLIC_URL)
        patch.setitem(os.environ, clock.FIXED_NOW, OFFICE_HOURS)  # transfers need an open office
        with running_assistant(tmp_path_factory.mktemp("voice")) as running:
            yield running


class Call:
    """One phone call as Twilio makes it: every request signed, each one to the URL the last answer named."""

    def __init__(self, assistant: Assistant, caller: str = CALLER) -> None:
        self.assistant = assistant
        self.sid = "CA" + secrets.token_hex(16)
        self.caller = caller
        self.next_url = PUBLIC_URL

    def params(self, **fields: str) -> dict[str, str]:
        return {
            "AccountSid": "AC" + "0" * 32,
            "CallSid": self.sid,
            "From": self.caller,
            "To": "+4922199999999",
            "CallStatus": "in-progress",
            "Direction": "inbound",
            "CallerCity": "",  # Twilio sends empty fields and signs them too
            "ApiVersion": "2010-04-01",
            **fields,
        }

    def post(self, url: str, params: dict[str, str], signature: str | None) -> requests.Response:
        parts = urlsplit(url)
        local = f"{self.assistant.url}{parts.path}" + (f"?{parts.query}" if parts.query else "")
        headers = {"X-Twilio-Signature": signature} if signature is not None else {}
        return requests.post(local, data=params, headers=headers, timeout=30)

    def request(self, **fields: str) -> ET.Element:
        """Send what the caller said (SpeechResult) or pressed (Digits); return the parsed TwiML."""
        params = self.params(**fields)
        signature = RequestValidator(TOKEN).compute_signature(self.next_url, params)
        answer = self.post(self.next_url, params, signature)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("text/xml")
        twiml = ET.fromstring(answer.content)  # the XML declaration names the encoding
        follow = twiml.find("Gather")
        dial = twiml.find("Dial")
        if follow is not None:
            self.next_url = follow.get("action")
        elif dial is not None:
            self.next_url = dial.get("action")
        return twiml

    def say(self, speech: str) -> ET.Element:
        return self.request(SpeechResult=speech, Confidence="0.91")

    def start(self) -> ET.Element:
        return self.request()


def spoken(twiml: ET.Element) -> str:
    return " ".join(say.text or "" for say in twiml.iter("Say"))


def dialled(twiml: ET.Element) -> str | None:
    dial = twiml.find("Dial")
    return (dial.text or "").strip() if dial is not None else None


def e164(phone: str) -> str:
    """Independent of the channel's own conversion: German national number to +49."""
    return "+49" + re.sub(r"\D", "", phone)[1:]


def events_of(assistant: Assistant, sender: str) -> int:
    if not assistant.tracker_db.exists():
        return 0
    with sqlite3.connect(assistant.tracker_db) as db:
        return db.execute("select count(*) from events where sender_id = ?", (sender,)).fetchone()[0]


def test_first_request_greets_in_german_and_listens(assistant: Assistant) -> None:
    twiml = Call(assistant).start()
    gather = twiml.find("Gather")
    assert gather is not None
    assert gather.get("language") == "de-DE" and gather.get("input") == "speech dtmf"
    assert gather.get("speechTimeout") == "auto" and gather.get("method") == "POST"
    assert gather.get("action", "").startswith(PUBLIC_URL)
    says = list(gather.iter("Say"))
    assert says and all(say.get("language") == "de-DE" and say.get("voice") for say in says)
    greeting = spoken(twiml)
    assert "Mitarbeiter" in greeting and "Null" in greeting


def test_faq_answer_is_spoken_plainly(assistant: Assistant) -> None:
    chat = assistant.send("voice-compare", FAQ_QUESTION)
    assert "Quelle:" in "\n".join(message.get("text", "") for message in chat)  # the chat cites sources
    call = Call(assistant)
    call.start()
    answer = spoken(call.say(FAQ_QUESTION + "."))
    assert "104 Euro" in answer
    for written_only in ("http", "www.", "Quelle", "<", "*", "€", "**", "\n"):
        assert written_only not in answer, written_only
    titles = [button["title"] for message in chat for button in message.get("buttons", [])]
    if titles:
        assert "Sie können zum Beispiel sagen" in answer
        assert all(as_spoken(title).rstrip(".!?") in answer for title in titles), titles


def test_town_then_mitarbeiter_transfers_to_the_office(assistant: Assistant) -> None:
    koeln = knowledge.load().offices["koeln"]
    call = Call(assistant)
    call.start()
    assert dialled(call.say("Ich wohne in Köln")) is None
    twiml = call.say("Mitarbeiter")
    assert dialled(twiml) == e164(koeln.main_phone)
    assert "verbinde" in spoken(twiml)
    after_dial = call.next_url
    nobody = call.request(DialCallStatus="no-answer")  # the office did not pick up
    assert nobody.find("Gather") is not None and dialled(nobody) is None
    assert spoken_phone(koeln.main_phone) in spoken(nobody) and "Rückruf" in spoken(nobody)
    call.next_url = after_dial  # a second transfer that was answered and has ended
    done = call.request(DialCallStatus="completed")
    assert done.find("Hangup") is not None


def test_digit_zero_transfers_to_the_office(assistant: Assistant) -> None:
    office = knowledge.load().find_office("Bocholt").office
    assert office is not None
    call = Call(assistant)
    call.start()
    call.say("Bocholt")
    assert dialled(call.request(Digits="0")) == e164(office.main_phone)


def test_a_sentence_asking_for_a_person_transfers_too(assistant: Assistant) -> None:
    office = knowledge.load().find_office("Bocholt").office
    assert office is not None
    call = Call(assistant)
    call.start()
    call.say("Ich wohne in Bocholt")
    twiml = call.say("Ich möchte bitte mit einem echten Mitarbeiter vom Amt sprechen")
    assert dialled(twiml) == e164(office.main_phone)


def test_person_first_asks_for_the_place_then_transfers(assistant: Assistant) -> None:
    koeln = knowledge.load().offices["koeln"]
    call = Call(assistant)
    call.start()
    question = call.say("Mensch bitte")
    assert dialled(question) is None and "Postleitzahl" in spoken(question)
    assert dialled(call.say("Köln")) == e164(koeln.main_phone)


def test_silence_asks_once_more_then_says_goodbye(assistant: Assistant) -> None:
    call = Call(assistant)
    call.start()
    again = call.request()  # Twilio posts to the action with no SpeechResult when nothing was said
    assert again.find("Gather") is not None and "nicht gehört" in spoken(again)
    goodbye = call.request()
    assert goodbye.find("Gather") is None and goodbye.find("Hangup") is not None
    assert "Wiederhören" in spoken(goodbye)


def test_callback_offers_the_callers_own_number(assistant: Assistant) -> None:
    call = Call(assistant)
    call.start()
    call.say("Ich wohne in Köln")
    assert "einverstanden" in spoken(call.say("Ich hätte gern einen Rückruf"))
    assert "heißen" in spoken(call.say("Ja"))
    offer = spoken(call.say(NAME + "."))
    assert "Sollen wir Sie unter der Nummer" in offer and spoken_phone(CALLER_NATIONAL) in offer
    assert "Worum" in spoken(call.say("Ja, bitte"))
    summary = spoken(call.say(REASON))  # the town is known, the time optional: the summary
    assert NAME in summary and spoken_phone(CALLER_NATIONAL) in summary
    assert "gespeichert" in spoken(call.say("Ja"))
    with sqlite3.connect(assistant.callbacks_db) as db:
        rows = db.execute("select name, phone, reason, office from callback_requests").fetchall()
    assert (NAME, CALLER, REASON, "koeln") in rows


def test_declining_the_own_number_lets_the_caller_say_another(assistant: Assistant) -> None:
    call = Call(assistant)
    call.start()
    call.say("Bocholt")
    call.say("Rückruf bitte")
    call.say("Ja")
    assert "Sollen wir Sie unter der Nummer" in spoken(call.say("Jens Groß"))
    assert "Telefonnummer" in spoken(call.say("Nein"))
    assert "Worum" in spoken(call.say("0231 1234567"))


def test_hidden_number_is_not_offered(assistant: Assistant) -> None:
    call = Call(assistant, caller="anonymous")
    call.start()
    call.say("Bocholt")
    call.say("Rückruf bitte")
    call.say("Ja")
    asked = spoken(call.say("Jens Groß"))
    assert "Telefonnummer" in asked and "Sollen wir Sie" not in asked


@pytest.mark.parametrize("signature", [None, "", "bm90IGEgc2lnbmF0dXJl"])
def test_unsigned_or_forged_requests_are_refused(assistant: Assistant, signature: str | None) -> None:
    call = Call(assistant)
    answer = call.post(PUBLIC_URL, call.params(SpeechResult="Was kostet die Wertmarke?"), signature)
    assert answer.status_code == 403
    assert events_of(assistant, conversation_id(call.sid)) == 0


def test_signature_over_another_url_is_refused(assistant: Assistant) -> None:
    call = Call(assistant)
    params = call.params(SpeechResult="Was kostet die Wertmarke?")
    local_signature = RequestValidator(TOKEN).compute_signature(
        f"{assistant.url}/webhooks/voice/webhook", params
    )
    assert call.post(PUBLIC_URL, params, local_signature).status_code == 403
    tampered = dict(params, SpeechResult="Ich wohne in Köln")
    good_signature = RequestValidator(TOKEN).compute_signature(PUBLIC_URL, params)
    assert call.post(PUBLIC_URL, tampered, good_signature).status_code == 403
    assert events_of(assistant, conversation_id(call.sid)) == 0


def test_conversations_are_keyed_by_a_hash_of_the_call(assistant: Assistant) -> None:
    call = Call(assistant)
    call.start()
    call.say("Hallo")
    assert events_of(assistant, conversation_id(call.sid)) > 0
    with sqlite3.connect(assistant.tracker_db) as db:
        senders = [row[0] for row in db.execute("select distinct sender_id from events")]
    assert not [sender for sender in senders if "4567890" in sender or sender.startswith("CA")]


def test_the_callers_number_is_not_kept_without_a_callback(assistant: Assistant) -> None:
    call = Call(assistant)
    call.start()
    call.say(FAQ_QUESTION)
    call.request(Digits="5")
    with sqlite3.connect(assistant.tracker_db) as db:
        stored = db.execute("select data from events where sender_id = ?", (conversation_id(call.sid),))
        rows = [row[0] for row in stored]
    leaked = [
        row[max(0, row.find("4567890") - 200) : row.find("4567890") + 50] for row in rows if "4567890" in row
    ]
    assert rows and not leaked


def test_logs_hold_neither_numbers_nor_spoken_texts(assistant: Assistant) -> None:
    logs = assistant.logs()
    assert "Rejected a voice request" in logs  # the refusals above were logged ...
    for secret in (
        CALLER,
        "4567890",
        NAME,
        "Wübbelhorst",
        "QZ-4711",
        FAQ_QUESTION,
        "Jens Groß",
        "0231 1234567",
    ):
        assert secret not in logs, secret  # ... but nothing the callers said or their numbers
