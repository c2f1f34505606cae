"""Fill a tracker store with realistic past conversations, for the benchmarks (not by hand).

    python -m tests.history --conversations 20000 --url sqlite:///var/tracker.db

Each conversation is one session of 2 to 6 turns stored as the assistant stores them: session
start, then per turn action_listen, the user message with parse data of the real size (intent
ranking, tokens, the response selector's ranking), the featurization marker, action_answer, the
reply with its buttons and the slots it set. Four turns in five are questions from the dev set
answered with a card of their topic, one in five names a place and gets its office. Timestamps
spread over the last 90 days; no personal data (callback forms are masked in real stores anyway).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import time
from functools import cache

import sqlalchemy as sa
import yaml
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    DefinePrevUserUtteredFeaturization,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)

import knowledge
from bot.tracker_store import PrivacySQLTrackerStore
from knowledge import Outcome
from knowledge.office_answers import phones
from knowledge.places import Place
from tests.e2e.server import ROOT

DAYS = 90
BATCH = 5_000
PLACE_SHARE = 0.2
ASSISTANT_ID = "schwerbehindertenausweis-nrw"
LOOKUPS = [
    "{place}",
    "Ich wohne in {place}",
    "ich komme aus {place}",
    "Welches Amt ist für {place} zuständig?",
]


def questions() -> list[tuple[str, str]]:
    """(text, intent) of the dev set's questions; the intent without a card (`ask_apply`)."""
    cases = yaml.safe_load((ROOT / "tests" / "e2e" / "dev_set.yml").read_text(encoding="utf-8"))["cases"]
    return [(case["text"], case["intent"]) for case in cases if case["intent"].startswith("ask_")]


@cache
def places() -> list[tuple[str, Place, knowledge.Office]]:
    """Towns and postcodes that name exactly one office: (what a person types, place, office)."""
    kb = knowledge.load()
    with (knowledge.DATA_DIR / "municipalities.csv").open(encoding="utf-8") as file:
        names = [row["name"] for row in csv.DictReader(file)]
    with (knowledge.DATA_DIR / "postcodes.csv").open(encoding="utf-8") as file:
        postcodes = sorted({row["plz"] for row in csv.DictReader(file)})
    found = []
    for text in names + postcodes:
        match = kb.find_office(text)
        if match.outcome is Outcome.FOUND and match.office is not None and match.place is not None:
            found.append((text, match.place, match.office))
    return found


