"""Build the place index from the tables in knowledge/data (see knowledge/data/README.md)."""

from __future__ import annotations

import csv
from pathlib import Path

import yaml

from knowledge.places import Elsewhere, Place, PlaceIndex, PlaceKind, name_variants, normalize

# Chosen on the resolver dev set (docs/benchmarks.md): lower lets ordinary words become towns.
FUZZY_THRESHOLD = 85.0
# Towns outside NRW this big are also found with a typo ("Osnabrük").
FUZZY_ELSEWHERE_POPULATION = 50_000
# A name elsewhere that is one of these everyday words needs context ("Meine", "Hof", "Linden");
# rarer ones are taken as they are ("Prüm", "Holzminden"), names of NRW places always.
FREQUENT_WORDS = 20_000


def _yaml(path: Path) -> dict:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def kreis_label(name: str) -> str:
    """'Kleve' -> 'Kreis Kleve'; names that already say what they are stay as they are."""
    if name == "Städteregion Aachen":
        return "StädteRegion Aachen"
    return name if "reis" in name else f"Kreis {name}"


def build_place_index(data_dir: Path) -> PlaceIndex:
    municipalities = _csv(data_dir / "municipalities.csv")
    by_name = {row["name"]: row for row in municipalities}
    places: list[tuple[str, Place]] = []
    by_ags: dict[str, Place] = {}
    for row in municipalities:
        kreisfrei = row["ags"] == row["kreis_key"] + "000"
        place = Place(
            row["name"], PlaceKind.MUNICIPALITY, row["kreis_key"], kreisfrei=kreisfrei, ags=row["ags"]
        )
        by_ags[row["ags"]] = place
        places += [(variant, place) for variant in name_variants(row["name"])]
    for row in _csv(data_dir / "kreise.csv"):
        if ", " in row["name"]:  # kreisfreie Stadt: the municipality already covers it
            continue
        label = kreis_label(row["name"])
        place = Place(label, PlaceKind.KREIS, row["kreis_key"])
        places += [(label, place), (f"Kreis {row['name']}", place), (f"Landkreis {row['name']}", place)]
    extra = _yaml(data_dir / "places_extra.yml")
    kreis_places = {p.kreis_key: p for _, p in places if p.kind is PlaceKind.KREIS}
    for alias, official in extra["aliases"]["municipality"].items():
        for name in [official] if isinstance(official, str) else official:
            places.append((alias, by_ags[by_name[name]["ags"]]))
    for alias, kreis_key in extra["aliases"]["kreis"].items():
        places.append((alias, kreis_places[kreis_key]))
    ranked = [
        normalize(word)
        for word in (data_dir / "common_words.txt").read_text(encoding="utf-8").split("\n")
        if word and not word.startswith("#")
    ]
    common = set(ranked)
    word_like = set(extra["word_like"])
    for item in _yaml(data_dir / "districts.yml")["districts"]:
        municipality = by_ags[item["ags"]]
        district = Place(
            item["name"], PlaceKind.DISTRICT, municipality.kreis_key, municipality.name, ags=item["ags"]
        )
        places.append((item["name"], district))
        if normalize(item["name"]) in common:  # "Wald", "Brand", "Holt": need context
            word_like.add(item["name"])
    postcodes: dict[str, tuple[Place, ...]] = {}
    for row in _csv(data_dir / "postcodes.csv"):
        if row["ags"] in by_ags:
            postcodes[row["plz"]] = postcodes.get(row["plz"], ()) + (by_ags[row["ags"]],)
    elsewhere, big_towns, populations = _elsewhere(data_dir, extra)
    elsewhere_postcodes: dict[str, str] = {}
    for row in _csv(data_dir / "elsewhere_postcodes.csv"):
        known = elsewhere_postcodes.get(row["plz"])
        elsewhere_postcodes[row["plz"]] = f"{known}, {row['state']}" if known else row["state"]
    return PlaceIndex(
        places=places,
        postcodes=postcodes,
        elsewhere=elsewhere,
        elsewhere_postcodes=elsewhere_postcodes,
        fuzzy_elsewhere=big_towns,
        populations=populations,
        word_like=word_like,
        context_words=extra["context_words"],
        common_words=common,
        filler_words=extra["filler_words"],
        frequent_words=ranked[:FREQUENT_WORDS],
        fuzzy_threshold=FUZZY_THRESHOLD,
    )


def _elsewhere(data_dir: Path, extra: dict) -> tuple[list[tuple[str, Elsewhere]], list[str], dict[str, int]]:
    """Municipalities of the other states (with their spellings), state names, and abroad; the
    big towns (typos allowed) and every name's population (states and abroad count as big)."""
    elsewhere: list[tuple[str, Elsewhere]] = []
    big_towns: list[str] = []
    populations: dict[str, int] = {}
    for row in _csv(data_dir / "elsewhere_municipalities.csv"):
        other, population = Elsewhere(row["name"], row["state"]), int(row["population"] or 0)
        for variant in name_variants(row["name"]):
            elsewhere.append((variant, other))
            populations[variant] = max(population, populations.get(variant, 0))
        if population >= FUZZY_ELSEWHERE_POPULATION:
            big_towns.append(row["name"])
    named = [(name, Elsewhere(name, state)) for name, state in extra["states"].items()]
    named += [
        (name, Elsewhere(name, country, abroad=True))
        for country, names in extra["abroad"].items()
        for name in names
    ]
    elsewhere += named
    populations.update({name: FUZZY_ELSEWHERE_POPULATION for name, _ in named})
    return elsewhere, big_towns, populations
