"""Broken parts: the action server, the callback store, the Rasa server, a slow lookup."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator

import pytest

import knowledge
from tests.e2e.server import Assistant

pytestmark = pytest.mark.e2e

KB = knowledge.load()
UNREACHABLE_DB = "postgresql://assistant@127.0.0.1:9/callbacks"  # nothing listens on port 9


@pytest.fixture
def actions_restored(assistant: Assistant) -> Iterator[Assistant]:
    """The test may stop or break the action server; afterwards it runs normally again."""
    yield assistant
    assistant.start_actions()


def stored_names(assistant: Assistant) -> list[str]:
    if not assistant.callbacks_db.exists():
        return []
    with sqlite3.connect(assistant.callbacks_db) as db:
        return [row[0] for row in db.execute("select name from callback_requests")]


def fill_callback_form(assistant: Assistant, sender: str, name: str) -> str:
    """From the wish for a callback to the summary; returns the summary."""
    assistant.reply(sender, "Ich wohne in Münster")
    assistant.reply(sender, "Bitte rufen Sie mich zurück")
    assistant.reply(sender, "/affirm")
    assistant.reply(sender, name)
    assistant.reply(sender, "0251 4567890")
    assistant.reply(sender, "Frage zur Verlängerung")
    assistant.reply(sender, "/skip")
    return assistant.reply(sender, "/skip")


def test_action_server_down_gives_the_office_phone_and_recovers(actions_restored: Assistant) -> None:
    assistant, sender = actions_restored, "fault-actions-down"
    bonn = KB.offices[KB.find_office("Bonn").office.id]
    assert bonn.main_phone in assistant.reply(sender, "Ich wohne in Bonn")
    normal = assistant.reply(sender, "Was kostet die Wertmarke?")
    assistant.stop_actions()

    reply = assistant.reply(sender, "Was kostet die Wertmarke?")
    assert "Störung" in reply and bonn.main_phone in reply  # the office remembered in the conversation
    cologne = KB.offices[KB.find_office("Köln").office.id]
    reply = assistant.reply("fault-actions-down-new", "Wann hat das Amt in Köln offen?")
    assert "Störung" in reply and cologne.main_phone in reply  # the place named in the message
    reply = assistant.reply("fault-actions-down-other", "Wie lange dauert der Antrag?")
    assert "Wohnort" in reply  # no place known: the person is asked for it

    assistant.start_actions()
    assert assistant.reply(sender, "Was kostet die Wertmarke?") == normal


def test_callback_store_down_is_told_honestly_and_nothing_is_lost(actions_restored: Assistant) -> None:
    assistant, sender, name = actions_restored, "fault-store-down", "Hildegard Brökelmann"
    assistant.start_actions(DATABASE_URL=UNREACHABLE_DB)
    assert name in fill_callback_form(assistant, sender, name)

    reply = assistant.reply(sender, "/affirm")
    assert "nicht speichern" in reply and "Ihre Angaben habe ich noch" in reply
    assert "gespeichert" not in reply.replace("nicht speichern", "")
    assert KB.offices[KB.find_office("Münster").office.id].main_phone in reply
    assert name not in stored_names(assistant)

    assistant.start_actions()  # the store is back
    reply = assistant.reply(sender, "/affirm")  # "Noch einmal versuchen"
    assert "Rückrufbitte ist gespeichert" in reply
    assert stored_names(assistant).count(name) == 1


def test_rasa_killed_mid_form_continues_from_the_tracker_store(assistant: Assistant) -> None:
    sender = "fault-rasa-restart"
    assistant.reply(sender, "Ich wohne in Bielefeld")
    assistant.reply(sender, "Ich hätte gern einen Rückruf")
    assert "Telefonnummer" in assistant.reply(sender, "/affirm") + assistant.reply(sender, "Martina Lübke")

    assistant.rasa.stop(kill=True)
    assistant.rasa.start()

    assert "Worum" in assistant.reply(sender, "0521 3344556")
    summary = assistant.reply(sender, "Mein Bescheid ist falsch")
    assert "Martina Lübke" in summary and "+495213344556" in summary and "Bielefeld" in summary


def test_a_slow_answer_times_out_with_a_helpful_message(actions_restored: Assistant) -> None:
    assistant, sender = actions_restored, "fault-slow"
    assistant.reply(sender, "Ich wohne in Aachen")
    assistant.start_actions(ASSISTANT_FAULT="slow_answers", ASSISTANT_FAULT_DELAY_S="25")

    started = time.monotonic()
    reply = assistant.reply(sender, "Was kostet die Wertmarke?")
    waited = time.monotonic() - started
    assert "dauert gerade zu lange" in reply
    assert KB.offices[KB.find_office("Aachen").office.id].main_phone in reply
    assert waited < 20  # the guard's limit in the tests is 10 s, the lookup takes 25 s
