"""The real SQL tracker store keeps no personal data of a callback request after it ends."""

from __future__ import annotations

import asyncio
import json

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.tracker_store import REMOVED, PrivacySQLTrackerStore

NAME, PHONE, REASON = "Annegret Wübbelhorst", "+492219876543", "Widerspruch Az 77/12"


def user(text: str, intent: str) -> UserUttered:
    return UserUttered(
        text, {"name": intent, "confidence": 1.0}, parse_data={"text": text, "intent": {"name": intent}}
    )


def conversation(end_action: str, closed: str | None) -> list:
    return [
        ActionExecuted("action_listen"),
        user("Hallo, ich wohne in Köln", "greet"),
        ActionExecuted("utter_greet"),
        ActionExecuted("action_listen"),
        user("Rückruf bitte", "request_callback"),
        ActionExecuted("action_offer_callback"),
        BotUttered("Sind Sie einverstanden?"),
        ActionExecuted("action_listen"),
        user("ja", "affirm"),
        ActionExecuted("callback_form"),
        ActiveLoop("callback_form"),
        ActionExecuted("action_listen"),
        user(NAME, "inform_town"),
        SlotSet("callback_name", NAME),
        SlotSet("callback_phone", PHONE),
        SlotSet("callback_reason", REASON),
        BotUttered(f"Bitte prüfen Sie: {NAME}, {PHONE}, {REASON}"),
        ActionExecuted("action_listen"),
        user("ja", "affirm"),
        ActionExecuted(end_action),
        *([SlotSet("callback_closed", closed)] if closed else []),
    ]


def stored(tmp_path, events: list, sender: str) -> str:
    store = PrivacySQLTrackerStore(domain=Domain.empty(), dialect="sqlite", db=str(tmp_path / "tracker.db"))
    tracker = DialogueStateTracker.from_events(sender, events[:8])
    asyncio.run(store.save(tracker))  # saved turn by turn, as the server does
    asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))
    with store.session_scope() as session:
        rows = session.query(store.SQLEvent).filter(store.SQLEvent.sender_id == sender).all()
        # Decoded: the stored JSON escapes umlauts, a raw text search would miss them.
        return "\n".join(json.dumps(json.loads(row.data), ensure_ascii=False) for row in rows)


def test_submitted_request_is_masked(tmp_path) -> None:
    data = stored(tmp_path, conversation("action_submit_callback", "submitted"), "submitted")
    for secret in (NAME, PHONE, REASON, "9876543"):
        assert secret not in data
    assert REMOVED in data
    assert "Hallo, ich wohne in Köln" in data  # before the privacy notice: kept
    assert "request_callback" in data and "affirm" in data  # intents stay for reports


def test_cancelled_request_is_masked(tmp_path) -> None:
    data = stored(tmp_path, conversation("action_cancel_callback", "cancelled"), "cancelled")
    assert NAME not in data and PHONE not in data


def test_ongoing_or_failed_submission_is_not_masked(tmp_path) -> None:
    """A failed submission is logged as executed too; the slots must stay for another try."""
    data = stored(tmp_path, conversation("action_submit_callback", None), "failed")
    assert NAME in data
