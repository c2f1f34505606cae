"""Deflection per day and office, computed from stored tracker events (no database access here).

The definitions, also in docs/report.md. Every question, place, small talk and fallback is answered by
one action, `action_answer` (knowledge/dialogue.py); what kind of reply it gave is read from the slots
it sets, never from the bot's texts:
- conversation: one session of one sender_id (a `session_started` event starts a new one) with at least
  one user message; its day is the Europe/Berlin date of its first user message.
- office: the value of the `office_id` slot at the end of the conversation (carried-over values count),
  else UNKNOWN_OFFICE.
- topic: what action_answer answered a user message with, neither a fallback (`fallback_count` set to
  1 or more) nor an honest gap: the topic of the card it set in `last_card` ("extend/by_phone" ->
  ask_extend; also for a message the NLU was unsure about and the assistant answered all the same), or,
  when the card did not change, the intent `ask_<topic>` of the message. Only the topics of
  knowledge/data/topics.yml count (topic_intents): small talk, out of scope, the person's place,
  commands and the texts typed into the callback form are never topics.
- gap: a message answered with "Dazu habe ich keine gesicherte Auskunft" (the slot `offer` is
  `callback` after action_answer, and the person did not ask for a person): neither a topic answered
  nor a fallback.
- person requested: action_answer answered the intent `request_human`, or the callback offer
  (`action_offer_callback`) ran.
- callback taken: `action_submit_callback` ran and set `callback_closed` to "submitted" (only then the
  request is committed; a failed submission sets nothing).
- fallback message: a user message after which action_answer (or `action_default_fallback`) set
  `fallback_count` to 1 or more, whatever its intent. Stage 1 (the assistant asked back with
  suggestions) is *clarified* when the person's next message was answered as a topic, else
  *unanswered*; stage 2 or more (it gave up: the main topics, the phone, a callback) is a final
  fallback and always *unanswered*.
- answered without a person: at least one topic answered, no gap, no person requested, no callback
  taken and no final fallback.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any

import knowledge
from callbacks.slots import CLOSED
from knowledge.catalogue import INTENT_PREFIX
from knowledge.conversation import SLOT_OFFICE, SLOTS
from knowledge.dialogue import CALLBACK
from knowledge.opening_hours import BERLIN

UNKNOWN_OFFICE = "unbekannt"
# The placeholder of bot.tracker_store (not imported: that module loads all of Rasa; a test pins it).
REMOVED = "[entfernt]"

SESSION_STARTED, ACTION, USER, SLOT = "session_started", "action", "user", "slot"
REWIND, RESTART = "rewind", "restart"  # UserUtteranceReverted (action_default_fallback), Restarted
EVENT_TYPES = (SESSION_STARTED, ACTION, USER, SLOT, REWIND, RESTART)  # bot texts are never read

ACTION_LISTEN = "action_listen"
ANSWER, DEFAULT_FALLBACK = "action_answer", "action_default_fallback"
RESPONDERS = frozenset({ANSWER, DEFAULT_FALLBACK})  # the actions that reply through knowledge.dialogue
OFFER_CALLBACK = "action_offer_callback"
REQUEST_HUMAN = "request_human"
SUBMIT_CALLBACK, SUBMITTED = "action_submit_callback", "submitted"
SLOT_CARD, SLOT_FALLBACKS, SLOT_OFFER = SLOTS["last_card"], SLOTS["fallbacks"], SLOTS["offer"]
GIVE_UP_STAGE = 2  # fallback_count from which the assistant gives up
NLU_FALLBACK = "nlu_fallback"
TOP_TOPICS = 3

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
NUMBER = re.compile(r"\+?\(?\d[\d\s()/.\-]{4,}\d")
DATE = re.compile(r"\d{1,2}\.\d{1,2}\.(?:\d{4}|\d{2})")
MIN_PHONE_DIGITS = 6


def topic_intents() -> set[str]:
    """The intents of the catalogue's topics (ask_<topic>): the only intents counted as topics."""
    return set(_topic_intents())


@cache
def _topic_intents() -> frozenset[str]:
    return frozenset(topic.intent for topic in knowledge.load().catalogue.topics.values())


def topic_of_card(card: Any) -> str | None:
    """The topic intent of an answer card: "extend/by_phone" -> "ask_extend"; None for other cards."""
    if not isinstance(card, str) or "/" not in card:
        return None
    intent = INTENT_PREFIX + card.split("/", 1)[0]
    return intent if intent in _topic_intents() else None


@dataclass(frozen=True)
class StoredEvent:
    """One row of Rasa's `events` table, as far as the report needs it."""

    sender_id: str
    type_name: str
    timestamp: float
    action_name: str | None
    data: str  # the event as JSON

    def parsed(self) -> dict[str, Any]:
        return json.loads(self.data) if self.data else {}


