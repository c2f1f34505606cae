"""The assistant's knowledge: sourced facts, FAQ answers, offices and NRW places.

Everything is plain, typed Python over the data files in knowledge/data; the Rasa actions
only translate between the tracker and this API.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from knowledge.answers import (
    Answer,
    Button,
    Topic,
    find_gdb,
    find_merkzeichen,
    normalize_merkzeichen,
    parse_buttons,
    parse_merkzeichen,
    parse_topics,
    render,
    tax_allowance_text,
)
from knowledge.facts import Fact, parse_facts
from knowledge.offices import Office, parse_offices
from knowledge.places import (
    Outcome,
    Place,
    PlaceIndex,
    PlaceKind,
    Resolution,
    name_variants,
    normalize,
)
from knowledge.sources import Source, parse_sources

DATA_DIR = Path(__file__).parent / "data"
# Chosen on the resolver dev set (docs/benchmarks.md): lower lets ordinary words become towns.
FUZZY_THRESHOLD = 85.0

__all__ = [
    "Answer",
    "Button",
    "Knowledge",
    "Office",
    "OfficeMatch",
    "Outcome",
    "Place",
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
        self.facts: dict[str, Fact] = parse_facts(_yaml(data_dir / "facts.yml")["facts"], self.sources)
        answers = _yaml(data_dir / "answers.yml")
        self.topics: dict[str, Topic] = parse_topics(answers["topics"], self.sources)
        self.merkzeichen: dict[str, Topic] = parse_merkzeichen(answers["merkzeichen"], self.sources)
        self.buttons: dict[str, Button] = parse_buttons(answers)
        self.offices: dict[str, Office] = parse_offices(
            _yaml(data_dir / "offices.yml")["offices"], self.sources
        )
        self._office_by_kreis = {key: office for office in self.offices.values() for key in office.serves}
        self.places = _build_place_index(data_dir)

    # FAQ ---------------------------------------------------------------------------------

    def topic_for_intent(self, intent: str) -> Topic | None:
        return next((topic for topic in self.topics.values() if topic.intent == intent), None)

    def answer(self, topic_key: str) -> Answer:
        return render(self.topics[topic_key], self.facts)

    def merkzeichen_answer(self, code: str) -> Answer:
        return render(self.merkzeichen[code], self.facts)

    def find_merkzeichen(self, text: str) -> str | None:
        return find_merkzeichen(text)

    @staticmethod
    def normalize_merkzeichen(value: str) -> str | None:
        return normalize_merkzeichen(value)

    def gdb_values(self) -> list[int]:
        start, stop, step = (self.facts[k].value for k in ("gdb_min", "gdb_max", "gdb_step"))
        return list(range(int(start), int(stop) + 1, int(step)))

    def find_gdb(self, text: str) -> int | None:
        return find_gdb(text, self.gdb_values())

    def tax_allowance_answer(self, gdb: int) -> Answer | None:
        found = tax_allowance_text(gdb, self.facts)
        if found is None:
            return None
        text, source = found
        general = self.answer("tax_allowance")
        certificate = self.facts["tax_allowance_certificate_gdb"]
        if gdb < int(self.facts["gdb_min_card"].value):
            text += f" Dafür brauchen Sie eine Bescheinigung des Amtes (bei GdB {certificate.text()})."
        else:
            text += " Legen Sie dem Finanzamt Ihren Schwerbehindertenausweis vor."
        text += f" Mit H, Bl oder TBl sind es {self.facts['tax_allowance_helpless_blind'].text()}."
        return Answer(text, (source, certificate.source), general.buttons)

    # Offices -----------------------------------------------------------------------------

    def office_for_kreis(self, kreis_key: str) -> Office:
        return self._office_by_kreis[kreis_key]

    def office_for_place(self, place: Place) -> Office:
        return self.office_for_kreis(place.kreis_key)

    def find_office(self, text: str) -> OfficeMatch:
        resolution = self.places.resolve(text)
        office_ids = dict.fromkeys(self.office_for_place(p).id for p in resolution.places)
        offices = tuple(self.offices[office_id] for office_id in office_ids)
        if resolution.outcome is Outcome.AMBIGUOUS and len(offices) == 1:
            # Several places, one office (e.g. a postcode shared inside one Kreis): no need to ask.
            resolution = Resolution(
                Outcome.FOUND, resolution.places[:1], resolution.matched, resolution.method
            )
        return OfficeMatch(resolution, offices)


@lru_cache(maxsize=1)
def load() -> Knowledge:
    return Knowledge()


def _yaml(path: Path) -> dict:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _kreis_label(name: str) -> str:
    """'Kleve' -> 'Kreis Kleve'; names that already say what they are stay as they are."""
    if name == "Städteregion Aachen":
        return "StädteRegion Aachen"
    return name if "reis" in name else f"Kreis {name}"


def _build_place_index(data_dir: Path) -> PlaceIndex:
    municipalities = _csv(data_dir / "municipalities.csv")
    by_name = {row["name"]: row for row in municipalities}
    places: list[tuple[str, Place]] = []
    by_ags: dict[str, Place] = {}
    for row in municipalities:
        kreisfrei = row["ags"] == row["kreis_key"] + "000"
        place = Place(row["name"], PlaceKind.MUNICIPALITY, row["kreis_key"], kreisfrei=kreisfrei)
        by_ags[row["ags"]] = place
        places += [(variant, place) for variant in name_variants(row["name"])]
    for row in _csv(data_dir / "kreise.csv"):
        if ", " in row["name"]:  # kreisfreie Stadt: the municipality already covers it
            continue
        label = _kreis_label(row["name"])
        place = Place(label, PlaceKind.KREIS, row["kreis_key"])
        places += [(label, place), (f"Kreis {row['name']}", place), (f"Landkreis {row['name']}", place)]
    extra = _yaml(data_dir / "places_extra.yml")
    kreis_places = {p.kreis_key: p for _, p in places if p.kind is PlaceKind.KREIS}
    for alias, official in extra["aliases"]["municipality"].items():
        for name in [official] if isinstance(official, str) else official:
            places.append((alias, by_ags[by_name[name]["ags"]]))
    for alias, kreis_key in extra["aliases"]["kreis"].items():
        places.append((alias, kreis_places[kreis_key]))
    common = {
        normalize(word)
        for word in (data_dir / "common_words.txt").read_text(encoding="utf-8").split("\n")
        if word and not word.startswith("#")
    }
    word_like = set(extra["word_like"])
    for item in _yaml(data_dir / "districts.yml")["districts"]:
        municipality = by_ags[item["ags"]]
        district = Place(item["name"], PlaceKind.DISTRICT, municipality.kreis_key, municipality.name)
        places.append((item["name"], district))
        if normalize(item["name"]) in common:  # "Wald", "Brand", "Holt": need context
            word_like.add(item["name"])
    postcodes: dict[str, tuple[Place, ...]] = {}
    for row in _csv(data_dir / "postcodes.csv"):
        if row["ags"] in by_ags:
            postcodes[row["plz"]] = postcodes.get(row["plz"], ()) + (by_ags[row["ags"]],)
    return PlaceIndex(
        places=places,
        postcodes=postcodes,
        outside_nrw=extra["outside_nrw"],
        word_like=word_like,
        context_words=extra["context_words"],
        common_words=common,
        fuzzy_threshold=FUZZY_THRESHOLD,
    )
