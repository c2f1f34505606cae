"""SQL tracker store that keeps no personal data of callback requests.

When a callback request is submitted, cancelled or refused, the stored events of that request
(user messages, bot messages and the personal slot values, from the privacy notice on)
are overwritten with a placeholder. Intent names stay, so reports still count topics.
"""

from __future__ import annotations

import json
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from callbacks.slots import CLOSED, PERSONAL_SLOTS

REMOVED = "[entfernt]"
FORM_START = "action_offer_callback"


class PrivacySQLTrackerStore(SQLTrackerStore):
    """Masks a request once the CLOSED slot is set: a failed action is logged as executed too,
    so the action name alone must not trigger the masking (the slots are needed for a retry)."""

    async def save(self, tracker: DialogueStateTracker) -> None:
        await super().save(tracker)
        if _form_ended_in_latest_turn(tracker):
            self._mask_callback_events(tracker.sender_id)

    def _mask_callback_events(self, sender_id: str) -> None:
        event = self.SQLEvent
        with self.session_scope() as session:
            start = (
                session.query(event.id)
                .filter(event.sender_id == sender_id, event.action_name == FORM_START)
                .order_by(event.id.desc())
                .first()
            )
            if start is None:
                return
            rows = session.query(event).filter(event.sender_id == sender_id, event.id > start.id).all()
            for row in rows:
                data = json.loads(row.data)
                if _mask(row.type_name, data):
                    row.data = json.dumps(data)
            session.commit()


def _form_ended_in_latest_turn(tracker: DialogueStateTracker) -> bool:
    for event in reversed(tracker.events):
        if isinstance(event, SlotSet) and event.key == CLOSED and event.value:
            return True
        if isinstance(event, UserUttered):
            return False
    return False


def _mask(type_name: str, data: dict[str, Any]) -> bool:
    """Overwrite personal content in one stored event; True if something changed."""
    if type_name in {"user", "bot"} and data.get("text") not in (None, REMOVED):
        data["text"] = REMOVED
        parse_data = data.get("parse_data") or {}
        if parse_data:
            parse_data["text"] = REMOVED
            parse_data["entities"] = []
        return True
    if (
        type_name == "slot"
        and data.get("name") in PERSONAL_SLOTS
        and data.get("value") not in (None, REMOVED)
    ):
        data["value"] = REMOVED
        return True
    return False
