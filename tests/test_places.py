"""The town resolver: every municipality and postcode, spellings, districts, ambiguity, outside NRW."""

from __future__ import annotations

import csv

import pytest

from knowledge import DATA_DIR, Knowledge, Outcome
from knowledge.places import normalize


def rows(name: str) -> list[dict[str, str]]:
    with open(DATA_DIR / name, encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# Municipality names that are also a district of another town: the person is asked which one.
SHARED_WITH_A_DISTRICT = {"Langenberg"}


def test_all_396_municipalities_resolve_to_their_office(kb: Knowledge) -> None:
    municipalities = rows("municipalities.csv")
    assert len(municipalities) == 396
    for row in municipalities:
        match = kb.find_office(row["name"])
        if row["name"] in SHARED_WITH_A_DISTRICT:
            assert match.outcome is Outcome.AMBIGUOUS, row["name"]
            assert row["name"] in [place.label() for place in match.resolution.places]
            continue
        assert match.outcome is Outcome.FOUND, row["name"]
        assert match.office is kb.office_for_kreis(row["kreis_key"]), row["name"]


def test_a_district_named_with_its_town_is_that_district(kb: Knowledge) -> None:
    assert kb.find_office("Langenberg").outcome is Outcome.AMBIGUOUS
    match = kb.find_office("Ich wohne in Velbert-Langenberg")
    assert match.outcome is Outcome.FOUND
    assert match.place.label() == "Langenberg (Velbert)"


def test_every_postcode_resolves_or_asks(kb: Knowledge) -> None:
    by_code: dict[str, set[str]] = {}
    for row in rows("postcodes.csv"):
        by_code.setdefault(row["plz"], set()).add(row["ags"][:5])
    for code, kreise in by_code.items():
        match = kb.find_office(code)
        offices = {kb.office_for_kreis(key).id for key in kreise}
        if len(offices) == 1:
            assert match.outcome is Outcome.FOUND and match.office.id in offices, code
        else:
            assert match.outcome is Outcome.AMBIGUOUS, code


@pytest.mark.parametrize(
    ("query", "office_id"),
    [
        ("Köln", "koeln"),
        ("koeln", "koeln"),
        ("KÖLN", "koeln"),
        ("Meine Mutter wohnt in Bocholt", "kreis-borken"),
        ("ich wohn in bocholdt", "kreis-borken"),
        ("muenster", "muenster"),
        ("Mönchengladbch", "moenchengladbach"),
        ("St. Augustin", "rhein-sieg-kreis"),
        ("Mülheim a.d. Ruhr", "essen"),
        ("Halle (Westf.)", "kreis-guetersloh"),
        ("Haltern", "kreis-recklinghausen"),
        ("Wünnenberg", "kreis-paderborn"),
        ("Kalker", "kreis-kleve"),
        ("Erftkreis", "rhein-erft-kreis"),
        ("Kreis Neuss", "rhein-kreis-neuss"),
        ("kreis aachen", "staedteregion-aachen"),
        ("Aachen", "staedteregion-aachen"),
        ("Bad Godesberg", "bonn"),
        ("Wattenscheid", "dortmund"),
        ("Rheydt", "moenchengladbach"),
        ("Porz", "koeln"),
        ("in Essen", "essen"),
        ("Essen", "essen"),
        ("44137", "dortmund"),
        ("ich wohnte in Bochum, jetzt in Wuppertal", "wuppertal"),
        ("Ich wohne in Wenden im Sauerland", "kreis-olpe"),
        ("Dortmund-Wickede", "dortmund"),
        ("Kölle", "koeln"),
        ("Wupertal", "wuppertal"),
        ("St Augustin", "rhein-sieg-kreis"),
        ("Ich wohne in Witten, muss ich nach Bochum?", "ennepe-ruhr-kreis"),
        ("wir wohnen in Kamen, ist Dortmund für uns zuständig?", "kreis-unna"),
        ("Ich wohne in Wenden im Sauerland, nicht in Siegen", "kreis-olpe"),
    ],
)
def test_queries_resolve(kb: Knowledge, query: str, office_id: str) -> None:
    match = kb.find_office(query)
    assert match.outcome is Outcome.FOUND, query
    assert match.office.id == office_id


@pytest.mark.parametrize("query", ["Mülheim", "Oberkassel"])
def test_ambiguous_names_ask_back(kb: Knowledge, query: str) -> None:
    match = kb.find_office(query)
    assert match.outcome is Outcome.AMBIGUOUS
    assert len(match.offices) >= 2


@pytest.mark.parametrize("query", ["Hannover", "Osnabrück", "Hamm (Sieg)", "35390", "ich wohne in Koblenz"])
def test_places_outside_nrw_are_named_as_such(kb: Knowledge, query: str) -> None:
    assert kb.find_office(query).outcome is Outcome.OUTSIDE_NRW


@pytest.mark.parametrize(
    "query",
    [
        "was kann man essen",
        "wie ist das wetter",
        "wir wollen halten",
        "qwertz",
        "",
        "   ",
        "und jetzt werden auch noch die Augen schlechter",  # Werden (Essen) only with context
        "muss ich da gebüren zahlen?",  # a typo of a word, not of Büren
    ],
)
def test_ordinary_words_are_not_towns(kb: Knowledge, query: str) -> None:
    assert kb.find_office(query).outcome is Outcome.UNKNOWN


def test_normalize_spellings() -> None:
    assert normalize("Mönchen-Gladbach") == "moenchen gladbach"
    assert normalize("Schloß Holte-Stukenbrock") == "schloss holte stukenbrock"
    assert normalize("St. Augustin") == "sankt augustin"
    assert normalize("Mülheim a.d. Ruhr") == "muelheim an der ruhr"


def test_resolver_dev_set(kb: Knowledge) -> None:
    """Held-out variants (tests/data/resolver_dev_set.yml): typos, districts, sentences, outside NRW."""
    import yaml

    from tests.conftest import ROOT

    cases = yaml.safe_load((ROOT / "tests" / "data" / "resolver_dev_set.yml").read_text())["cases"]
    assert len(cases) >= 330
    failures = []
    for case in cases:
        match = kb.find_office(case["query"])
        expected = Outcome(case["outcome"])
        if match.outcome is not expected or (expected is Outcome.FOUND and match.office.id != case["office"]):
            failures.append((case["kind"], case["query"], match.outcome.value))
    strict = [f for f in failures if f[0] in {"outside_nrw", "nonsense", "ambiguous", "exact", "postcode"}]
    assert not strict, strict
    assert len(failures) / len(cases) <= 0.02, failures
