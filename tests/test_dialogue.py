"""knowledge.dialogue without Rasa: which card, which office, a gap, out of scope, follow-ups."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from knowledge import Knowledge
from knowledge.conversation import Context, PlaceMention, Reply, Turn
from knowledge.dialogue import Responder
from knowledge.opening_hours import BERLIN
from knowledge.places import Outcome

MONDAY_MORNING = datetime(2026, 11, 30, 9, 30, tzinfo=BERLIN)


@pytest.fixture(scope="module")
def responder(kb: Knowledge) -> Responder:
    return Responder(kb)


def place(kb: Knowledge, text: str) -> PlaceMention:
    resolution = kb.match(kb.places.resolve(text)).resolution
    return PlaceMention(
        resolution.outcome,
        tuple(p.key for p in resolution.places),
        resolution.matched if resolution.outcome is not Outcome.FOUND else None,
        resolution.region,
        only=kb.places.only_place(text, resolution),
    )


def ask(
    responder: Responder,
    text: str,
    intent: str,
    cards: tuple[str, ...] = (),
    context: Context | None = None,
    **extra,
) -> Reply:
    turn = Turn(
        text=text,
        intent=intent,
        confidence=0.9,
        intents=((intent, 0.9),),
        cards=tuple((c, 0.8) for c in cards),
        **extra,
    )
    return responder.respond(turn, context or Context(), MONDAY_MORNING)


def text_of(reply: Reply) -> str:
    return "\n".join(message.text for message in reply.messages)


def test_a_card_answers_with_its_facts_and_every_source_with_its_date(responder: Responder) -> None:
    reply = ask(responder, "was kostet die wertmarke", "ask_wertmarke", ("wertmarke/price",))
    text = text_of(reply)
    assert "104 Euro" in text and "60 Euro" not in text
    assert re.search(r"Quelle: .*Köln.*\(Stand: 2025 oder später\)", text)
    assert reply.context.last_card == "wertmarke/price"


def test_an_office_card_without_a_place_asks_for_it_and_the_place_answers(
    kb: Knowledge, responder: Responder
) -> None:
    first = ask(responder, "wie verlängere ich den ausweis", "ask_extend", ("extend/overview",))
    assert "Wohnort" in text_of(first)
    assert first.context.awaiting_place == "extend/overview"
    second = ask(responder, "Issum", "goodbye", context=first.context, place=place(kb, "Issum"))
    text = text_of(second)
    assert "Kreis Kleve" in text and re.search(r"02821", text)
    assert second.context.office_id == "kreis-kleve" and second.context.awaiting_place is None


def test_a_question_with_a_place_is_answered_with_that_places_office(
    kb: Knowledge, responder: Responder
) -> None:
    text = "Mein Vater wohnt in Bottrop, wohin schickt er den Antrag?"
    reply = ask(responder, text, "ask_apply", ("apply/overview",), place=place(kb, text))
    assert "Antrag" in text_of(reply)
    office = kb.offices[reply.context.office_id]
    assert office.main_phone in text_of(reply)


def test_a_follow_up_uses_the_previous_topic(responder: Responder) -> None:
    context = Context(last_card="wertmarke/overview")
    reply = ask(responder, "und was kostet das?", "ask_card_fee", ("card_fee/overview",), context=context)
    assert reply.context.last_card.startswith("wertmarke/")
    assert "104 Euro" in text_of(reply)


def test_a_follow_up_the_sources_do_not_answer_is_an_honest_gap(responder: Responder) -> None:
    context = Context(last_card="parking/overview", office_id="koeln")
    reply = ask(
        responder, "und gilt das auch für kinder?", "ask_parking", ("parking/overview",), context=context
    )
    text = text_of(reply)
    assert text.startswith("Dazu habe ich keine gesicherte Auskunft.")
    assert "0221 221-30702" in text  # the office's phone
    assert reply.kind == "gap" and reply.context.offer == "callback"


def test_a_question_instead_of_consent_is_answered_and_consent_asked_again(responder: Responder) -> None:
    reply = ask(
        responder,
        "wie lange dauert das",
        "ask_processing_time",
        ("processing_time/overview",),
        context=Context(offer="consent"),
    )
    assert "Wochen" in text_of(reply)
    assert reply.followup == "action_offer_callback"


def test_out_of_scope_gives_no_card_facts_even_with_a_town(kb: Knowledge, responder: Responder) -> None:
    text = "Wo beantrage ich in Bochum einen Personalausweis?"
    reply = ask(responder, text, "out_of_scope", ("out_of_scope/other_documents",), place=place(kb, text))
    answer = text_of(reply)
    assert "Bürgeramt" in answer and "Fragen zum Schwerbehindertenausweis" in answer
    assert "0231" not in answer and reply.context.office_id is None


@pytest.mark.parametrize(
    ("text", "region"),
    [
        ("Mainz", "Rheinland-Pfalz"),
        ("Hamm (Sieg)", "Rheinland-Pfalz"),
        ("Osnabrück", "Niedersachsen"),
        ("Venlo", "Niederlande"),
    ],
)
def test_places_elsewhere_are_refused_with_their_region(
    kb: Knowledge, responder: Responder, text: str, region: str
) -> None:
    reply = ask(
        responder,
        text,
        "inform_place",
        place=place(kb, text),
        context=Context(awaiting_place="responsible_office/overview"),
    )
    answer = text_of(reply)
    assert region in answer and re.search(r"nicht in (Nordrhein-Westfalen|Deutschland)", answer)
    phones = [phone for office in kb.offices.values() for phone in office.phones]
    assert not any(phone in answer for phone in phones)


def test_an_ambiguous_place_asks_back_with_buttons(kb: Knowledge, responder: Responder) -> None:
    reply = ask(responder, "Oberkassel", "inform_place", place=place(kb, "Oberkassel"))
    titles = [button.title for button in reply.messages[0].buttons]
    assert len(titles) >= 2 and any("Düsseldorf" in t for t in titles) and any("Bonn" in t for t in titles)
    assert reply.context.awaiting_place


def test_the_fallback_asks_back_then_offers_the_main_topics_and_a_person(responder: Responder) -> None:
    first = ask(responder, "blubb", "nlu_fallback")
    assert "nicht sicher" in text_of(first) and first.context.fallbacks == 1
    second = ask(responder, "blabla", "nlu_fallback", context=first.context)
    assert "nicht verstanden" in text_of(second)
    assert any(button.payload == "/request_callback" for button in second.messages[0].buttons)


def test_an_unsure_wish_for_a_person_is_taken_and_a_weaker_one_offered(responder: Responder) -> None:
    def unsure(human: float) -> Reply:
        ranking = (("nlu_fallback", 0.4), ("request_human", human), ("bot_challenge", 0.43), ("skip", 0.01))
        turn = Turn(text="Mensch bitte", intent="nlu_fallback", confidence=0.4, intents=ranking)
        return responder.respond(turn, Context(), MONDAY_MORNING)

    assert unsure(0.52).context.awaiting_place == "request_human"  # asks for the place of the office
    asked = unsure(0.45)
    assert asked.kind == "fallback"
    assert "/request_human" in [button.payload for button in asked.messages[0].buttons]


def test_unreadable_input_says_so_and_offers_the_main_topics(responder: Responder) -> None:
    reply = ask(responder, "xq zzv prrt", "out_of_scope", ("out_of_scope/nonsense",))
    assert "ganzen Worten" in text_of(reply)
    assert any("apply/overview" in button.payload for button in reply.messages[0].buttons)


def test_a_gdb_in_a_question_about_the_amount_gives_it_whichever_tax_card_won(
    responder: Responder,
) -> None:
    low = ask(
        responder, "gdb 70 wieviel steuervorteil hab ich da", "ask_tax_allowance", ("tax_allowance/low_gdb",)
    )
    assert "1.780 Euro" in text_of(low)
    child = ask(
        responder,
        "unser sohn hat gdb 90, wieviel koennen wir geltend machen",
        "ask_tax_allowance",
        ("tax_allowance/transfer_child",),
    )
    assert "2.460 Euro" in text_of(child) and "Kindergeld" in text_of(child)
    proof = ask(
        responder,
        "welchen nachweis brauche ich bei gdb 30",
        "ask_tax_allowance",
        ("tax_allowance/certificate",),
    )
    assert "Euro" not in text_of(proof).split("Quelle")[0]


def test_who_and_where_without_a_question_gets_the_office_not_an_out_of_scope_card(
    kb: Knowledge, responder: Responder
) -> None:
    def say(text: str, card: tuple[str, float]) -> Reply:
        turn = Turn(text, "out_of_scope", 0.9, (("out_of_scope", 0.9),), (card,), place(kb, text))
        return responder.respond(turn, Context(), MONDAY_MORNING)

    statement = say("Mein Vater lebt in Schwelm im Pflegeheim.", ("out_of_scope/care", 0.3))
    assert statement.context.office_id == "ennepe-ruhr-kreis"
    question = say("Wo beantrage ich den Pflegegrad? Ich wohne in Schwelm.", ("out_of_scope/care", 0.3))
    assert question.kind == "out_of_scope"
    clear = say(
        "Ich brauche einen neuen Personalausweis, ich wohne in Schwelm.",
        ("out_of_scope/other_documents", 0.6),
    )
    assert clear.kind == "out_of_scope"


def test_a_short_question_for_the_address_names_the_known_office(responder: Responder) -> None:
    known = Context(office_id="koeln", place="Köln")
    asked = ask(responder, "adresse bitte", "ask_change_address", ("change_address/overview",), context=known)
    assert "Ottmar-Pohl-Platz 1" in text_of(asked)
    moved = ask(
        responder, "neue adresse melden", "ask_change_address", ("change_address/overview",), context=known
    )
    assert moved.topic == "change_address"


def test_a_yes_no_question_gets_its_yes_or_no_first(kb: Knowledge, responder: Responder) -> None:
    key = next(k for k, card in kb.cards.items() if card.yes_no == "nein")
    card = kb.cards[key]
    topic = f"ask_{card.topic}"
    asked = ask(responder, card.question, topic, (key,))
    assert text_of(asked).startswith("Nein. ")
    negated = card.question.replace("?", " nicht?")
    assert not text_of(ask(responder, negated, topic, (key,))).startswith("Nein")
    open_question = "Wie ist das geregelt?"
    assert not text_of(ask(responder, open_question, topic, (key,))).startswith("Nein")


def test_a_named_merkzeichen_picks_its_card(responder: Responder) -> None:
    reply = ask(responder, "was bedeutet aG", "ask_merkzeichen", ("merkzeichen/overview",))
    assert reply.context.last_card == "merkzeichen/ag"


def test_a_gdb_in_a_tax_question_gives_its_amount(responder: Responder) -> None:
    reply = ask(
        responder, "wie hoch ist der pauschbetrag bei gdb 50", "ask_tax_allowance", ("tax_allowance/amounts",)
    )
    assert "1.140 Euro" in text_of(reply)


def test_a_person_is_offered_with_the_phone_and_on_the_telephone_a_transfer(responder: Responder) -> None:
    chat = ask(
        responder, "ich will einen menschen sprechen", "request_human", context=Context(office_id="koeln")
    )
    assert "0221 221-30702" in text_of(chat) and all(m.custom is None for m in chat.messages)
    call = ask(responder, "mitarbeiter", "request_human", context=Context(office_id="koeln"), channel="voice")
    assert any(m.custom and m.custom["transfer"]["office"] == "koeln" for m in call.messages)


def test_on_the_telephone_the_0_key_asks_for_a_person_and_the_place_then_connects(
    kb: Knowledge, responder: Responder
) -> None:
    first = ask(responder, "0", "nlu_fallback", channel="voice", digits="0")
    assert first.context.awaiting_place == "request_human"
    second = ask(
        responder, "Köln", "inform_place", context=first.context, channel="voice", place=place(kb, "Köln")
    )
    assert any(m.custom and m.custom["transfer"]["number"] == "0221 221-30702" for m in second.messages)


def test_on_the_telephone_a_closed_office_is_not_dialled(responder: Responder) -> None:
    sunday = datetime(2026, 11, 29, 11, 0, tzinfo=BERLIN)
    turn = Turn(text="mitarbeiter", intent="request_human", channel="voice")
    reply = responder.respond(turn, Context(office_id="koeln"), sunday)
    assert all(m.custom is None for m in reply.messages) and "geschlossen" in text_of(reply)


def test_opening_hours_of_a_telephone_office_say_reachable_not_open(
    kb: Knowledge, responder: Responder
) -> None:
    reply = ask(
        responder,
        "haben die in Dortmund jetzt auf",
        "ask_opening_hours",
        ("opening_hours/overview",),
        place=place(kb, "in Dortmund"),
    )
    answer = text_of(reply)
    assert "telefonisch erreichbar" in answer and "geöffnet" not in answer


def test_any_answer_names_the_office_of_a_place_in_the_question(kb: Knowledge, responder: Responder) -> None:
    text = "Ich wohne in Hilden, was kostet die Wertmarke?"
    reply = ask(responder, text, "ask_wertmarke", ("wertmarke/price",), place=place(kb, text))
    office = kb.offices[reply.context.office_id]
    assert "104 Euro" in text_of(reply) and office.main_phone in text_of(reply)


def test_an_ambiguous_place_in_a_question_is_asked_back_with_the_answer(
    kb: Knowledge, responder: Responder
) -> None:
    text = "Was kostet die Wertmarke in Langenberg?"
    reply = ask(responder, text, "ask_wertmarke", ("wertmarke/price",), place=place(kb, text))
    assert "104 Euro" in text_of(reply) and "Welchen Ort" in text_of(reply)
    assert {button.title for button in reply.messages[0].buttons} == {"Langenberg", "Langenberg (Velbert)"}
    assert reply.context.awaiting_place == "wertmarke/price"


def test_a_place_abroad_in_a_question_gets_no_nrw_office(kb: Knowledge, responder: Responder) -> None:
    text = "Ich wohne in Venlo, was kostet die Wertmarke?"
    reply = ask(responder, text, "ask_wertmarke", ("wertmarke/price",), place=place(kb, text))
    assert "nicht in Deutschland" in text_of(reply) and reply.context.office_id is None


def test_an_unsure_nlu_with_a_known_place_answers_with_the_office(
    kb: Knowledge, responder: Responder
) -> None:
    text = "hallo ich bin aus 47533 und brauche das amt fuer den ausweis bitte"
    turn = Turn(
        text=text,
        intent="nlu_fallback",
        confidence=0.3,
        intents=(("nlu_fallback", 0.3),),
        place=place(kb, text),
    )
    reply = responder.respond(turn, Context(), MONDAY_MORNING)
    assert reply.kind == "place" and reply.context.office_id == "kreis-kleve"


def test_a_town_in_nrw_overrules_the_answer_for_other_states(kb: Knowledge, responder: Responder) -> None:
    text = "Wo beantrage ich in Siegburg den Schwerbehindertenausweis?"
    reply = ask(responder, text, "out_of_scope", ("out_of_scope/other_states",), place=place(kb, text))
    assert reply.kind == "place" and kb.offices[reply.context.office_id].main_phone in text_of(reply)


def test_a_follow_up_on_merkzeichen_rf_is_about_the_broadcast_fee(responder: Responder) -> None:
    context = Context(last_card="merkzeichen/rf")
    reply = ask(
        responder, "wo muss ich das beantragen?", "out_of_scope", ("apply/overview",), context=context
    )
    assert "Beitragsservice" in text_of(reply) and reply.context.last_card.startswith("broadcast_fee/")


def test_a_callback_request_that_asks_a_question_gets_the_answer_before_the_privacy_notice(
    kb: Knowledge, responder: Responder
) -> None:
    text = "Kann mich die Schwerbehindertenstelle in Köln zurückrufen?"
    reply = ask(responder, text, "request_callback", ("contact/callback",), place=place(kb, text))
    assert "Kontaktformular" in text_of(reply) and reply.context.office_id == "koeln"
    wish = ask(responder, "Bitte rufen Sie mich an.", "request_callback", ("contact/callback",))
    assert wish.messages == ()
