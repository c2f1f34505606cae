"""Deflection per day and office, computed from stored tracker events (no database access here).

The definitions, also in docs/report.md:
- conversation: one session of one sender_id (a `session_started` event starts a new one) with at least
  one user message; its day is the Europe/Berlin date of its first user message.
- office: the value of the `office_id` slot at the end of the conversation (carried-over values count),
  else UNKNOWN_OFFICE.
- topic: the intent of a user message that the assistant answered with an FAQ or office answer
  (the first action after the message is one of ANSWER_ACTIONS); small talk, commands and the texts
  typed into the callback form are never topics.
- person requested: `action_request_human` or the callback offer (`action_offer_callback`) ran.
- callback taken: `action_submit_callback` ran and set `callback_closed` to "submitted" (only then the
  request is committed; a failed submission sets nothing).
- fallback message: a user message the NLU was unsure about (intent `nlu_fallback`, the two-stage
  fallback asked back) or after which the assistant ran `action_default_fallback`. It is *clarified*
  when the person's next message was understood and answered as a topic, else *unanswered*.
- final fallback: the assistant gave up (`action_default_fallback`, directly or as the two-stage
  fallback's last step).
- answered without a person: at least one topic answered, no person requested, no callback taken and
  no final fallback.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from actions.common import SLOT_OFFICE
from callbacks.slots import CLOSED
from knowledge.opening_hours import BERLIN

UNKNOWN_OFFICE = "unbekannt"
# The placeholder of bot.tracker_store (not imported: that module loads all of Rasa; a test pins it).
REMOVED = "[entfernt]"

SESSION_STARTED, ACTION, USER, SLOT, ACTIVE_LOOP = "session_started", "action", "user", "slot", "active_loop"
EVENT_TYPES = (SESSION_STARTED, ACTION, USER, SLOT, ACTIVE_LOOP)  # bot texts are never read

ACTION_LISTEN = "action_listen"
ANSWER_ACTIONS = frozenset({"action_answer_faq", "action_office_info"})
OFFER_CALLBACK = "action_offer_callback"
PERSON_ACTIONS = frozenset({"action_request_human", OFFER_CALLBACK})
SUBMIT_CALLBACK, SUBMITTED = "action_submit_callback", "submitted"
TWO_STAGE_FALLBACK, DEFAULT_FALLBACK = "action_two_stage_fallback", "action_default_fallback"
NLU_FALLBACK = "nlu_fallback"
GIVE_UP_INTENTS = frozenset({NLU_FALLBACK, "out_of_scope"})  # still unclear: the two-stage fallback gives up
NOT_TOPICS = frozenset(
    {
        "greet",
        "goodbye",
        "thank",
        "affirm",
        "deny",
        "bot_challenge",
        "ask_capabilities",
        "out_of_scope",
        NLU_FALLBACK,
        "request_human",
        "request_callback",
        "cancel",
        "skip",
        "callback_change",
        "inform_town",  # the person's place, an answer to "Wo wohnen Sie?"
    }
)
TOP_TOPICS = 3

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
NUMBER = re.compile(r"\+?\(?\d[\d\s()/.\-]{4,}\d")
DATE = re.compile(r"\d{1,2}\.\d{1,2}\.(?:\d{4}|\d{2})")
MIN_PHONE_DIGITS = 6


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
    person_requested: bool = False
    callbacks: int = 0
    final_fallback: bool = False
    fallbacks: list[FallbackMessage] = field(default_factory=list)

    @property
    def day(self) -> date:
        return berlin_day(self.started)

    @property
    def answered_without_person(self) -> bool:
        return bool(self.topics) and not (self.person_requested or self.callbacks or self.final_fallback)


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
    answered: bool = False  # the first action after it has been seen
    fallback: FallbackMessage | None = None


class _SessionReader:
    """Walks one session's events in order, like the tracker did."""

    def __init__(self) -> None:
        self.conversation: Conversation | None = None
        self.message: _Message | None = None
        self.office_id: str | None = None
        self.last_action: str | None = None
        self.after_callback_offer = False
        self.asked_back: list[FallbackMessage] = []  # the two-stage fallback is asking about these
        self.clarifying: list[FallbackMessage] = []  # decided by the first action after the next message

    def read(self, events: list[StoredEvent]) -> Conversation | None:
        for event in events:
            if event.type_name == USER:
                self._user(event)
            elif event.type_name == ACTION and event.action_name:
                self._action(event.action_name)
            elif event.type_name == SLOT:
                self._slot(event.parsed())
            elif event.type_name == ACTIVE_LOOP:
                self._active_loop(event.parsed())
        if self.conversation is not None:
            self.conversation.office_id = self.office_id
        return self.conversation

    def _user(self, event: StoredEvent) -> None:
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
        if self.conversation is None:
            self.conversation = Conversation(sender_id=event.sender_id, started=event.timestamp)

    def _action(self, name: str) -> None:
        if name == ACTION_LISTEN:
            return
        conversation, message = self.conversation, self.message
        if conversation is not None:
            conversation.person_requested |= name in PERSON_ACTIONS
        if name == OFFER_CALLBACK:
            self.after_callback_offer = True
        if conversation is not None and message is not None and not message.answered:
            message.answered = True
            self._first_response(conversation, message, name)
        if conversation is not None and message is not None and name == DEFAULT_FALLBACK:
            self._record(conversation, message)
            self._give_up(conversation)
        self.last_action = name

    def _first_response(self, conversation: Conversation, message: _Message, action: str) -> None:
        answered_topic = action in ANSWER_ACTIONS and message.intent not in NOT_TOPICS
        for fallback in self.clarifying:
            fallback.clarified = answered_topic
        self.clarifying = []
        if answered_topic:
            conversation.topics.append(message.intent)
        if action == TWO_STAGE_FALLBACK and message.intent == NLU_FALLBACK:
            self.asked_back.append(self._record(conversation, message))

    def _active_loop(self, data: dict[str, Any]) -> None:
        if data.get("name") is not None or self.last_action != TWO_STAGE_FALLBACK:
            return
        if self.conversation is not None and self.message and self.message.intent in GIVE_UP_INTENTS:
            self._give_up(self.conversation)
        else:  # the person picked a suggestion or rephrased: Rasa replays that message next
            self.clarifying, self.asked_back = self.asked_back, []

    def _give_up(self, conversation: Conversation) -> None:
        conversation.final_fallback = True
        self.asked_back = []

    def _slot(self, data: dict[str, Any]) -> None:
        name, value = data.get("name"), data.get("value")
        if name == SLOT_OFFICE:
            self.office_id = value or None
        elif name == CLOSED and value:
            self.after_callback_offer = False
            # Counted only right after the submit action: carried-over slots repeat the old value.
            if value == SUBMITTED and self.last_action == SUBMIT_CALLBACK and self.conversation:
                self.conversation.callbacks += 1

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
