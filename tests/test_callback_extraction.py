"""The callback fields found in one message, as people write them."""

from __future__ import annotations

from typing import Any

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callbacks.extraction import EXPECTING, Extracted, _normalise, extract, is_question
from callbacks.validation import SERVICE_NUMBER

TOO_SHORT = "Diese Telefonnummer ist zu kurz, zu lang oder ungültig. Bitte prüfen Sie sie."


def check(text: str, expecting: str | None, expected: dict[str, Any]) -> None:
    found = extract(text, expecting)
    assert {key: getattr(found, key) for key in expected} == expected, found


# --- phone numbers in every usual format ---------------------------------------------------------

PHONES = [
    ("0211 445566", "+49211445566"),
    ("0211/445566", "+49211445566"),
    ("0211-445566", "+49211445566"),
    ("(0211) 445566", "+49211445566"),
    ("0211445566", "+49211445566"),
    ("0211 / 445 566", "+49211445566"),
    ("+49 211 445566", "+49211445566"),
    ("+49 (0)211 445566", "+49211445566"),
    ("+49(0)211/445566", "+49211445566"),
    ("0049 211 445566", "+49211445566"),
    ("0049-211-445566", "+49211445566"),
    ("0176 12345678", "+4917612345678"),
    ("0176-123 456 78", "+4917612345678"),
    ("+49 176 12345678", "+4917612345678"),
    ("0151-12345678", "+4915112345678"),
    ("0171/1234567", "+491711234567"),
    ("02 33/12345", "+4923312345"),
    ("02 33 1/12345", "+49233112345"),
    ("(02331) 12345", "+49233112345"),
    ("0221 221-30702", "+4922122130702"),
    ("02 21 / 12 34 56 7", "+492211234567"),
    ("+31 20 123 4567", "+31201234567"),
]


@pytest.mark.parametrize(("raw", "e164"), PHONES)
def test_a_bare_number_in_any_format(raw: str, e164: str) -> None:
    check(raw, "phone", {"phone": e164, "phone_error": None, "rest": ""})


@pytest.mark.parametrize(
    ("text", "expecting", "expected"),
    [
        ("Tel 0176 12345678", "phone", {"phone": "+4917612345678", "rest": ""}),
        ("Tel.: 0211 445566", "phone", {"phone": "+49211445566", "rest": ""}),
        ("Tel.-Nr.: 0211 445566", None, {"phone": "+49211445566", "rest": ""}),
        ("Telefonnr. 0211/445566", None, {"phone": "+49211445566"}),
        ("Handy: 0151-12345678", "phone", {"phone": "+4915112345678", "rest": ""}),
        ("Handy:0176/1234567", "phone", {"phone": "+491761234567"}),
        ("meine Nummer ist +49 (0)211 445566", "phone", {"phone": "+49211445566", "rest": ""}),
        ("Sie erreichen mich unter 0221/9876543", None, {"phone": "+492219876543"}),
        (
            "0211 445566, Festnetz, abends erreichbar",
            "phone",
            {"phone": "+49211445566", "preferred_time": "abends erreichbar", "rest": "Festnetz"},
        ),
        (
            "02331 12345, am liebsten Freitag früh",
            "phone",
            {"phone": "+49233112345", "preferred_time": "am liebsten Freitag früh", "rest": ""},
        ),
        (
            "02 33/12345, am liebsten Freitag früh",
            "phone",
            {"phone": "+4923312345", "preferred_time": "am liebsten Freitag früh"},
        ),
        ("0211 445566 oder 0176 12345678", "phone", {"phone": "+49211445566", "rest": "oder 0176 12345678"}),
        ("Geschäftszeichen 56/123456, Tel 0211 445566", None, {"phone": "+49211445566"}),
        ("PLZ 40210, Tel. 0211 445566", None, {"phone": "+49211445566"}),
    ],
)
def test_numbers_with_words_around(text: str, expecting: str | None, expected: dict[str, Any]) -> None:
    check(text, expecting, expected)


