"""End to end: the real Rasa server and action server over the REST channel."""

from __future__ import annotations

import sqlite3
from datetime import datetime

import pytest
import yaml

import knowledge
from knowledge.opening_hours import BERLIN
from tests.e2e.server import ROOT, Assistant

pytestmark = pytest.mark.e2e
DEV_SET = yaml.safe_load((ROOT / "tests" / "e2e" / "dev_set.yml").read_text(encoding="utf-8"))["cases"]
DEV_SET_TARGET = 0.95


def test_wertmarke_price(assistant: Assistant) -> None:
    assert "104 Euro" in assistant.reply("done-1", "Was kostet die Wertmarke?")


def test_lost_card_procedure(assistant: Assistant) -> None:
    reply = assistant.reply("done-2", "Ich habe meinen Ausweis verloren")
    assert "Ersatzausweis" in reply and "Lichtbild" in reply


def test_koeln_open_today(assistant: Assistant) -> None:
    before = datetime.now(BERLIN)
    reply = assistant.reply("done-3", "Ist das Amt in Köln heute offen?")
    after = datetime.now(BERLIN)
    hours = knowledge.load().offices["koeln"].opening_hours
    expected = {hours.status(moment).is_open for moment in (before, after)}
    assert "Ottmar-Pohl-Platz" in reply
    said_open = "Jetzt ist geöffnet" in reply
    assert said_open in expected
    assert said_open or "Jetzt ist geschlossen" in reply


def test_town_is_asked_remembered_and_changed(assistant: Assistant) -> None:
    sender = "memory"
    assert "Postleitzahl" in assistant.reply(sender, "Wie ist die Telefonnummer vom Amt?")
    assert "Burloer Straße 93" in assistant.reply(sender, "Bocholt")
    assert "02861 82-1216" in assistant.reply(sender, "wann haben die offen?")
    assert "Untere Brinkstraße 80" in assistant.reply(sender, "ich wohne jetzt in Hagen")
    assert "0231 50-0" in assistant.reply(sender, "Wie verlängere ich meinen Ausweis?")  # Hagen's office


def test_unclear_message_gets_a_fallback_with_topics(assistant: Assistant) -> None:
    messages = assistant.send("fallback", "xq zzv prrt")
    text = "\n".join(m.get("text", "") for m in messages)
    assert "nicht" in text and "104 Euro" not in text  # says so, answers nothing made up
    assert any(m.get("buttons") for m in messages)


def test_conversations_are_stored_in_sqlite(assistant: Assistant) -> None:
    assistant.reply("stored", "Hallo")
    with sqlite3.connect(assistant.tracker_db) as db:
        count = db.execute("select count(*) from events where sender_id = 'stored'").fetchone()[0]
    assert count > 0


def test_dev_set_answers(assistant: Assistant) -> None:
    assert len(DEV_SET) >= 150
    failures = []
    for index, case in enumerate(DEV_SET):
        reply = assistant.reply(f"dev-{index}", case["text"]).lower()
        missing = [item for item in case["expect"] if item.lower() not in reply]
        if missing:
            failures.append(f"{case['intent']}: {case['text']!r} misses {missing}")
    accuracy = 1 - len(failures) / len(DEV_SET)
    print(f"dev set accuracy: {accuracy:.3f} ({len(DEV_SET) - len(failures)}/{len(DEV_SET)})")
    assert accuracy >= DEV_SET_TARGET, "\n".join(failures)
