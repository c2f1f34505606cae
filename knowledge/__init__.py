"""The assistant's knowledge: sourced facts, answer cards, topics, texts, offices and places.

Everything is plain, typed Python over the data files in knowledge/data; the Rasa actions
only translate between the tracker and this API.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import yaml

from knowledge.cards import Card, RenderedCard, parse_cards, render
from knowledge.catalogue import Catalogue, Topic, parse_catalogue
from knowledge.facts import Fact, merge_fact_files, parse_facts
from knowledge.mentions import FollowUps
from knowledge.offices import Office, parse_offices
from knowledge.place_data import build_place_index
from knowledge.places import Outcome, Place, Resolution
from knowledge.sources import Source, parse_sources
from knowledge.texts import Texts, parse_texts

DATA_DIR = Path(__file__).parent / "data"

__all__ = [
    "Card",
    "Catalogue",
    "Knowledge",
    "Office",
    "OfficeMatch",
    "Outcome",
    "Place",
    "Topic",
    "load",
]


@dataclass(frozen=True)
class OfficeMatch:
    """A resolved query: what was understood, and the office(s) responsible."""

    resolution: Resolution
    offices: tuple[Office, ...]

    @property
    def outcome(self) -> Outcome:
        return self.resolution.outcome

    @property
    def place(self) -> Place | None:
        return self.resolution.place

    @property
    def office(self) -> Office | None:
        return self.offices[0] if self.outcome is Outcome.FOUND else None


class Knowledge:
    def __init__(self, data_dir: Path = DATA_DIR) -> None:
        self.sources: dict[str, Source] = parse_sources(_yaml(data_dir / "sources.yml")["sources"])
        fact_files = [("facts.yml", _yaml(data_dir / "facts.yml")["facts"])]
        fact_files += [
            (path.name, _yaml(path).get("facts") or {}) for path in sorted((data_dir / "facts").glob("*.yml"))
        ]
        self.facts: dict[str, Fact] = parse_facts(merge_fact_files(fact_files), self.sources)
        self.catalogue: Catalogue = parse_catalogue(_yaml(data_dir / "topics.yml"))
        self.cards: dict[str, Card] = {}
        for path in sorted((data_dir / "cards").glob("*.yml")):
            for key, card in parse_cards(_yaml(path).get("cards") or {}, self.sources).items():
                if key in self.cards:
                    raise ValueError(f"Card {key!r} is written twice (again in {path.name})")
                self.cards[key] = card
        self.texts: Texts = parse_texts(_merged(sorted((data_dir / "texts").glob("*.yml"))))
        self.follow_ups = FollowUps.parse(_yaml(data_dir / "followups.yml"))
        self.offices: dict[str, Office] = parse_offices(
            _yaml(data_dir / "offices.yml")["offices"], self.sources
        )
        self._office_by_kreis = {key: office for office in self.offices.values() for key in office.serves}
        self.places = build_place_index(data_dir)

    # Topics and cards ----------------------------------------------------------------------

    @property
    def topics(self) -> dict[str, Topic]:
        return dict(self.catalogue.topics)

    def cards_of(self, topic: str) -> list[Card]:
        return [card for card in self.cards.values() if card.topic == topic]

    def render(self, key: str) -> RenderedCard:
        return render(self.cards[key], self.facts)

    def summary(self, topic: str) -> str:
        """What the sources say on a topic in one or two sentences."""
        text = self.catalogue.topics[topic].summary
        return text.format(**{name: fact.text() for name, fact in self.facts.items() if "{" + name in text})

    def gdb_values(self) -> list[int]:
        start, stop, step = (self.facts[k].value for k in ("gdb_min", "gdb_max", "gdb_step"))
        return list(range(int(start), int(stop) + 1, int(step)))

    # Offices -------------------------------------------------------------------------------

    def office_for_kreis(self, kreis_key: str) -> Office:
        return self._office_by_kreis[kreis_key]

    def office_for_place(self, place: Place) -> Office:
        return self.office_for_kreis(place.kreis_key)

    def find_office(self, text: str) -> OfficeMatch:
        return self.match(self.places.resolve(text))

    def match(self, resolution: Resolution) -> OfficeMatch:
        office_ids = dict.fromkeys(self.office_for_place(p).id for p in resolution.places)
        offices = tuple(self.offices[office_id] for office_id in office_ids)
        if resolution.outcome is Outcome.AMBIGUOUS and len(offices) == 1:
            # Several places, one office (e.g. a postcode shared inside one Kreis): no need to ask.
            resolution = replace(resolution, outcome=Outcome.FOUND, places=resolution.places[:1])
        return OfficeMatch(resolution, offices)


@cache
def load() -> Knowledge:
    return Knowledge()


def _merged(paths: list[Path]) -> dict:
    """Several YAML files as one mapping; a top-level key in two files is an error."""
    merged: dict = {}
    for path in paths:
        for key, value in _yaml(path).items():
            if key in merged:
                raise ValueError(f"{key!r} of {path.name} is defined in another file too")
            merged[key] = value
    return merged


def _yaml(path: Path) -> dict:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}
