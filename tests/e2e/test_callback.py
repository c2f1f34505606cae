"""Callback requests end to end: the real servers, the real SQLite stores, the real logs."""

from __future__ import annotations

import sqlite3

import pytest

from tests.e2e.server import Assistant

pytestmark = pytest.mark.e2e

NAME, PHONE, REASON = "Annegret Wübbelhorst", "0221 9876543", "Frage zum Stand meines Antrags XQ-77"


def stored_requests(assistant: Assistant) -> list[tuple]:
    if not assistant.callbacks_db.exists():
        return []
    columns = "reference, name, phone, reason, preferred_time, alternative_contact, office"
    with sqlite3.connect(assistant.callbacks_db) as db:
        return db.execute(f"select {columns} from callback_requests").fetchall()


def stored_events(assistant: Assistant, sender: str) -> str:
    with sqlite3.connect(assistant.tracker_db) as db:
        return "\n".join(
            row[0] for row in db.execute("select data from events where sender_id = ?", (sender,))
        )


def test_happy_path_stores_once_and_leaves_no_personal_data(assistant: Assistant) -> None:
    sender = "callback-happy"
    assistant.reply(sender, "Ich wohne in Köln")
    notice = assistant.reply(sender, "Ich hätte gern einen Rückruf")
    assert "einverstanden" in notice and "gelöscht" in notice
    assert "heißen" in assistant.reply(sender, "/affirm")
    assert "Telefonnummer" in assistant.reply(sender, NAME)
    assert "Worum" in assistant.reply(sender, PHONE)
    assert "Wann" in assistant.reply(sender, REASON)
    assert "sonst erreichen" in assistant.reply(sender, "/skip")
    summary = assistant.reply(sender, "bitte per E-Mail, ich bin schwerhörig")
    assert NAME in summary and "+492219876543" in summary and "Stadt Köln" in summary
    before = len(stored_requests(assistant))  # other tests share the running assistant
    confirmation = assistant.reply(sender, "/affirm")
    [row] = stored_requests(assistant)[before:]
    assert row[0] in confirmation and "ruft Sie" in confirmation
    assert row[1:] == (NAME, "+492219876543", REASON, None, "bitte per E-Mail, ich bin schwerhörig", "koeln")
    assistant.reply(sender, "/affirm")  # a repeated confirmation stores nothing new
    assert len(stored_requests(assistant)) == before + 1
    events = stored_events(assistant, sender)
    for secret in (NAME, "9876543", "XQ-77", "schwerhörig"):
        assert secret not in events, secret
        assert secret not in assistant.logs(), secret
    assert "request_callback" in events  # intents stay for the reports


def test_no_consent_stores_nothing(assistant: Assistant) -> None:
    before = len(stored_requests(assistant))
    assistant.reply("callback-no", "Ich wohne in Bocholt")
    assistant.reply("callback-no", "Rückruf bitte")
    reply = assistant.reply("callback-no", "/deny")
    assert "nichts" in reply and "02861 82-1216" in reply
    assert len(stored_requests(assistant)) == before


def test_errors_questions_corrections_and_cancel(assistant: Assistant) -> None:
    sender = "callback-rough"
    before = len(stored_requests(assistant))
    assistant.reply(sender, "kann mich das amt zurückrufen?")
    assert "heißen" in assistant.reply(sender, "/affirm")
    assert "Namen" in assistant.reply(sender, "12345")
    faq = assistant.reply(sender, "Was kostet eigentlich die Wertmarke?")
    assert "104 Euro" in faq and "heißen" in faq  # answered, then the form goes on
    assistant.reply(sender, "Jens Groß")
    assert "Service-Nummern" in assistant.reply(sender, "0900 1234567")
    assistant.reply(sender, "0231 1234567")
    assistant.reply(sender, "Widerspruch gegen meinen Bescheid")
    assistant.reply(sender, "/skip")
    assistant.reply(sender, "/skip")
    summary = assistant.reply(sender, "Dortmund")
    assert "Jens Groß" in summary and "Dortmund" in summary
    asked = assistant.reply(sender, '/callback_change{"callback_field":"callback_phone"}')
    assert "Telefonnummer" in asked
    summary = assistant.reply(sender, "0231 7654321")
    assert "+492317654321" in summary
    cancelled = assistant.reply(sender, "abbrechen")
    assert "abgebrochen" in cancelled
    assert len(stored_requests(assistant)) == before


def test_action_server_crash_after_commit_keeps_the_request_exactly_once(assistant: Assistant) -> None:
    """The action server dies right after the commit, before its reply; the person tries again."""
    sender, before = "callback-crash", len(stored_requests(assistant))
    assistant.reply(sender, "Ich wohne in Hagen")
    assistant.reply(sender, "Ich möchte einen Rückruf")
    for answer in ("/affirm", "Mia Schulte", "02331 123456", "Frage zur Wertmarke", "/skip", "/skip"):
        assistant.reply(sender, answer)
    assistant.start_actions(ASSISTANT_FAULT="crash_after_callback_commit")
    try:
        lost = assistant.reply(sender, "/affirm")
        assert "RR-" not in lost  # never a confirmation that was not sent by the action
        assert len(stored_requests(assistant)) == before + 1  # committed before the crash
    finally:
        assistant.start_actions()
    again = assistant.reply(sender, "ja")
    [reference] = [row[0] for row in stored_requests(assistant) if row[1] == "Mia Schulte"]
    assert reference in again
    assert len(stored_requests(assistant)) == before + 1


@pytest.mark.parametrize("name", ["Uwe Grün", "Ilse Wertmann", "Detlef Bahn"])
def test_names_that_sound_like_topics_are_taken_as_names(assistant: Assistant, name: str) -> None:
    sender = f"callback-name-{name}"
    assistant.reply(sender, "Ich wohne in Herne")
    assistant.reply(sender, "Rückruf bitte")
    assert "heißen" in assistant.reply(sender, "/affirm")
    assert "Telefonnummer" in assistant.reply(sender, name)
    assistant.reply(sender, "/cancel")
