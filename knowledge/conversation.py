"""The plain data the dialogue works on: what the NLU understood, what the conversation remembers,
and what the assistant replies. No Rasa types: actions translate to and from these."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from knowledge.places import Outcome


@dataclass(frozen=True)
class PlaceMention:
    """The place entity of the NLU component (bot/nlu/places.py): keys of NRW places, or the
    state or country of a place elsewhere. `only` says the message is that place and nothing else."""

    outcome: Outcome
    keys: tuple[str, ...] = ()
    matched: str | None = None
    region: str | None = None
    only: bool = False

    def as_info(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome.value,
            "keys": list(self.keys),
            "matched": self.matched,
            "region": self.region,
            "only": self.only,
        }

    @classmethod
    def from_info(cls, info: dict[str, Any]) -> PlaceMention:
        return cls(
            outcome=Outcome(info.get("outcome", Outcome.UNKNOWN.value)),
            keys=tuple(info.get("keys") or ()),
            matched=info.get("matched"),
            region=info.get("region"),
            only=bool(info.get("only")),
        )


@dataclass(frozen=True)
class Turn:
    """One user message as the NLU understood it."""

    text: str
    intent: str
    confidence: float = 1.0
    intents: tuple[tuple[str, float], ...] = ()
    cards: tuple[tuple[str, float], ...] = ()  # ranked answer cards of the response selector
    place: PlaceMention | None = None
    requested_card: str | None = None  # a button that names a card
    channel: str | None = None
    digits: str | None = None  # keys pressed on the telephone (message metadata)


# Context field -> the Rasa slot that keeps it (bot/domain/slots.yml). Used by actions/ and bot/.
SLOTS = {
    "last_card": "last_card",
    "office_id": "office_id",
    "place": "place",
    "awaiting_place": "awaiting_place",
    "fallbacks": "fallback_count",
    "offer": "offer",
}
SLOT_OFFICE = SLOTS["office_id"]


@dataclass(frozen=True)
class Context:
    """What the conversation remembers between turns (slots)."""

    last_card: str | None = None
    office_id: str | None = None
    place: str | None = None  # label of the person's place, e.g. "Issum"
    awaiting_place: str | None = None  # the question that waits for the person's place
    fallbacks: int = 0  # not understood this many times in a row
    offer: str | None = None  # "callback" when the last reply offered one

    def but(self, **changes: Any) -> Context:
        return replace(self, **changes)

    @classmethod
    def from_slots(cls, get: Any) -> Context:
        """From a slot getter (tracker.get_slot)."""
        values = {name: get(slot) for name, slot in SLOTS.items()}
        values["fallbacks"] = int(values["fallbacks"] or 0)
        return cls(**values)

    def changed_slots(self, before: Context) -> dict[str, Any]:
        """The slots whose value differs from `before`."""
        return {
            slot: getattr(self, name)
            for name, slot in SLOTS.items()
            if getattr(self, name) != getattr(before, name)
        }


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class Message:
    text: str
    buttons: tuple[Button, ...] = ()
    custom: dict[str, Any] | None = None


@dataclass(frozen=True)
class Reply:
    messages: tuple[Message, ...]
    context: Context
    followup: str | None = None  # an action to run next, e.g. the callback offer
    topic: str | None = None  # what was answered, for reports
    kind: str = "answer"  # answer | gap | out_of_scope | fallback | place | smalltalk
    extra: dict[str, Any] = field(default_factory=dict)
