"""The one list of topics (knowledge/data/topics.yml) and everything that must agree with it:
the generated domain intents, answer rule and card responses, the cards, their training data,
the report. Adding a topic = one catalogue entry, its cards and their training data."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from bot import catalogue as generated
from knowledge import Knowledge
from knowledge.cards import placeholders
from tests.conftest import ROOT

MIN_EXAMPLES_SPECIFIC = 10
MIN_EXAMPLES_OVERVIEW = 20
# Digits a card may contain without a fact: years of sources and laws, paragraphs, names of
# tram and train lines, the Merkzeichen 1.Kl.
ALLOWED_DIGITS = re.compile(
    r"\b(19|20)\d\d\b|§\s*\d+\w*( Abs\. \d+)?( Nr\. \d+)?|\b\d+\.\s*(Januar|Juli|September|Dezember)"
    r"|Linien? \d+( und \d+| oder \d+)?|\b(S|RB|RE|U)\s?\d+\b|\b1\.\s?Kl\b"
)


def nlu_examples() -> dict[str, list[tuple[str, str]]]:
    """Training examples per intent (retrieval intents keep their card part), with their file."""
    examples: dict[str, list[tuple[str, str]]] = {}
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu") or []:
            if "intent" not in item:
                continue
            lines = [line[2:].strip() for line in item["examples"].splitlines() if line.startswith("- ")]
            examples.setdefault(item["intent"], []).extend((path.stem, line) for line in lines)
    return examples


def test_generated_files_are_current(kb: Knowledge) -> None:
    assert generated.outdated(kb) == [], "run: python -m bot.catalogue"


def test_the_domain_declares_intents_only_in_the_generated_file(kb: Knowledge) -> None:
    declared: list[str] = []
    for path in (ROOT / "bot" / "domain").glob("*.yml"):
        declared += yaml.safe_load(path.read_text(encoding="utf-8")).get("intents") or []
    assert sorted(declared) == sorted(i for i in kb.catalogue.intents() if i not in generated.BUILT_IN)


def test_every_topic_has_an_overview_card_and_every_card_a_topic(kb: Knowledge) -> None:
    for topic in kb.catalogue.topics.values():
        assert topic.overview in kb.cards, topic.key
    for card in kb.cards.values():
        assert card.topic in kb.catalogue.topics or card.topic == "out_of_scope", card.key


def test_every_card_has_training_data_in_its_groups_file(kb: Knowledge) -> None:
    examples = nlu_examples()
    for card in kb.cards.values():
        intent = generated.retrieval_intent(card.key)
        found = examples.get(intent, [])
        minimum = MIN_EXAMPLES_OVERVIEW if card.is_overview else MIN_EXAMPLES_SPECIFIC
        assert len(found) >= minimum, (card.key, len(found))
        group = "out_of_scope" if card.topic == "out_of_scope" else kb.catalogue.topics[card.topic].group
        assert {file for file, _ in found} == {group}, (card.key, {file for file, _ in found})


def test_every_training_intent_is_known(kb: Knowledge) -> None:
    cards = {generated.retrieval_intent(key) for key in kb.cards}
    for intent in nlu_examples():
        if "/" in intent:
            assert intent in cards, intent
        else:
            assert intent in kb.catalogue.other_intents, intent


def test_no_example_is_written_twice() -> None:
    counts = Counter(text.lower() for pairs in nlu_examples().values() for _, text in pairs)
    assert [text for text, count in counts.items() if count > 1] == []


def test_cards_refer_to_facts_and_cards_that_exist(kb: Knowledge) -> None:
    for card in kb.cards.values():
        for name in placeholders(card.template):
            assert name in kb.facts, (card.key, name)
        for other in card.see_also:
            assert other in kb.cards, (card.key, other)
        kb.render(card.key)  # renders without a KeyError or a format error


@pytest.mark.parametrize(
    "path", sorted((ROOT / "knowledge" / "data" / "cards").glob("*.yml")), ids=lambda p: p.stem
)
def test_card_texts_hold_no_numbers_of_their_own(path: Path) -> None:
    """Every amount, age, duration and threshold is a {fact}: written once, with its source."""
    for key, card in (yaml.safe_load(path.read_text(encoding="utf-8")).get("cards") or {}).items():
        text = ALLOWED_DIGITS.sub("", re.sub(r"\{\w+\}", "", card.get("answer", "")))
        assert not re.search(r"\d", text), (key, text)


def test_the_report_counts_the_catalogues_topics(kb: Knowledge) -> None:
    from reports import deflection

    assert deflection.topic_intents() == {topic.intent for topic in kb.catalogue.topics.values()}