@pytest.mark.parametrize(
    ("text", "expecting", "expected"),
    [
        ("Fax 0211 445567", "contact", {"fax": "+49211445567", "phone": None}),
        ("Faxnummer: (0211) 445567", None, {"fax": "+49211445567", "phone": None, "rest": ""}),
        ("Tel 0221 123456 Fax 0221 123457", "contact", {"phone": "+49221123456", "fax": "+49221123457"}),
        ("bitte per Fax an 0211 445567", "contact", {"fax": "+49211445567", "cannot_phone": True}),
        ("Fax: 0211 99", "contact", {"fax": None, "phone_error": TOO_SHORT.replace("Telefon", "Fax")}),
    ],
)
def test_a_number_after_fax_is_the_fax(text: str, expecting: str | None, expected: dict[str, Any]) -> None:
    check(text, expecting, expected)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("0900 1234567", SERVICE_NUMBER),
        ("0137 1234567", SERVICE_NUMBER),
        ("01805 123456", SERVICE_NUMBER),
        ("Tel 0180 5123456", SERVICE_NUMBER),
        ("0151-1234567", TOO_SHORT),  # 0151 numbers have eight digits after the prefix
        ("0211 44", TOO_SHORT),
        ("123", TOO_SHORT),
        ("meine Nummer ist 12", TOO_SHORT),
        ("50667", TOO_SHORT),
    ],
)
def test_an_unusable_number_says_why(text: str, error: str) -> None:
    check(text, "phone", {"phone": None, "phone_error": error})


def test_a_service_number_in_a_first_message_is_reported() -> None:
    check("Maria Kaya, 0900 1234567", None, {"phone": None, "phone_error": SERVICE_NUMBER})


@pytest.mark.parametrize(
    ("text", "expecting"),
    [
        ("ich wohne in 50667 Köln", None),
        ("PLZ 50667", "place"),
        ("50667 Köln", "place"),
        ("Ich habe den Ausweis seit 2019", None),
        ("Az 123/45", None),
        ("Aktenzeichen 12345678", None),
        ("Geschäftszeichen 56/123456", None),
        ("Antrag vom 12.03.2024", None),
        ("Mein Geburtsdatum ist 01.03.1950", None),
        ("Grad der Behinderung 50", None),
        ("Wann kommt mein Ausweis? Antrag vom 12.03.2024", "reason"),
    ],
)
def test_postcodes_years_references_and_dates_are_no_phone_numbers(text: str, expecting: str | None) -> None:
    check(text, expecting, {"phone": None, "fax": None, "phone_error": None})


@pytest.mark.parametrize("text", ["Wie lange dauert das?", "ich kann nicht telefonieren", "ab 14 Uhr"])
def test_no_error_without_digits_of_a_number(text: str) -> None:
    check(text, "phone", {"phone": None, "phone_error": None})