@dataclass
class FallbackMessage:
    timestamp: float
    text: str  # masked; REMOVED for anything typed after a callback offer
    intent_guess: str
    confidence: float
    clarified: bool = False


@dataclass
class Conversation:
    sender_id: str
    started: float  # timestamp of the first user message
    office_id: str | None = None
    topics: list[str] = field(default_factory=list)
    gaps: int = 0  # topic messages answered with an honest gap
    person_requested: bool = False
    callbacks: int = 0
    final_fallback: bool = False
    fallbacks: list[FallbackMessage] = field(default_factory=list)

    @property
    def day(self) -> date:
        return berlin_day(self.started)

    @property
    def answered_without_person(self) -> bool:
        failed = self.gaps or self.person_requested or self.callbacks or self.final_fallback
        return bool(self.topics) and not failed


@dataclass
class FallbackRow:
    day: date
    office_id: str
    text: str
    intent_guess: str
    confidence: float
    outcome: str  # "unanswered" or "clarified"


@dataclass
class DayOffice:
    day: date
    office_id: str
    conversations: int = 0
    answered_without_person: int = 0
    gaps: int = 0  # topic messages answered with an honest gap
    person_requested: int = 0
    callbacks: int = 0
    fallbacks: int = 0  # unanswered fallback messages
    clarified: int = 0  # fallback messages understood after asking back
    topics: Counter[str] = field(default_factory=Counter)

    def top_topics(self, count: int = TOP_TOPICS) -> list[tuple[str, int]]:
        return sorted(self.topics.items(), key=lambda item: (-item[1], item[0]))[:count]


@dataclass
class Report:
    rows: list[DayOffice]
    fallbacks: list[FallbackRow]


def berlin_day(timestamp: float) -> date:
    return datetime.fromtimestamp(timestamp, BERLIN).date()


def mask_contact_data(text: str) -> str:
    """E-mail addresses and phone-like numbers (6 digits or more, dates excepted) become placeholders."""

    def number(match: re.Match[str]) -> str:
        found = match.group()
        if sum(char.isdigit() for char in found) < MIN_PHONE_DIGITS or DATE.fullmatch(found):
            return found
        return "[Telefon]"

    return NUMBER.sub(number, EMAIL.sub("[E-Mail]", text))


def sessions(events: Iterable[StoredEvent], require_start: bool = False) -> Iterator[list[StoredEvent]]:
    """Events ordered by sender and id, cut at each `session_started`. With require_start, a first
    piece that does not begin with `session_started` (cut off by a time filter) is dropped."""
    current: list[StoredEvent] = []
    for event in events:
        if current and (event.sender_id != current[0].sender_id or event.type_name == SESSION_STARTED):
            if not require_start or current[0].type_name == SESSION_STARTED:
                yield current
            current = []
        current.append(event)
    if current and (not require_start or current[0].type_name == SESSION_STARTED):
        yield current


def conversations(events: Iterable[StoredEvent], require_start: bool = False) -> Iterator[Conversation]:
    for session in sessions(events, require_start):
        conversation = _SessionReader().read(session)
        if conversation is not None:
            yield conversation


@dataclass
class _Message:
    timestamp: float
    text: str
    intent: str
    ranking: list[dict[str, Any]]
    after_callback_offer: bool
    responded: bool = False  # action_answer or action_default_fallback has run for it
    fallback: FallbackMessage | None = None


