"""Answer cards: one question the sources answer, rendered from facts with all its sources."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from knowledge.facts import Fact
from knowledge.sources import Source

OVERVIEW = "overview"
YES_NO = ("ja", "nein")
GAP = "gap"
ASPECTS = frozenset(
    {
        "cost", "free", "who", "how", "where", "when", "duration", "documents", "phone", "online",
        "post", "children", "relatives", "employer", "abroad", "validity", "amount", "conditions",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Card:
    key: str  # "<topic>/<name>"
    title: str
    question: str
    template: str
    sources: tuple[Source, ...]
    aspects: frozenset[str]
    see_also: tuple[str, ...]
    office: bool
    gap: bool = False  # a question on the topic the sources do not answer: the honest gap reply
    # Follow-ups on this card belong to that topic first: after Merkzeichen RF, "wo beantrage ich
    # das?" means the reduced broadcast fee (at the Beitragsservice), not the Merkzeichen.
    follow_up_topic: str | None = None
    # "ja" or "nein": how the answer answers its own closed question ("Gilt der Zusatzurlaub auch
    # für Gleichgestellte?" -> "nein"), said first when a person asks that question so.
    yes_no: str | None = None

    @property
    def topic(self) -> str:
        return self.key.split("/", 1)[0]

    @property
    def is_overview(self) -> bool:
        return self.key.endswith("/" + OVERVIEW)

    def fact_names(self) -> list[str]:
        return placeholders(self.template)


@dataclass(frozen=True)
class RenderedCard:
    card: Card
    text: str
    sources: tuple[Source, ...]

    def source_line(self) -> str:
        return source_line(self.sources)


# {fact} is a fact's current value; {fact@2008} its superseded value from a source of that year
# ("der Ratgeber von 2008 nannte noch {pension_age@2008}").
PLACEHOLDER = re.compile(r"\{(\w+)(?:@(\d{4}))?\}")


def placeholders(template: str) -> list[str]:
    return [match.group(1) for match in PLACEHOLDER.finditer(template)]


def fill(template: str, facts: Mapping[str, Fact]) -> tuple[str, tuple[Source, ...]]:
    """Replace {fact} placeholders; returns the text and the sources of the facts used."""
    used: list[Source] = []

    def value(match: re.Match[str]) -> str:
        fact, year = facts[match.group(1)], match.group(2)
        if year is None:
            used.append(fact.source)
            return fact.text()
        old = next(old for old in fact.superseded if old.source.year == int(year))
        used.append(old.source)
        return old.text()

    return PLACEHOLDER.sub(value, template), tuple(used)


def source_line(sources: Iterable[Source]) -> str:
    """Every source an answer rests on, newest first, each with its date."""
    ordered = sorted(dict.fromkeys(sources), key=lambda source: -(source.year or 0))
    return "Quelle: " + "; ".join(source.citation() for source in ordered)


def render(card: Card, facts: Mapping[str, Fact]) -> RenderedCard:
    text, fact_sources = fill(card.template, facts)
    return RenderedCard(card, " ".join(text.split()), tuple(dict.fromkeys(card.sources + fact_sources)))


def parse_cards(raw: Mapping[str, Mapping], sources: Mapping[str, Source]) -> dict[str, Card]:
    cards = {}
    for key, item in raw.items():
        unknown = set(item.get("aspects", ())) - ASPECTS
        if unknown:
            raise ValueError(f"Card {key}: unknown aspects {sorted(unknown)}")
        cards[key] = Card(
            key=key,
            title=item["title"],
            question=item["question"],
            template=item.get("answer", ""),
            sources=tuple(sources[name] for name in item.get("sources", ())),
            aspects=frozenset(item.get("aspects", ())),
            see_also=tuple(item.get("see_also", ())),
            office=bool(item.get("office")),
            gap=bool(item.get("gap")),
            follow_up_topic=item.get("follow_up_topic"),
            yes_no=item.get("yes_no"),
        )
        if cards[key].yes_no not in (None, *YES_NO):
            raise ValueError(f"Card {key}: yes_no must be one of {YES_NO}")
        if not cards[key].gap and not cards[key].template:
            raise ValueError(f"Card {key} has no answer")
    return cards