# --- names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expecting", "name"),
    [
        ("Mein Name ist Maria Kaya", "name", "Maria Kaya"),
        ("mein name ist maria kaya", None, "Maria Kaya"),
        ("Guten Tag, mein Name ist Kaya-Yilmaz", None, "Kaya-Yilmaz"),
        ("Ich heiße Jean-Luc de Vries und wohne in Köln", None, "Jean-Luc de Vries"),
        ("Hallo! Ich heiße Ayşe Yılmaz.", None, "Ayşe Yılmaz"),
        ("Name: Maria Kaya", None, "Maria Kaya"),
        ("Name: Dr. Maria Kaya", None, "Maria Kaya"),
        ("Hier ist Maria Kaya", None, "Maria Kaya"),
        ("Hier ist Frau Kaya", None, "Frau Kaya"),
        ("Kaya hier, Tel. 0211 445566", None, "Kaya"),
        ("Maria Kaya hier", "phone", "Maria Kaya"),
        ("Ich bin Maria Kaya", None, "Maria Kaya"),
        ("für meine Mutter, Maria Kaya", None, "Maria Kaya"),
        ("Ich rufe für meine Mutter an, Maria Kaya", None, "Maria Kaya"),
        ("Rückruf für meinen Vater Hans Meier, er ist gehörlos", None, "Hans Meier"),
        ("Meine Mutter heißt Erika Mustermann", None, "Erika Mustermann"),
        ("Meine Tochter ruft an: Lisa Kaya, Handy 0170 1234567", None, "Lisa Kaya"),
        ("Ich bin die Tochter von Maria Kaya", None, "Maria Kaya"),
        ("Mit freundlichen Grüßen Maria Kaya", None, "Maria Kaya"),
        ("Rückruf bitte – Maria Kaya, 0211 445566", None, "Maria Kaya"),
        ("Anna Müller, 0171/1234567", "phone", "Anna Müller"),
        ("rückruf bitte maria kaya 0211 445566", None, "Maria Kaya"),
        ("ich heiße maria kaya, meine nummer ist 0211 445566", None, "Maria Kaya"),
        ("ich heise maria kaya", None, "Maria Kaya"),
        ("Rückruf für Herrn Peter Schmitz, Tel 0228 123456", None, "Herr Peter Schmitz"),
        ("Rückruf an Frau Kaya bitte", None, "Frau Kaya"),
        ("Guten Tag, ich bin die Betreuerin von Frau Kaya", None, "Frau Kaya"),
        ("Liebes Team, Maria Kaya hier", None, "Maria Kaya"),
        ("Ich bin Herr Yilmaz", None, "Herr Yilmaz"),
        ("nein, mein Name ist Kaja", "name", "Kaja"),
        ("Sehr geehrte Damen und Herren, ich bitte um Rückruf. Maria Kaya, 0211 445566", None, "Maria Kaya"),
    ],
)
def test_names_after_a_cue_or_next_to_the_number(text: str, expecting: str | None, name: str) -> None:
    check(text, expecting, {"name": name})


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("maria kaya", "Maria Kaya"),
        ("MARIA KAYA", "Maria Kaya"),
        ("Kaya, Maria", "Maria Kaya"),
        ("Frau Kaya", "Frau Kaya"),
        ("frau kaya", "Frau Kaya"),
        ("Hallo, ja gerne: Maria Kaya", "Maria Kaya"),
        ("ja gerne maria kaya danke", "Maria Kaya"),
        ("Müller", "Müller"),
        ("o'neill", "O'Neill"),
        ("anna-lena de vries", "Anna-Lena de Vries"),
        ("Hans-Peter von der Heide", "Hans-Peter von der Heide"),
        ("Uwe Grün", "Uwe Grün"),
        ("Maria Kaya aus Köln", "Maria Kaya"),
        ("Maria Kaya, ich wohne in Köln", "Maria Kaya"),
        ("maria kaya und meine nummer ist 0211 445566", "Maria Kaya"),
        ("Maria Kaya, 0211 445566, es geht um meine Wertmarke", "Maria Kaya"),
    ],
)
def test_a_bare_answer_to_the_name_question_is_the_name(text: str, name: str) -> None:
    check(text, "name", {"name": name})


@pytest.mark.parametrize(
    ("text", "expecting"),
    [
        ("Wie lange dauert das?", "name"),
        ("Was kostet die Wertmarke", "name"),
        ("Kann ich das online beantragen", "name"),
        ("Muss ich zum Amt kommen?", "name"),
        ("Gibt es eine Frist", "name"),
        ("Wann kommt mein Ausweis", "name"),
        ("Uwe Grün?", "name"),
        ("ich bin gehörlos", "name"),
        ("Ich bin gehörlos", None),
        ("Ich bin schwerhörig, bitte schriftlich", None),
        ("ich bin 72 und brauche Hilfe", None),
        ("Ich bin Rentnerin und brauche Hilfe", None),
        ("Wertmarke Kosten", "name"),
        ("Nein", "name"),
        ("ja bitte", "name"),
        ("abbrechen", "name"),
        ("Das ist egal", "name"),
        ("Mein Ausweis ist abgelaufen", "name"),
        ("Hallo ich brauche einen Rückruf", None),
        ("Rückruf bitte, Bergisch Gladbach", "place"),
        ("neuer ausweis 0211 445566", None),
        ("Hier ist meine Nummer: 0211 445566", None),
        ("Ich hatte schon mit dem Amt telefoniert", None),
        ("Ich hatte mit Frau Schmidt vom Amt gesprochen", None),
        ("Rückruf bitte, ich wohne in Köln Ehrenfeld", None),
        ("Neuer Antrag, 0211 445566", None),
        ("gibts hier ne rückruffunktion", None),  # "… hier" is a cue only where the words end
        ("Statt hier zu schreiben hätte ich lieber einen Anruf", None),
    ],
)
def test_questions_conditions_and_topics_are_no_names(text: str, expecting: str | None) -> None:
    check(text, expecting, {"name": None})


