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
    columns = "reference, name, phone, reason, preferred_time, contact_method, email, office"
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
    assert "Worum" in assistant.reply(sender, f"Tel. {PHONE}, am liebsten vormittags")
    summary = assistant.reply(sender, REASON)  # the town is known: no question for it
    assert NAME in summary and "+492219876543" in summary and "Stadt Köln" in summary
    before = len(stored_requests(assistant))  # other tests share the running assistant
    confirmation = assistant.reply(sender, "/affirm")
    [row] = stored_requests(assistant)[before:]
    assert row[0] in confirmation and "ruft Sie" in confirmation
    assert row[1:] == (NAME, "+492219876543", REASON, "am liebsten vormittags", "phone", None, "koeln")
    assistant.reply(sender, "/affirm")  # a repeated confirmation stores nothing new
    assert len(stored_requests(assistant)) == before + 1
    events = stored_events(assistant, sender)
    for secret in (NAME, "9876543", "XQ-77"):
        assert secret not in events, secret
        assert secret not in assistant.logs(), secret
    assert "request_callback" in events  # intents stay for the reports


def test_one_message_needs_only_consent_and_confirmation(assistant: Assistant) -> None:
    sender, before = "callback-one", len(stored_requests(assistant))
    assert "einverstanden" in assistant.reply(
        sender, "Rückruf bitte – Maria Kaya, 0211 445566, es geht um meine Wertmarke, ich wohne in Düsseldorf"
    )
    summary = assistant.reply(sender, "ja")
    assert "Maria Kaya" in summary and "+49211445566" in summary and "Düsseldorf" in summary
    assistant.reply(sender, "ja")
    [row] = stored_requests(assistant)[before:]
    assert (
        row[1] == "Maria Kaya"
        and row[2] == "+49211445566"
        and "Wertmarke" in row[3]
        and row[7] == "duesseldorf"
    )


def test_a_person_who_cannot_phone_is_reached_by_email(assistant: Assistant) -> None:
    sender, before = "callback-deaf", len(stored_requests(assistant))
    assistant.reply(sender, "Ich wohne in Bonn")
    assistant.reply(sender, "Rückruf bitte")
    assistant.reply(sender, "ja")
    assistant.reply(sender, "Ilka Brandt")
    asked = assistant.reply(sender, "Ich bin gehörlos und kann nicht telefonieren")
    assert "E-Mail" in asked
    assistant.reply(sender, "ilka.brandt@example.org")
    summary = assistant.reply(sender, "Verlängerung meines Ausweises")
    assert "E-Mail ilka.brandt@example.org" in summary
    confirmation = assistant.reply(sender, "ja")
    [row] = stored_requests(assistant)[before:]
    assert row[2] is None and row[5] == "email" and row[6] == "ilka.brandt@example.org"
    assert "E-Mail" in confirmation
    assert "gehörlos" not in stored_events(assistant, sender)


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
    assert "Vor- und Nachnamen" in assistant.reply(sender, "12345")
    faq = assistant.reply(sender, "Was kostet eigentlich die Wertmarke?")
    assert "104 Euro" in faq and "heißen" in faq  # answered, then the form goes on
    assistant.reply(sender, "Jens Groß")
    assert "Service-Nummern" in assistant.reply(sender, "0900 1234567")
    assert "Worum" in assistant.reply(sender, "0231 1234567")
    assert "Stadt oder Gemeinde" in assistant.reply(sender, "Wann kommt mein Ausweis?")  # the reason
    summary = assistant.reply(sender, "Dortmund")
    assert "Jens Groß" in summary and "Dortmund" in summary and "Wann kommt mein Ausweis?" in summary
    asked = assistant.reply(sender, '/callback_change{"callback_field":"callback_contact_method"}')
    assert "Telefonnummer" in asked
    summary = assistant.reply(sender, "0231 7654321")
    assert "+492317654321" in summary
    summary = assistant.reply(sender, "die Nummer ist falsch, richtig ist 0231 7654322")
    assert "+492317654322" in summary
    cancelled = assistant.reply(sender, "abbrechen")
    assert "abgebrochen" in cancelled
    assert len(stored_requests(assistant)) == before


def test_action_server_crash_after_commit_keeps_the_request_exactly_once(assistant: Assistant) -> None:
    """The action server dies right after the commit, before its reply; the person tries again."""
    sender, before = "callback-crash", len(stored_requests(assistant))
    assistant.reply(sender, "Ich wohne in Hagen")
    assistant.reply(sender, "Ich möchte einen Rückruf")
    for answer in ("/affirm", "Mia Schulte", "02331 123456", "Frage zur Wertmarke"):
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


def test_an_abandoned_form_is_masked_after_the_idle_time(assistant: Assistant) -> None:
    """Half filled, the tab closed: the sweep (bot/tracker_store.py) finds nothing left."""
    from rasa.shared.core.domain import Domain

    from bot.tracker_store import PrivacySQLTrackerStore

    sender = "callback-abandoned"
    assistant.reply(sender, "Ich wohne in Köln")
    assistant.reply(sender, "Rückruf bitte")
    assistant.reply(sender, "ja")
    assistant.reply(sender, "Mein Name ist Hildegard Quast, Tel. 0221 5556667")
    assistant.reply(sender, "Es geht um meinen Widerspruch Az 4711")
    assert "Quast" in stored_events(assistant, sender)
    store = PrivacySQLTrackerStore(domain=Domain.empty(), dialect="sqlite", db=str(assistant.tracker_db))
    import datetime as dt

    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=61)
    assert store.sweep_abandoned(now=later) >= 1
    events = stored_events(assistant, sender)
    for secret in ("Quast", "5556667", "4711"):
        assert secret not in events, secret
