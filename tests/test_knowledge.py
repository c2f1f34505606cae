"""The knowledge module on its own: sources, facts, answer cards, offices, opening hours."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from knowledge import Knowledge
from knowledge.conversation import Context, Turn
from knowledge.dialogue import Responder
from knowledge.mentions import MERKZEICHEN_CODES, find_merkzeichen
from knowledge.office_answers import data_age_text, hours_text
from knowledge.opening_hours import BERLIN, holiday_name
from knowledge.sources import GENERAL

NOW = datetime(2026, 11, 30, 9, 30, tzinfo=BERLIN)


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
            # A law in force wins even over a later brochure that still states the old rule.
            newer = (fact.source.year or 0) > (old.source.year or 0)
            assert newer or fact.source.key.startswith("law:"), fact.name
            assert old.value != fact.value


def test_wertmarke_costs_104_euro_not_the_2008_price(kb: Knowledge) -> None:
    text = kb.render("wertmarke/price").text
    assert "104 Euro" in text
    assert "60 Euro" not in text
    assert kb.facts["wertmarke_price_year"].source.key == "003_19fde30a12699e25.txt"


@pytest.mark.parametrize(
    ("gdb", "amount"),
    [(20, "384"), (30, "620"), (40, "860"), (50, "1.140"), (60, "1.440"), (70, "1.780"),
     (80, "2.120"), (90, "2.460"), (100, "2.840")],
)  # fmt: skip
def test_tax_allowance_follows_current_law(kb: Knowledge, gdb: int, amount: str) -> None:
    reply = Responder(kb).respond(
        Turn(f"pauschbetrag bei gdb {gdb}", "ask_tax_allowance", cards=(("tax_allowance/amounts", 0.5),)),
        Context(),
        NOW,
    )
    assert f"{amount} Euro" in reply.messages[0].text
    assert "7.400 Euro" in reply.messages[0].text


def test_tax_allowance_for_gdb_below_50_needs_a_certificate(kb: Knowledge) -> None:
    def answer(gdb: int) -> str:
        turn = Turn(f"steuer gdb {gdb}", "ask_tax_allowance", cards=(("tax_allowance/amounts", 0.5),))
        return Responder(kb).respond(turn, Context(), NOW).messages[0].text

    assert "Bescheinigung" in answer(30)
    assert "Schwerbehindertenausweis vor" in answer(70)


def test_every_card_renders_short_plain_answers_with_all_sources(kb: Knowledge) -> None:
    for key in kb.cards:
        rendered = kb.render(key)
        assert "{" not in rendered.text and "}" not in rendered.text, key
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", rendered.text) if s]
        assert len(sentences) <= 7, (key, len(sentences))
        assert rendered.source_line().startswith("Quelle: ")
        for source in rendered.sources:  # every source is shown, with its date
            assert source.citation() in rendered.source_line(), (key, source.key)


def test_every_merkzeichen_has_a_card(kb: Knowledge) -> None:
    for code in MERKZEICHEN_CODES:
        assert kb.render(f"merkzeichen/{code.lower().replace('.', '')}").text


def test_corrections_of_issue_10(kb: Knowledge) -> None:
    """The fact corrections: orange print with aG, Rundfunk retroactive, Gl's condition, dates."""
    assert "aG" in kb.render("orange_card/which_merkzeichen").text
    assert re.search(r"(3|drei) Jahre", kb.render("broadcast_fee/from_when").text)
    assert "meist" not in kb.render("merkzeichen/gl").text
    assert kb.sources["003_19fde30a12699e25.txt"].date != "Januar 2021"
    assert "3 Wochen" in kb.render("dismissal_protection/pending_application").text


def test_general_procedures_are_marked_as_such(kb: Knowledge) -> None:
    rendered = kb.render("lost_card/overview")
    assert GENERAL in [s.key for s in rendered.sources]
    assert "allgemein gültiges Verfahren" in rendered.source_line()


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
def test_merkzeichen_are_found_in_text(text: str, code: str | None) -> None:
    assert find_merkzeichen(text) == code


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
    text = hours_text(kb.texts, kb.offices["koeln"], berlin(2026, 12, 25, 10, 0))
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
    assert "liegen mir nicht vor" in hours_text(kb.texts, bonn, berlin(2026, 11, 23, 9, 0))


def test_telephone_hours_are_not_called_opening_hours(kb: Knowledge) -> None:
    """Dortmund's hours are phone hours and visits are not possible: never "geöffnet"."""
    text = hours_text(kb.texts, kb.offices["dortmund"], berlin(2026, 11, 23, 9, 0))
    assert "telefonisch erreichbar" in text and "geöffnet" not in text


def test_office_answers_say_how_old_the_data_is(kb: Knowledge) -> None:
    assert data_age_text(kb.texts, kb.offices["koeln"]) == (
        "Stand der Angaben: 2025 oder später; Telefon: 2020 oder später; E-Mail: 2008."
    )
    assert data_age_text(kb.texts, kb.offices["essen"]) == "Stand der Angaben: 2008."