@pytest.mark.parametrize(
    "text", ["Wie lange dauert das?", "Kann ich das online machen", "ja, was kostet das", "Darf ich fragen"]
)
def test_is_question(text: str) -> None:
    assert is_question(text)


# --- reason, time, e-mail, SMS, cannot phone -----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expecting", "reason"),
    [
        ("Rückruf bitte – Maria Kaya, 0211 445566, es geht um meine Wertmarke", None, "meine Wertmarke"),
        ("Rückruf wegen Wertmarke 0211 445566", None, "Wertmarke"),
        ("Anna Müller, 0171/1234567, wegen Merkzeichen G, vormittags", None, "Merkzeichen G"),
        ("Grund: Widerspruch gegen Bescheid", None, "Widerspruch gegen Bescheid"),
        ("Anliegen: Parkausweis beantragen", None, "Parkausweis beantragen"),
        ("betrifft meinen Antrag vom 12.03.2024", None, "meinen Antrag vom 12.03.2024"),
        ("Ich habe eine Frage zur Wertmarke", None, "Frage zur Wertmarke"),
        ("Wann kommt mein Ausweis?", "reason", "Wann kommt mein Ausweis?"),
        ("ja, Widerspruch gegen meinen Bescheid", "reason", "Widerspruch gegen meinen Bescheid"),
        ("also es geht um die Wertmarke", "reason", "es geht um die Wertmarke"),
        ("Kann ich den Ausweis verlängern? Tel 0211 445566", "reason", None),
        ("Hallo ich brauche einen Rückruf", None, None),
        ("Maria Kaya", "name", None),
    ],
)
def test_reason(text: str, expecting: str | None, reason: str | None) -> None:
    if reason is None and expecting == "reason":
        reason = text  # the whole answer
    check(text, expecting, {"reason": reason})


def test_the_reason_step_still_returns_names_and_numbers() -> None:
    found = extract("Mein Name ist Maria Kaya, wann kommt mein Ausweis? Tel 0211 445566", "reason")
    assert found.reason.startswith("Mein Name ist Maria Kaya, wann kommt")
    assert (found.name, found.phone) == ("Maria Kaya", "+49211445566")


@pytest.mark.parametrize(
    ("text", "expecting", "time"),
    [
        ("vormittags", "preferred_time", "vormittags"),
        ("am liebsten Freitag früh", "preferred_time", "am liebsten Freitag früh"),
        ("nach der Arbeit, so gegen halb fünf", "preferred_time", "nach der Arbeit, so gegen halb fünf"),
        ("ja, abends bitte", "preferred_time", "abends"),
        ("jederzeit", "preferred_time", "jederzeit"),
        ("egal", "preferred_time", None),
        ("ist mir egal", "preferred_time", None),
        ("nein", "preferred_time", None),
        ("überspringen", "preferred_time", None),
        ("keine", "preferred_time", None),
        ("ab 14 Uhr", None, "ab 14 Uhr"),
        ("Rückruf bitte ab 14 Uhr", None, "ab 14 Uhr"),
        ("zwischen 9 und 12 Uhr", "phone", "zwischen 9 und 12 Uhr"),
        ("montags und mittwochs vormittags", None, "montags und mittwochs vormittags"),
        ("heute ab 16 Uhr", "phone", "heute ab 16 Uhr"),
        ("Maria Kaya, nachmittags erreichbar", "name", "nachmittags erreichbar"),
        ("Guten Morgen, ich heiße Maria Kaya", None, None),
        ("Ich heiße Maria Kaya", None, None),
        ("Wann kommt mein Ausweis, morgen?", "reason", None),
    ],
)
def test_preferred_time(text: str, expecting: str | None, time: str | None) -> None:
    check(text, expecting, {"preferred_time": time})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("anna@example.de", {"email": "anna@example.de", "rest": ""}),
        ("Meine E-Mail: maria.kaya@example.de", {"email": "maria.kaya@example.de", "rest": ""}),
        ("bitte per Mail an kaya@example.de.", {"email": "kaya@example.de", "cannot_phone": True}),
        ("Mail an anna1990@web.de, danke", {"email": "anna1990@web.de", "phone": None}),
        ("anna@example", {"email": None}),
        ("anna@@example.de", {"email": None}),
        ("anna@exa_mple.de", {"email": None}),
    ],
)
def test_email_anywhere(text: str, expected: dict[str, Any]) -> None:
    check(text, "contact", expected)