class _SessionReader:
    """Walks one session's events in order, like the tracker did, keeping the slots the report reads."""

    def __init__(self) -> None:
        self.conversation: Conversation | None = None
        self.message: _Message | None = None
        self.slots: dict[str, Any] = {}
        self.slots_before_message: dict[str, Any] = {}  # restored by a rewind, as Rasa does
        self.last_action: str | None = None
        self.after_callback_offer = False
        self.responding: _Message | None = None  # its reply is known once the action's slots are read
        self.set_during_reply: dict[str, Any] = {}  # the slots the responding action set
        self.asked_back: list[FallbackMessage] = []  # stage 1, decided by the next message's reply
        self.deciding: list[FallbackMessage] = []  # those of the previous message, decided now

    def read(self, events: list[StoredEvent]) -> Conversation | None:
        for event in events:
            if event.type_name == USER:
                self._user(event)
            elif event.type_name == ACTION and event.action_name:
                self._action(event.action_name)
            elif event.type_name == SLOT:
                self._slot(event.parsed())
            elif event.type_name == REWIND:
                self._decide()
                self.slots = dict(self.slots_before_message)
            elif event.type_name == RESTART:
                self._decide()
                self.slots = {}
        self._decide()
        if self.conversation is not None:
            self.conversation.office_id = self.slots.get(SLOT_OFFICE) or None
        return self.conversation

    def _user(self, event: StoredEvent) -> None:
        self._decide()
        data = event.parsed()
        parse_data = data.get("parse_data") or {}
        intent = (parse_data.get("intent") or data.get("intent") or {}).get("name") or ""
        self.message = _Message(
            timestamp=event.timestamp,
            text=data.get("text") or "",
            intent=intent,
            ranking=parse_data.get("intent_ranking") or [],
            after_callback_offer=self.after_callback_offer,
        )
        self.slots_before_message = dict(self.slots)
        self.deciding, self.asked_back = self.asked_back, []
        if self.conversation is None:
            self.conversation = Conversation(sender_id=event.sender_id, started=event.timestamp)

    def _action(self, name: str) -> None:
        self._decide()
        if name == ACTION_LISTEN:
            return
        conversation, message = self.conversation, self.message
        if conversation is not None and message is not None:
            conversation.person_requested |= name == OFFER_CALLBACK or (
                name == ANSWER and message.intent == REQUEST_HUMAN
            )
            if name in RESPONDERS and not message.responded:
                message.responded = True
                self.responding, self.set_during_reply = message, {}
        if name == OFFER_CALLBACK:
            self.after_callback_offer = True
        self.last_action = name

    def _slot(self, data: dict[str, Any]) -> None:
        name, value = data.get("name"), data.get("value")
        if not name:
            return
        self.slots[name] = value
        if self.responding is not None:
            self.set_during_reply[name] = value
        if name == CLOSED and value:
            self.after_callback_offer = False
            # Counted only right after the submit action: carried-over slots repeat the old value.
            if value == SUBMITTED and self.last_action == SUBMIT_CALLBACK and self.conversation:
                self.conversation.callbacks += 1

    def _decide(self) -> None:
        """What the reply to the message was, from the slots its action set (before the next event)."""
        message, self.responding = self.responding, None
        conversation = self.conversation
        if message is None or conversation is None:
            return
        stage = _number(self.set_during_reply.get(SLOT_FALLBACKS))
        if stage >= 1:
            fallback = self._record(conversation, message)
            if stage >= GIVE_UP_STAGE:
                conversation.final_fallback = True
            else:
                self.asked_back.append(fallback)
            return
        # Only the gap offers a callback in the reply to a question (the person's wish does too).
        if self.slots.get(SLOT_OFFER) == CALLBACK and message.intent != REQUEST_HUMAN:
            conversation.gaps += 1
            return
        topic = topic_of_card(self.set_during_reply.get(SLOT_CARD))
        if topic is None and message.intent in _topic_intents():
            topic = message.intent  # the same card as before: the slot did not change
        if topic is None:
            return
        conversation.topics.append(topic)
        for fallback in self.deciding:
            fallback.clarified = True
        self.deciding = []

    @staticmethod
    def _record(conversation: Conversation, message: _Message) -> FallbackMessage:
        if message.fallback is None:
            guess = next((item for item in message.ranking if item.get("name") != NLU_FALLBACK), None)
            intent, confidence = (
                (guess.get("name") or "", float(guess.get("confidence") or 0.0))
                if guess
                else (message.intent if message.intent != NLU_FALLBACK else "", 0.0)
            )
            text = REMOVED if message.after_callback_offer else mask_contact_data(message.text)
            message.fallback = FallbackMessage(message.timestamp, text, intent, confidence)
            conversation.fallbacks.append(message.fallback)
        return message.fallback


def _number(value: Any) -> float:
    try:
        return float(value or 0)
    except (TypeError, ValueError):
        return 0.0


def summarize(
    all_conversations: Iterable[Conversation], since: date | None = None, until: date | None = None
) -> Report:
    """Group conversations by day and office; since and until are inclusive Berlin dates."""
    rows: dict[tuple[date, str], DayOffice] = {}
    fallbacks: list[tuple[float, FallbackRow]] = []
    for conversation in all_conversations:
        day = conversation.day
        if (since and day < since) or (until and day > until):
            continue
        office_id = conversation.office_id or UNKNOWN_OFFICE
        row = rows.setdefault((day, office_id), DayOffice(day, office_id))
        row.conversations += 1
        row.answered_without_person += conversation.answered_without_person
        row.gaps += conversation.gaps
        row.person_requested += conversation.person_requested
        row.callbacks += conversation.callbacks
        row.topics.update(conversation.topics)
        for fallback in conversation.fallbacks:
            row.clarified += fallback.clarified
            row.fallbacks += not fallback.clarified
            outcome = "clarified" if fallback.clarified else "unanswered"
            fallbacks.append(
                (
                    fallback.timestamp,
                    FallbackRow(
                        day, office_id, fallback.text, fallback.intent_guess, fallback.confidence, outcome
                    ),
                )
            )
    ordered = sorted(rows.values(), key=lambda row: (row.day, row.office_id == UNKNOWN_OFFICE, row.office_id))
    fallbacks.sort(key=lambda item: (item[1].day, item[1].office_id, item[0]))
    return Report(ordered, [row for _, row in fallbacks])
