"""Derive the town and postcode tables in knowledge/data from ../shared/data.

Run once when the public reference data changes; the output is committed because
real installations do not have ../shared.  Usage: python scripts/build_places.py [SHARED_DATA_DIR]
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "knowledge" / "data"
COMMON_WORDS = 50000


def main(shared: Path) -> None:
    with open(shared / "nrw_gemeindeverzeichnis.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    kreise = [
        {"kreis_key": r["land"] + r["rb"] + r["kreis"], "name": r["gemeindename"]}
        for r in rows
        if r["satzart"] == "40"
    ]
    municipalities = [
        {
            "ags": r["land"] + r["rb"] + r["kreis"] + r["gemeinde"],
            "name": r["gemeindename"].split(",")[0].strip(),
            "kind": r["gemeindename"].split(",")[1].strip() if "," in r["gemeindename"] else "",
            "kreis_key": r["land"] + r["rb"] + r["kreis"],
            "population": r["bevoelkerung"],
        }
        for r in rows
        if r["satzart"] == "60"
    ]
    with open(shared / "nrw_plz_ort.csv", encoding="utf-8") as handle:
        postcodes = sorted(
            {(r["plz"], r["ags"], r["ort"]) for r in csv.DictReader(handle)},
        )
    write(OUT / "kreise.csv", ["kreis_key", "name"], kreise)
    write_elsewhere(shared)
    write(OUT / "municipalities.csv", list(municipalities[0]), municipalities)
    write(
        OUT / "postcodes.csv",
        ["plz", "ags", "ort"],
        [{"plz": p, "ags": a, "ort": o} for p, a, o in postcodes],
    )
    common = common_german_words(COMMON_WORDS)
    (OUT / "common_words.txt").write_text(
        "# The most frequent German word forms (spacy-lookups-data, MIT licence), lower case, most\n"
        '# frequent first. The town resolver never fuzzy-matches these ("halten" is not Haltern).\n'
        + "\n".join(common)
        + "\n",
        encoding="utf-8",
    )
    print(f"{len(common)} common words")
    print(f"{len(kreise)} Kreise, {len(municipalities)} municipalities, {len(postcodes)} postcode rows")


STATES = {
    "01": "Schleswig-Holstein", "02": "Hamburg", "03": "Niedersachsen", "04": "Bremen",
    "06": "Hessen", "07": "Rheinland-Pfalz", "08": "Baden-Württemberg", "09": "Bayern",
    "10": "Saarland", "11": "Berlin", "12": "Brandenburg", "13": "Mecklenburg-Vorpommern",
    "14": "Sachsen", "15": "Sachsen-Anhalt", "16": "Thüringen",
}  # fmt: skip


def write_elsewhere(shared: Path) -> None:
    """Municipalities and postcodes of Germany outside NRW, with their state."""
    with open(shared / "de_gemeindeverzeichnis.csv", encoding="utf-8-sig") as handle:
        rows = [r for r in csv.DictReader(handle) if r["satzart"] == "60" and r["land"] in STATES]
    towns = sorted(
        {
            (
                r["gemeindename"].split(",")[0].strip(),
                STATES[r["land"]],
                int(r["bevoelkerung"].replace(" ", "") or 0),
            )
            for r in rows
        }
    )
    write(
        OUT / "elsewhere_municipalities.csv",
        ["name", "state", "population"],
        [{"name": n, "state": s, "population": p} for n, s, p in towns],
    )
    with open(shared / "de_plz_ort.csv", encoding="utf-8") as handle:
        codes = sorted(
            {
                (r["plz"], r["bundesland"])
                for r in csv.DictReader(handle)
                if r["bundesland"] != "Nordrhein-Westfalen"
            }
        )
    write(OUT / "elsewhere_postcodes.csv", ["plz", "state"], [{"plz": p, "state": s} for p, s in codes])
    print(f"{len(towns)} municipalities and {len(codes)} postcode rows outside NRW")


def common_german_words(count: int) -> list[str]:
    import spacy_lookups_data
    import srsly

    path = Path(spacy_lookups_data.__file__).parent / "data" / "de_lexeme_prob.json.gz"
    by_probability = sorted(srsly.read_gzip_json(path).items(), key=lambda item: -item[1])
    words: dict[str, None] = {}
    for word, _ in by_probability:
        if word.isalpha() and len(word) >= 4:
            words.setdefault(word.lower(), None)
        if len(words) >= count:
            break
    return list(words)  # most frequent first


def write(path: Path, fields: list[str], rows: list[dict]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data")
