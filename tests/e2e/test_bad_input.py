"""Any input through the real REST channel: always an answer, never a 5xx, nothing invalid stored."""

from __future__ import annotations

import sqlite3
import uuid

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.channels.guard import Limits
from callbacks.validation import NAME_PATTERN
from tests.e2e.server import Assistant
from tests.test_bad_input import ANY_TEXT

pytestmark = pytest.mark.e2e

THROUGH_THE_SERVER = settings(max_examples=40, deadline=None)


def post(assistant: Assistant, body: bytes, content_type: str = "application/json") -> requests.Response:
    headers = {"Content-Type": content_type}
    return requests.post(f"{assistant.url}/webhooks/rest/webhook", data=body, headers=headers, timeout=60)


def tracker_slots(assistant: Assistant, sender: str) -> dict:
    response = requests.get(f"{assistant.url}/conversations/{sender}/tracker", timeout=30)
    response.raise_for_status()
    return response.json()["slots"]


@THROUGH_THE_SERVER
@given(text=ANY_TEXT)
def test_any_text_gets_an_answer(assistant: Assistant, text: str) -> None:
    sender = f"any-{uuid.uuid4().hex}"
    response = requests.post(
        f"{assistant.url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60
    )
    assert response.status_code == 200, response.text
    messages = response.json()
    assert messages and all(m["recipient_id"] == sender for m in messages)
    assert any(m.get("text", "").strip() for m in messages)


@THROUGH_THE_SERVER
@given(body=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)))
def test_a_malformed_body_gets_a_clear_400(assistant: Assistant, body: bytes) -> None:
    response = post(assistant, body)
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        assert "ungültig" in response.json()["error"]


@pytest.mark.parametrize(
    "body",
    [b"", b"{", b"[]", b"null", b'"text"', b'{"message": "hallo"}', b'{"sender": "", "message": "x"}',
     b'{"sender": "x", "message": null}', b'{"sender": 5, "message": "x"}', b"\xff\xfe\x00",
     b'{"sender": "x", "message": ["a"]}', b'{"sender": "x", "message": "a", "metadata": "m"}'],
)  # fmt: skip
def test_known_malformed_bodies(assistant: Assistant, body: bytes) -> None:
    response = post(assistant, body)
    assert response.status_code == 400
    assert "ungültig" in response.json()["error"]


def test_an_overlong_message_is_refused_kindly_and_not_stored(assistant: Assistant) -> None:
    sender, text = "overlong", "Bitte helfen Sie mir " + "x" * 10_000
    [message] = assistant.send(sender, text)
    assert "zu lang" in message["text"] and "1000 Zeichen" in message["text"]
    with sqlite3.connect(assistant.tracker_db) as db:
        stored = db.execute("select count(*) from events where data like ?", ("%xxxxxxxxxx%",)).fetchone()
    assert stored == (0,)


def test_too_many_messages_are_slowed_down_per_sender(assistant: Assistant) -> None:
    burst, statuses = int(assistant.env.get("RATE_LIMIT_BURST", Limits.burst)), []
    for _ in range(burst + 4):
        response = requests.post(
            f"{assistant.url}/webhooks/rest/webhook", json={"sender": "hasty", "message": " "}, timeout=30
        )
        statuses.append(response.status_code)
    assert statuses[:burst] == [200] * burst and 429 in statuses[burst:]
    assert "warten Sie" in response.json()[0]["text"] and int(response.headers["Retry-After"]) >= 1
    assert assistant.send("patient", "Was kostet die Wertmarke?")  # other people are not affected


@settings(max_examples=15, deadline=None)
@given(junk=ANY_TEXT)
def test_junk_in_the_callback_form_is_never_stored(assistant: Assistant, junk: str) -> None:
    sender = f"junk-{uuid.uuid4().hex}"
    assistant.reply(sender, "Ich wohne in Essen")
    assistant.reply(sender, "Ich möchte einen Rückruf")
    assistant.reply(sender, "/affirm")
    assert assistant.send(sender, junk)  # as the name: answered, whatever it is
    name = tracker_slots(assistant, sender).get("callback_name")
    assert name is None or NAME_PATTERN.fullmatch(name), name