@pytest.mark.parametrize(
    ("text", "sms", "cannot"),
    [
        ("per SMS", True, False),
        ("bitte SMS an 0176 12345678", True, False),
        ("bitte keine SMS", False, False),
        ("ich bin gehörlos", False, True),
        ("Ich bin taub.", False, True),
        ("schwerhörig, bitte schriftlich", False, True),
        ("ich bin hörbehindert", False, True),
        ("ich kann nicht telefonieren", False, True),
        ("telefonieren geht leider nicht", False, True),
        ("Ich habe kein Telefon", False, True),
        ("bitte nur schriftlich", False, True),
        ("bitte nur per Mail", False, True),
        ("Ich bin gehörlos, bitte per SMS", True, True),
        ("Rückruf bitte", False, False),
    ],
)
def test_sms_wish_and_cannot_phone(text: str, sms: bool, cannot: bool) -> None:
    check(text, None, {"wants_sms": sms, "cannot_phone": cannot})


def test_everything_in_one_message() -> None:
    found = extract(
        "Hallo, hier ist Maria Kaya aus Köln, ich habe eine Frage zur Wertmarke, "
        "meine Nummer ist 0176 12345678, am besten vormittags."
    )
    assert found == Extracted(
        name="Maria Kaya",
        phone="+4917612345678",
        preferred_time="am besten vormittags",
        reason="Frage zur Wertmarke",
        rest="Hallo, aus Köln, ich habe eine",
    )


def test_the_issue_example() -> None:
    found = extract("Rückruf bitte – Maria Kaya, 0211 445566, es geht um meine Wertmarke")
    assert (found.name, found.phone, found.reason) == ("Maria Kaya", "+49211445566", "meine Wertmarke")
    assert found.rest == "Rückruf bitte"


def test_a_deaf_person_with_fax_and_relative() -> None:
    found = extract(
        "Ich möchte einen Rückruf für meinen Vater Hans Meier, er ist gehörlos, bitte per Fax an 0211 445567"
    )
    assert (found.name, found.fax, found.phone, found.cannot_phone) == (
        "Hans Meier",
        "+49211445567",
        None,
        True,
    )


# --- properties ----------------------------------------------------------------------------------

PIECES = st.sampled_from(
    [
        "0211 445566", "+49 (0)211 445566", "0176/1234567", "0900 123456", "Fax", "Tel.", "Name:",
        "ich heiße", "Maria", "Kaya", "wegen", "es geht um", "ab 14 Uhr", "vormittags", "egal", "SMS",
        "gehörlos", "anna@example.de", "@", ",", ".", "?", "–", " ", "50667", "12.03.2024", "ja", "(0)",
        "+", "0", "Frau", "von", "hier", "ich bin",
    ]
)  # fmt: skip
MESSAGES = st.one_of(
    st.text(max_size=300), st.lists(PIECES, max_size=25).map(" ".join), st.lists(PIECES).map("".join)
)


def _valid_e164(value: str) -> bool:
    number = phonenumbers.parse(value, None)
    return (
        value.startswith("+")
        and phonenumbers.is_valid_number(number)
        and (phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) == value)
    )


@settings(max_examples=400, deadline=None)
@given(text=MESSAGES, expecting=st.sampled_from([None, *sorted(EXPECTING)]))
def test_extract_never_raises_and_numbers_are_valid(text: str, expecting: str | None) -> None:
    found = extract(text, expecting)
    for number in (found.phone, found.fax):
        assert number is None or _valid_e164(number)
        assert number is None or not number.startswith(("+49900", "+49137", "+49180"))
    assert isinstance(found.rest, str) and "  " not in found.rest
    assert found.phone is None or found.phone_error is None


def _subsequence(part: str, whole: str) -> bool:
    characters = iter(whole)
    return all(char in characters for char in part)


@settings(max_examples=300, deadline=None)
@given(text=MESSAGES)
def test_rest_is_what_is_left_of_the_message(text: str) -> None:
    """Nothing is invented: the rest is the message with parts taken out (spaces aside)."""
    found = extract(text)
    squeeze = lambda value: "".join(value.split())  # noqa: E731
    assert _subsequence(squeeze(found.rest), squeeze(_normalise(text)))
