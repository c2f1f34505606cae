"""The knowledge module on its own: sources, facts, answers, offices, opening hours."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from knowledge import Knowledge
from knowledge.opening_hours import BERLIN, holiday_name
from knowledge.sources import GENERAL


def test_every_fact_has_a_known_source_and_date(kb: Knowledge) -> None:
    for fact in kb.facts.values():
        assert fact.source.key in kb.sources
        assert fact.source.is_general or fact.source.date, fact.name
        for old in fact.superseded:
            assert old.source.date, fact.name


def test_newer_sources_win_over_older_ones(kb: Knowledge) -> None:
    superseded = [fact for fact in kb.facts.values() if fact.superseded]
    assert superseded, "the 2008 brochure's outdated values are kept on record"
    for fact in superseded:
        for old in fact.superseded:
            assert (fact.source.year or 0) > (old.source.year or 0), fact.name
            assert old.value != fact.value


def test_wertmarke_costs_104_euro_not_the_2008_price(kb: Knowledge) -> None:
    text = kb.answer("wertmarke").text
    assert "104 Euro" in text
    assert "60 Euro" not in text
    assert kb.facts["wertmarke_price_year"].source.key == "003_19fde30a12699e25.txt"


@pytest.mark.parametrize(
    ("gdb", "amount"),
    [(20, "384"), (30, "620"), (40, "860"), (50, "1.140"), (60, "1.440"), (70, "1.780"),
     (80, "2.120"), (90, "2.460"), (100, "2.840")],
)  # fmt: skip
def test_tax_allowance_follows_current_law(kb: Knowledge, gdb: int, amount: str) -> None:
    answer = kb.tax_allowance_answer(gdb)
    assert answer is not None
    assert f"{amount} Euro" in answer.text
    assert "7.400 Euro" in answer.text


def test_tax_allowance_for_gdb_below_50_needs_a_certificate(kb: Knowledge) -> None:
    assert "Bescheinigung" in kb.tax_allowance_answer(30).text
    assert "Schwerbehindertenausweis vor" in kb.tax_allowance_answer(70).text
    assert kb.tax_allowance_answer(55) is None


def test_every_topic_renders_short_plain_answers(kb: Knowledge) -> None:
    for key in kb.topics:
        answer = kb.answer(key)
        assert "{" not in answer.text and "}" not in answer.text, key
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", answer.text) if s]
        assert len(sentences) <= 5, (key, len(sentences))
        assert answer.source_line().startswith("Quelle: ")
        for button in answer.buttons:
            assert button in kb.buttons, (key, button)


def test_every_merkzeichen_has_an_answer(kb: Knowledge) -> None:
    assert set(kb.merkzeichen) == {"G", "aG", "H", "Bl", "TBl", "Gl", "B", "RF", "1.Kl"}
    for code in kb.merkzeichen:
        assert kb.merkzeichen_answer(code).text


def test_answer_texts_hold_no_euro_amounts_of_their_own() -> None:
    """Amounts live in facts.yml only; answers.yml refers to them by name."""
    from knowledge import DATA_DIR

    answers = (DATA_DIR / "answers.yml").read_text(encoding="utf-8")
    assert not re.search(r"\d[\d.]*\s*(Euro|€)", answers)


def test_general_procedures_are_marked_as_such(kb: Knowledge) -> None:
    answer = kb.answer("lost_card")
    assert [s.key for s in answer.sources] == [GENERAL]
    assert "allgemein gültiges Verfahren" in answer.source_line()


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Was bedeutet aG?", "aG"),
        ("was heisst merkzeichen g", "G"),
        ("Was bedeutet das H im Ausweis", "H"),
        ("mein vater ist blind", "Bl"),
        ("Merkzeichen TBl", "TBl"),
        ("was ist 1. Kl.", "1.Kl"),
        ("brauche ich für RF einen antrag", "RF"),
        ("was bedeuten die buchstaben, z. B. auf der rückseite", None),
    ],
)
def test_merkzeichen_are_found_in_text(kb: Knowledge, text: str, code: str | None) -> None:
    assert kb.find_merkzeichen(text) == code


def test_all_53_kreise_have_exactly_one_office(kb: Knowledge) -> None:
    served = [key for office in kb.offices.values() for key in office.serves]
    assert len(served) == len(set(served)) == 53


def test_offices_have_contact_and_source(kb: Knowledge) -> None:
    for office in kb.offices.values():
        assert office.phones and office.street and re.fullmatch(r"\d{5}", office.postcode)
        assert office.source.date


def test_newer_seeds_win_for_koeln_and_dortmund(kb: Knowledge) -> None:
    koeln = kb.find_office("Köln").office
    assert koeln.address == "Ottmar-Pohl-Platz 1, 51103 Köln"
    assert koeln.phones == ("0221 221-30702", "0221 221-30703")
    dortmund = kb.find_office("Hagen").office
    assert dortmund.street == "Untere Brinkstraße 80"
    assert kb.find_office("Bochum").office is dortmund


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("moment", "is_open", "next_opening"),
    [
        (berlin(2026, 11, 23, 9, 0), True, None),  # Monday morning
        (berlin(2026, 11, 23, 12, 30), False, berlin(2026, 11, 24, 8, 0)),  # Monday, just closed
        (berlin(2026, 11, 24, 17, 59), True, None),  # Tuesday late opening
        (berlin(2026, 11, 25, 10, 0), False, berlin(2026, 11, 26, 8, 0)),  # Wednesday closed
        (berlin(2026, 11, 28, 10, 0), False, berlin(2026, 11, 30, 8, 0)),  # Saturday
        (berlin(2026, 12, 25, 10, 0), False, berlin(2026, 12, 28, 8, 0)),  # Christmas (Friday)
        (berlin(2026, 6, 4, 10, 0), False, berlin(2026, 6, 5, 8, 0)),  # Fronleichnam, NRW only
    ],
)
def test_koeln_open_now(kb: Knowledge, moment: datetime, is_open: bool, next_opening: datetime) -> None:
    hours = kb.offices["koeln"].opening_hours
    status = hours.status(moment)
    assert status.is_open is is_open
    assert status.next_opening == next_opening


def test_public_holiday_is_named(kb: Knowledge) -> None:
    assert holiday_name(berlin(2026, 6, 4).date()) == "Fronleichnam"
    text = kb.offices["koeln"].hours_text(berlin(2026, 12, 25, 10, 0))
    assert "Feiertag (Erster Weihnachtstag)" in text
    assert "Montag, 28.12., um 8:00 Uhr" in text


def test_dst_change_is_handled(kb: Knowledge) -> None:
    """Sunday 25 October 2026 ends summer time; Monday 8:00 is still 8:00 local time."""
    hours = kb.offices["dortmund"].opening_hours
    nxt = hours.next_opening(berlin(2026, 10, 24, 12, 0))
    assert (nxt.hour, nxt.minute, nxt.day) == (8, 0, 26)


def test_office_without_hours_says_so(kb: Knowledge) -> None:
    bonn = kb.find_office("Bonn").office
    assert bonn.opening_hours is None
    assert "liegen mir nicht vor" in bonn.hours_text(berlin(2026, 11, 23, 9, 0))


def test_office_answers_say_how_old_the_data_is(kb: Knowledge) -> None:
    assert kb.offices["koeln"].data_age_text() == (
        "Stand der Angaben: Januar 2021; Telefon: 2020 oder später; E-Mail: 2008."
    )
    assert kb.offices["essen"].data_age_text() == "Stand der Angaben: 2008."
