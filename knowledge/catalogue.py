"""The catalogue of topics (knowledge/data/topics.yml): the one list the rest follows from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from knowledge.cards import OVERVIEW

INTENT_PREFIX = "ask_"


@dataclass(frozen=True)
class Topic:
    key: str
    group: str
    title: str
    summary: str  # a template over facts, like a card's answer
    office: bool

    @property
    def intent(self) -> str:
        return INTENT_PREFIX + self.key

    @property
    def overview(self) -> str:
        return f"{self.key}/{OVERVIEW}"


@dataclass(frozen=True)
class Catalogue:
    topics: Mapping[str, Topic]
    other_intents: Mapping[str, bool]  # intent -> answered by action_answer

    def topic_of_intent(self, intent: str) -> Topic | None:
        if not intent.startswith(INTENT_PREFIX):
            return None
        return self.topics.get(intent[len(INTENT_PREFIX) :])

    def groups(self) -> list[str]:
        return list(dict.fromkeys(topic.group for topic in self.topics.values()))

    def intents(self) -> list[str]:
        """Every intent of the domain: the topics' and the others."""
        return [topic.intent for topic in self.topics.values()] + list(self.other_intents)

    def answered_intents(self) -> list[str]:
        """The intents that action_answer replies to (one rule for all)."""
        others = [intent for intent, answered in self.other_intents.items() if answered]
        return [topic.intent for topic in self.topics.values()] + others


def parse_catalogue(raw: Mapping) -> Catalogue:
    topics = {
        key: Topic(
            key=key,
            group=item["group"],
            title=item["title"],
            summary=" ".join(item["summary"].split()),
            office=bool(item.get("office")),
        )
        for key, item in raw["topics"].items()
    }
    others = {intent: bool((item or {}).get("answered")) for intent, item in raw["other_intents"].items()}
    return Catalogue(topics, others)
