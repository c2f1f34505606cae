"""FAQ answers rendered from facts: one template per topic, one text per Merkzeichen."""

from __future__ import annotations

import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from knowledge.facts import Fact
from knowledge.sources import Source

MAX_CITED_SOURCES = 2
MERKZEICHEN_CODES = ("G", "aG", "H", "Bl", "TBl", "Gl", "B", "RF", "1.Kl")
_MERKZEICHEN_BY_KEY = {code.lower().replace(".", ""): code for code in MERKZEICHEN_CODES}
# Words people use instead of the code; checked after the codes themselves.
_MERKZEICHEN_WORDS = (
    (r"taubblind", "TBl"),
    (r"au(ss|ß)ergew(oe|ö)hnlich\w* geh", "aG"),
    (r"rollstuhl", "aG"),
    (r"hilflos", "H"),
    (r"\bblind", "Bl"),
    (r"geh(oe|ö)rlos", "Gl"),
    (r"begleit", "B"),
    (r"rundfunk|gez\b", "RF"),
    (r"erste[rn]? klasse|1\.? ?klasse", "1.Kl"),
    (r"gehbehind", "G"),
)


@dataclass(frozen=True)
class Answer:
    text: str
    sources: tuple[Source, ...]
    buttons: tuple[str, ...] = ()
    office_dependent: bool = False
    needs_case_file: bool = False

    def source_line(self) -> str:
        cited = sorted(self.sources, key=lambda s: -(s.year or 0))[:MAX_CITED_SOURCES]
        return "Quelle: " + "; ".join(source.citation() for source in cited)


@dataclass(frozen=True)
class Button:
    title: str
    intent: str

    @property
    def payload(self) -> str:
        return f"/{self.intent}"


@dataclass(frozen=True)
class Topic:
    key: str
    title: str
    intent: str
    template: str
    sources: tuple[Source, ...]
    buttons: tuple[str, ...]
    office_dependent: bool
    needs_case_file: bool


def fill(template: str, facts: Mapping[str, Fact]) -> tuple[str, tuple[Source, ...]]:
    """Replace {fact} placeholders; returns the text and the sources of the facts used."""
    names = [name for _, name, _, _ in string.Formatter().parse(template) if name]
    text = template.format(**{name: facts[name].text() for name in names})
    return text, tuple(facts[name].source for name in names)


def parse_topics(raw: Mapping[str, Mapping], sources: Mapping[str, Source]) -> dict[str, Topic]:
    return {
        key: Topic(
            key=key,
            title=item["title"],
            intent=item["intent"],
            template=item["text"],
            sources=tuple(sources[name] for name in item["sources"]),
            buttons=tuple(item.get("buttons", ())),
            office_dependent=bool(item.get("office_dependent")),
            needs_case_file=bool(item.get("needs_case_file")),
        )
        for key, item in raw.items()
    }


def render(topic: Topic, facts: Mapping[str, Fact]) -> Answer:
    text, fact_sources = fill(topic.template, facts)
    return Answer(
        text=text,
        sources=tuple(dict.fromkeys(topic.sources + fact_sources)),
        buttons=topic.buttons,
        office_dependent=topic.office_dependent,
        needs_case_file=topic.needs_case_file,
    )


def parse_buttons(raw: Mapping[str, Mapping]) -> dict[str, Button]:
    """Every button target by key: FAQ topics and the extra links."""
    buttons = {key: Button(item["title"], item["intent"]) for key, item in raw["topics"].items()}
    buttons.update({key: Button(item["title"], item["intent"]) for key, item in raw["links"].items()})
    return buttons


def normalize_merkzeichen(value: str) -> str | None:
    """'ag', 'AG', 'aG' -> 'aG'; '1. Kl.' -> '1.Kl'; unknown -> None."""
    key = re.sub(r"[\s.\"'„“]", "", value).lower()
    return _MERKZEICHEN_BY_KEY.get(key)


def find_merkzeichen(text: str) -> str | None:
    """The Merkzeichen a message asks about, by code ('Merkzeichen aG') or by word ('blind')."""
    text = re.sub(r"\b(z|u|d|o)\s*\.\s*(b|a|h|ä)\s*\.", " ", text, flags=re.I)  # z. B., u. a.
    codes = re.findall(r"(?<![\w.])(1\s*\.?\s*kl\.?|tbl|ag|bl|gl|rf|g|h|b)(?![\w])", text, re.I)
    for raw in codes:
        code = normalize_merkzeichen(raw)
        if code and (len(raw) > 1 or _single_letter_is_code(raw, text)):
            return code
    lowered = text.lower()
    for pattern, code in _MERKZEICHEN_WORDS:
        if re.search(pattern, lowered):
            return code
    return None


def _single_letter_is_code(letter: str, text: str) -> bool:
    """A lone 'G', 'H' or 'B' counts as a capital, or lower case right after a cue word."""
    cue = r"(merkzeichen|zeichen|buchstabe|bedeutet|hei(ss|ß)t|mit|das|ein|kein|nur)"
    return letter.isupper() or bool(re.search(rf"\b{cue}\s*[\"'„]?{letter}\b", text, re.I))


def parse_merkzeichen(raw: Mapping[str, Mapping], sources: Mapping[str, Source]) -> dict[str, Topic]:
    return {
        code: Topic(
            key=f"merkzeichen_{code}",
            title=f"Merkzeichen {code}",
            intent="ask_merkzeichen",
            template=item["text"],
            sources=tuple(sources[name] for name in item["sources"]),
            buttons=("wertmarke",) if code in ("G", "Gl", "H", "Bl", "TBl") else (),
            office_dependent=False,
            needs_case_file=False,
        )
        for code, item in raw.items()
    }


def tax_allowance_text(gdb: int, facts: Mapping[str, Fact]) -> tuple[str, Source] | None:
    fact = facts.get(f"tax_allowance_gdb_{gdb}")
    if fact is None:
        return None
    return f"Bei einem GdB von {gdb} beträgt der Pauschbetrag {fact.text()} im Jahr.", fact.source


def find_gdb(text: str, allowed: Sequence[int]) -> int | None:
    for match in re.findall(r"(?<!\d)(\d{2,3})(?!\d)", text):
        if int(match) in allowed:
            return int(match)
    return None