class Generator:
    """Random conversations as event lists, from the dev set, the cards and the offices."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.kb = knowledge.load()
        self.asked = questions()
        self.intents = sorted({intent.split("/")[0] for _, intent in self.asked} | {"inform_place"})
        self.retrieval_intents = sorted({"ask_" + card.topic for card in self.kb.cards.values()})
        self.metadata = {"model_id": f"{rng.getrandbits(128):032x}", "assistant_id": ASSISTANT_ID}

    def conversation(self, started: float) -> list[Event]:
        meta, moment = self.metadata, started
        events: list[Event] = [
            ActionExecuted("action_session_start", timestamp=moment, confidence=1.0, metadata=meta),
            SessionStarted(timestamp=moment, metadata=meta),
        ]
        for _ in range(self.rng.randint(2, 6)):
            turn = self.place_turn if self.rng.random() < PLACE_SHARE else self.question_turn
            events += turn(moment)
            moment += self.rng.uniform(5, 90)
        events.append(self.action("action_listen", moment))
        return events

    def action(self, name: str, moment: float) -> ActionExecuted:
        return ActionExecuted(
            name,
            policy="RulePolicy",
            confidence=1.0,
            timestamp=moment,
            metadata=self.metadata,
            hide_rule_turn=True,
        )

    def turn(self, moment: float, parse: dict, reply: str, buttons: list[dict], slots: dict) -> list[Event]:
        """One message and its answer, in the order the Rasa server stores them."""
        meta = self.metadata
        return [
            self.action("action_listen", moment),
            UserUttered(
                parse["text"],
                parse["intent"],
                parse["entities"],
                parse,
                moment,
                "rest",
                parse["message_id"],
                meta,
            ),
            DefinePrevUserUtteredFeaturization(False, timestamp=moment + 0.01, metadata=meta),
            self.action("action_answer", moment + 0.01),
            BotUttered(reply, {"buttons": buttons}, meta, timestamp=moment + 0.02),
            *(SlotSet(key, value, timestamp=moment + 0.02, metadata=meta) for key, value in slots.items()),
        ]

    def question_turn(self, moment: float) -> list[Event]:
        text, intent = self.rng.choice(self.asked)
        topic, _, card_name = intent.removeprefix("ask_").partition("/")
        keys = [key for key in self.kb.cards if key.startswith(topic + "/")] or ["apply/overview"]
        card = f"{topic}/{card_name}" if f"{topic}/{card_name}" in self.kb.cards else self.rng.choice(keys)
        rendered = self.kb.render(card)
        buttons = [
            {"title": self.kb.cards[key].title, "payload": f'/ask_{key.split("/")[0]}{{"card":"{key}"}}'}
            for key in self.kb.cards[card].see_also[:3]
            if key in self.kb.cards
        ]
        parse = self.parse_data(text, intent.split("/")[0], [], card)
        return self.turn(
            moment, parse, f"{rendered.text}\n{rendered.source_line()}", buttons, {"last_card": card}
        )

    def place_turn(self, moment: float) -> list[Event]:
        said, place, office = self.rng.choice(places())
        text = self.rng.choice(LOOKUPS).format(place=said)
        only = text == said
        start = text.index(said)
        info = {"outcome": "found", "keys": [place.key], "matched": None, "region": None, "only": only}
        entity = {
            "entity": "place",
            "value": place.key,
            "start": start,
            "end": start + len(said),
            "confidence_entity": 1.0,
            "additional_info": {**info, "method": "exact"},
            "extractor": "PlaceExtractor",
        }
        intent = "inform_place" if only else "ask_responsible_office"
        reply = (
            f"Für {place.name} ist zuständig:\n{office.name}, {office.address}.\nTelefon: {phones(office)}.\n"
            f"E-Mail: {office.email}\nStand der Angaben: {office.source.year or office.source.date}."
        )
        parse = self.parse_data(text, intent, [entity], "responsible_office/overview")
        return self.turn(moment, parse, reply, [], {"office_id": office.id, "place": place.name})

    def parse_data(self, text: str, intent: str, entities: list[dict], card: str) -> dict:
        """What the NLU pipeline returns: intent ranking of 10, tokens, the response selector's ranking."""
        confidence = self.rng.uniform(0.6, 1.0)
        others = self.rng.sample([name for name in self.intents if name != intent], 9)
        ranking = [{"name": intent, "confidence": confidence}]
        ranking += [{"name": name, "confidence": self.rng.uniform(0, 1 - confidence) / 9} for name in others]
        cards = [card, *self.rng.sample([key for key in self.kb.cards if key != card], 9)]
        scores = sorted((self.rng.uniform(0, 0.3) for _ in cards), reverse=True)
        return {
            "intent": {"name": intent, "confidence": confidence, "full_retrieval_intent_name": None},
            "entities": entities,
            "text": text,
            "message_id": f"{self.rng.getrandbits(128):032x}",
            "metadata": {},
            "text_tokens": [[match.start(), match.end()] for match in re.finditer(r"\w+", text)],
            "intent_ranking": ranking,
            "response_selector": {
                "all_retrieval_intents": self.retrieval_intents,
                "default": {
                    "response": {
                        "responses": [{"text": card}],
                        "confidence": scores[0],
                        "intent_response_key": f"ask_{card}",
                        "utter_action": f"utter_ask_{card}",
                    },
                    "ranking": [
                        {"confidence": score, "intent_response_key": f"ask_{key}"}
                        for key, score in zip(cards, scores, strict=True)
                    ],
                },
            },
        }


def row(sender: str, event: Event) -> dict:
    """A row of the events table, as SQLTrackerStore writes it."""
    data = event.as_dict()
    return {
        "sender_id": sender,
        "type_name": event.type_name,
        "timestamp": data.get("timestamp"),
        "intent_name": (data.get("parse_data") or {}).get("intent", {}).get("name"),
        "action_name": data.get("name"),
        "data": json.dumps(data),
    }


def fill(url: str, count: int, seed: int = 7) -> int:
    """Insert `count` conversations into the tracker store at `url` (tables created if missing);
    returns the number of events."""
    store = PrivacySQLTrackerStore(domain=None, host=url)
    table = store.SQLEvent.__table__
    rng, now = random.Random(seed), time.time()
    generator = Generator(rng)
    rows: list[dict] = []
    total = 0
    with store.engine.begin() as connection:
        for index in range(count):
            sender = f"history-{seed}-{index}"
            started = now - rng.uniform(1, DAYS) * 86_400
            rows += [row(sender, event) for event in generator.conversation(started)]
            if len(rows) >= BATCH:
                connection.execute(table.insert(), rows)
                total, rows = total + len(rows), []
        if rows:
            connection.execute(table.insert(), rows)
            total += len(rows)
    store.engine.dispose()
    return total


def stored_conversations(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text("select count(distinct sender_id) from events")).scalar() or 0
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--conversations", type=int, default=20_000)
    parser.add_argument("--url", required=True, help="sqlite:///path/tracker.db or postgresql://…")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    started = time.monotonic()
    events = fill(args.url, args.conversations, args.seed)
    print(f"{args.conversations} conversations, {events} events in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
