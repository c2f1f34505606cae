"""SQL tracker store that keeps no personal data, and stays fast as conversations pile up.

When a callback request is submitted, cancelled or refused, the stored events of that request
(the message that asked for it, user and bot messages from the privacy notice on, and the
personal slot values) are overwritten with a placeholder. Intent names stay, so reports still
count topics.

A form that was started but never ended (the person closed the tab) is masked the same way once
the conversation has been idle for CALLBACK_ABANDONED_MINUTES (default 60): nothing was
submitted, so there is no purpose to keep the data. A sweep does this at start-up and then at
most every five minutes from save(), in a worker thread.

The telephone's caller number and keypad digits (message metadata, bot/channels/voice.py) are
never stored. Speed (docs/benchmarks.md): a retrieve reads only the latest session's `data`
column (no ORM objects), a save writes only the events after those it read (no COUNT query),
and SQLite runs in WAL mode, so reading and writing conversations do not block each other.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import time
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from callbacks.slots import CANNOT_PHONE, CLOSED, CONTACT_SLOTS, PERSONAL_SLOTS

logger = logging.getLogger(__name__)

REMOVED = "[entfernt]"
FORM_START = "action_offer_callback"
# "Cannot phone" says something about health (deaf, hard of hearing): emptied, never kept.
FLAG_SLOTS = (CANNOT_PHONE,)
MASKED_SLOTS = (*PERSONAL_SLOTS, *CONTACT_SLOTS, *FLAG_SLOTS)
ABANDONED_ENV, DEFAULT_ABANDONED_MINUTES = "CALLBACK_ABANDONED_MINUTES", 60.0
SWEEP_INTERVAL_S = 300.0
PRIVATE_METADATA = ("caller", "digits")  # bot/channels/voice.py
SESSION_METADATA = "session_started_metadata"
# How the stored JSON (json.dumps, default separators) looks once masked or empty.
MASKED_TEXT, NO_TEXT = f'%"text": "{REMOVED}"%', '%"text": null%'
MASKED_VALUE, NO_VALUE = f'%"value": "{REMOVED}"%', '%"value": null%'


def abandoned_minutes() -> float:
    return float(os.environ.get(ABANDONED_ENV, DEFAULT_ABANDONED_MINUTES))


class PrivacySQLTrackerStore(SQLTrackerStore):
    """Masks a request once the CLOSED slot is set: a failed action is logged as executed too,
    so the action name alone must not trigger the masking (the slots are needed for a retry)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_wal)
            self.engine.dispose()  # connections opened so far get the pragmas on reconnect
        self._next_sweep = time.monotonic() + SWEEP_INTERVAL_S
        self._sweeping: asyncio.Future | None = None
        self._sweep()  # start-up: forms left by a server that stopped

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        """Rasa's query, but only the data column, and it remembers how many events it read."""
        table = self.SQLEvent.__table__
        query = sa.select(table.c.data).where(table.c.sender_id == sender_id)
        if not fetch_events_from_all_sessions:
            started = (
                sa.select(sa.func.max(table.c.timestamp))
                .where(table.c.sender_id == sender_id, table.c.type_name == SessionStarted.type_name)
                .scalar_subquery()
            )
            query = query.where(sa.or_(table.c.timestamp >= started, started.is_(None)))
        with self.engine.connect() as connection:
            rows = connection.execute(query.order_by(table.c.id)).scalars().all()
        if not self.domain or not rows:
            return None
        tracker = DialogueStateTracker.from_dict(
            sender_id, [json.loads(row) for row in rows], self.domain.slots
        )
        if not fetch_events_from_all_sessions:
            tracker.stored_events = len(rows)  # type: ignore[attr-defined]  # see save()
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Only the events after those read by retrieve(); Rasa counts them with a query."""
        await self.stream_events(tracker)
        stored = getattr(tracker, "stored_events", None)
        if stored is None:
            with self.session_scope() as session:
                stored = self._event_query(
                    session, tracker.sender_id, fetch_events_from_all_sessions=False
                ).count()
        new = list(itertools.islice(tracker.events, stored, None))
        if new:
            table = self.SQLEvent.__table__
            with self.engine.begin() as connection:
                connection.execute(table.insert(), [_row(tracker.sender_id, event) for event in new])
        tracker.stored_events = len(tracker.events)  # type: ignore[attr-defined]
        if _form_ended_in_latest_turn(tracker):
            self._mask_callback_events(tracker.sender_id)
        if self._sweep_due():
            # In a worker thread: over a large store the sweep takes a second (docs/benchmarks.md),
            # and nobody's reply should wait for it. The database drivers release the GIL.
            self._sweeping = asyncio.get_running_loop().run_in_executor(None, self._sweep)

    def _sweep_due(self) -> bool:
        """A cheap clock check per save; the sweep itself at most every SWEEP_INTERVAL_S."""
        if time.monotonic() < self._next_sweep:
            return False
        self._next_sweep = time.monotonic() + SWEEP_INTERVAL_S
        return True

    def _sweep(self) -> None:
        try:
            masked = self.sweep_abandoned()
        except Exception as error:  # noqa: BLE001  a failed sweep must not lose the conversation
            logger.error("Sweep of abandoned callback forms failed: %s", type(error).__name__)
            return
        if masked:
            logger.info("Masked %d abandoned callback form(s)", masked)

    def sweep_abandoned(self, now: datetime | None = None) -> int:
        """Mask every callback form that was started, never ended and has been idle for
        abandoned_minutes(); returns how many conversations were masked."""
        moment = now.timestamp() if now else time.time()
        cutoff = moment - abandoned_minutes() * 60
        with self.session_scope() as session:
            candidates = [row.sender_id for row in self._abandoned_query(session, cutoff)]
        return sum(self._mask_callback_events(sender, idle_before=cutoff) for sender in candidates)

    def _abandoned_query(self, session: sa.orm.Session, cutoff: float) -> sa.orm.Query:
        """One pass over the events: per sender the last activity, the last form start, the last
        end of a form and the last unmasked personal event (so masked forms are not found again)."""
        event = self.SQLEvent
        last_start = sa.func.max(sa.case((event.action_name == FORM_START, event.id)))
        ended = sa.and_(event.type_name == "slot", event.action_name == CLOSED, ~event.data.like(NO_VALUE))
        last_end = sa.func.max(sa.case((ended, event.id)))
        unmasked = sa.or_(
            sa.and_(
                event.type_name.in_(("user", "bot")),
                ~event.data.like(MASKED_TEXT),
                ~event.data.like(NO_TEXT),
            ),
            sa.and_(
                event.type_name == "slot",
                event.action_name.in_(MASKED_SLOTS),
                ~event.data.like(NO_VALUE),
                ~event.data.like(MASKED_VALUE),
            ),
        )
        last_unmasked = sa.func.max(sa.case((unmasked, event.id)))
        return (
            session.query(event.sender_id)
            .group_by(event.sender_id)
            .having(
                sa.and_(
                    sa.func.max(event.timestamp) < cutoff,
                    last_start.isnot(None),
                    sa.or_(last_end.is_(None), last_end < last_start),
                    last_unmasked > last_start,
                )
            )
        )

    def _mask_callback_events(self, sender_id: str, idle_before: float | None = None) -> bool:
        """Mask the latest callback request of `sender_id`: from the message that asked for it on.
        With `idle_before` (the sweep), only if the conversation is still idle, and slot values
        become empty, so that a person who comes back is simply asked again."""
        event = self.SQLEvent
        with self.session_scope() as session:
            start = (
                session.query(event.id)
                .filter(event.sender_id == sender_id, event.action_name == FORM_START)
                .order_by(event.id.desc())
                .first()
            )
            if start is None:
                return False
            if idle_before is not None:
                last = session.query(sa.func.max(event.timestamp)).filter(event.sender_id == sender_id)
                if (last.scalar() or 0) >= idle_before:
                    return False  # the person came back meanwhile
            request = (
                session.query(event.id)
                .filter(event.sender_id == sender_id, event.type_name == "user", event.id < start.id)
                .order_by(event.id.desc())
                .first()
            )
            first_id = request.id if request else start.id
            rows = session.query(event).filter(event.sender_id == sender_id, event.id >= first_id).all()
            slot_value = REMOVED if idle_before is None else None
            changed = False
            for row in rows:
                data = json.loads(row.data)
                if _mask(row.type_name, data, slot_value):
                    row.data = json.dumps(data)
                    changed = True
            session.commit()
            return changed


def _row(sender_id: str, event: Event) -> dict[str, Any]:
    data = _without_private_metadata(event.as_dict())
    return {
        "sender_id": sender_id,
        "type_name": event.type_name,
        "timestamp": data.get("timestamp"),
        "intent_name": (data.get("parse_data") or {}).get("intent", {}).get("name"),
        "action_name": data.get("name"),
        "data": json.dumps(data),
    }


def _without_private_metadata(data: dict[str, Any]) -> dict[str, Any]:
    """The caller's number and the keys pressed: the message's metadata, the copy in its parse
    data, and Rasa's copy in the session_started_metadata slot."""
    holders = (
        data.get("metadata"),
        (data.get("parse_data") or {}).get("metadata"),
        data.get("value") if data.get("name") == SESSION_METADATA else None,
    )
    for holder in holders:
        if isinstance(holder, dict):
            for key in PRIVATE_METADATA:
                holder.pop(key, None)
    return data


def _sqlite_wal(connection: Any, record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _form_ended_in_latest_turn(tracker: DialogueStateTracker) -> bool:
    for event in reversed(tracker.events):
        if isinstance(event, SlotSet) and event.key == CLOSED and event.value:
            return True
        if isinstance(event, UserUttered):
            return False
    return False


def _mask(type_name: str, data: dict[str, Any], slot_value: str | None = REMOVED) -> bool:
    """Overwrite personal content in one stored event; True if something changed."""
    if type_name in {"user", "bot"} and data.get("text") not in (None, REMOVED):
        data["text"] = REMOVED
        parse_data = data.get("parse_data") or {}
        if parse_data:
            parse_data["text"] = REMOVED
            parse_data["entities"] = []
        return True
    if type_name != "slot" or data.get("name") not in MASKED_SLOTS:
        return False
    replacement = None if data["name"] in FLAG_SLOTS else slot_value
    if data.get("value") in (None, REMOVED, replacement):
        return False
    data["value"] = replacement
    return True
