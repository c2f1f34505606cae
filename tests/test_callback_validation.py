"""Validation of callback form input."""

from __future__ import annotations

import pytest

from callbacks.validation import (
    SERVICE_NUMBER,
    check_email,
    check_fax,
    check_name,
    check_phone,
    check_reason,
    check_sms_number,
    looks_like_a_name,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Anna Müller", "Anna Müller"),
        ("  Jean-Luc   O'Neill ", "Jean-Luc O'Neill"),
        ("Zoë Ağaoğlu", "Zoë Ağaoğlu"),
        ("Li", "Li"),
    ],
)
def test_names_accepted(raw: str, expected: str) -> None:
    assert check_name(raw).value == expected


@pytest.mark.parametrize(
    "raw", ["A", "", "Anna123", "<script>", "a" * 101, "Anna  --  Müller", "Robert'); DROP"]
)
def test_names_rejected_with_a_german_message(raw: str) -> None:
    checked = check_name(raw)
    assert not checked.ok and checked.error.startswith("Bitte")


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("0221 221-30702", "+4922122130702"),
        ("0171/1234567", "+491711234567"),
        ("+31 20 123 4567", "+31201234567"),
        ("0049 (231) 50-0", "+49231500"),
        ("0800 1234567", "+498001234567"),
    ],
)
def test_phone_numbers_are_stored_in_e164(raw: str, e164: str) -> None:
    assert check_phone(raw).value == e164


@pytest.mark.parametrize(
    "raw",
    ["0900 1234567", "0137 1234567", "01805 123456", "0180 5123456", "abc", "123", "0221 12345678901234"],
)
def test_phone_numbers_rejected(raw: str) -> None:
    checked = check_phone(raw)
    assert not checked.ok and checked.error


def test_reason_is_cleaned_and_limited() -> None:
    assert check_reason("Frage zu\x00 meinem\tAntrag\n AZ 123").value == "Frage zu meinem Antrag AZ 123"
    assert not check_reason("   ").ok
    assert check_reason("x" * 1000).ok
    assert not check_reason("x" * 1001).ok


@pytest.mark.parametrize(("raw", "ok"), [("anna@example.de", True), ("anna@", False), ("a b@c.de", False)])
def test_email_syntax(raw: str, ok: bool) -> None:
    assert check_email(raw).ok is ok


QUESTION_WORDS = frozenset({"wertmarke", "kosten", "ausweis", "verloren", "merkzeichen", "wie", "orange"})


@pytest.mark.parametrize("text", ["Uwe Grün", "Ilse Wertmann", "Frank Ausweis", "anna-lena de vries"])
def test_a_bare_name_looks_like_a_name_even_with_topic_words_in_it(text: str) -> None:
    assert looks_like_a_name(text, QUESTION_WORDS)


@pytest.mark.parametrize(
    "text", ["Wertmarke Kosten", "Ausweis verloren", "wie teuer", "Anna", "Merkzeichen aG", "Uwe Grün?"]
)
def test_keyword_questions_and_single_words_are_no_names(text: str) -> None:
    assert not looks_like_a_name(text, QUESTION_WORDS)


@pytest.mark.parametrize(
    "raw",
    [
        "maria.kaya@example.de",
        "a+b@sub-domain.example.co.uk",
        "anna_m@web.de",
        "x@müller.de",
        "o'neill@example.org",
        "a1@b2.info",
    ],
)
def test_emails_accepted(raw: str) -> None:
    assert check_email(f"  {raw} ").value == raw


@pytest.mark.parametrize(
    "raw",
    [
        "anna@example",
        "anna@localhost",
        "anna@example.d",
        "anna@example.123",
        "anna@-example.de",
        "anna@example-.de",
        "anna@exa_mple.de",
        "anna@example..de",
        ".anna@example.de",
        "anna.@example.de",
        "an..na@example.de",
        "anna@@example.de",
        "an@na@example.de",
        "anna(at)example.de",
        "a" * 65 + "@example.de",
        "a@" + "b" * 250 + ".de",
        "anna@" + "b" * 64 + ".de",
    ],
)
def test_emails_rejected_with_a_german_message(raw: str) -> None:
    checked = check_email(raw)
    assert not checked.ok and checked.error.startswith("Das sieht nicht wie eine E-Mail-Adresse aus")


@pytest.mark.parametrize(
    ("raw", "e164"), [("0211 445567", "+49211445567"), ("+49 (0)211 445567", "+49211445567")]
)
def test_fax_numbers_are_checked_like_phone_numbers(raw: str, e164: str) -> None:
    assert check_fax(raw).value == e164


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ("0900 1234567", SERVICE_NUMBER),
        ("0211 44", "Diese Faxnummer ist zu kurz, zu lang oder ungültig. Bitte prüfen Sie sie."),
        ("Fax 0211", "Bitte schreiben Sie die Faxnummer nur mit Ziffern, zum Beispiel 0221 1234567."),
    ],
)
def test_fax_numbers_rejected(raw: str, error: str) -> None:
    assert check_fax(raw).error == error


def test_phone_messages_are_unchanged() -> None:
    assert check_phone("Tel 0221").error == (
        "Bitte schreiben Sie die Telefonnummer nur mit Ziffern, zum Beispiel 0221 1234567."
    )
    assert check_phone("0221 1").error == (
        "Diese Telefonnummer ist zu kurz, zu lang oder ungültig. Bitte prüfen Sie sie."
    )


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("0176 12345678", "+4917612345678"),
        ("0151-12345678", "+4915112345678"),
        ("+43 664 1234567", "+436641234567"),
    ],
)
def test_sms_numbers_must_be_mobile(raw: str, e164: str) -> None:
    assert check_sms_number(raw).value == e164


@pytest.mark.parametrize("raw", ["0211 445566", "0800 1234567", "0900 1234567", "0176 1"])
def test_sms_to_a_landline_or_bad_number_is_refused(raw: str) -> None:
    checked = check_sms_number(raw)
    assert not checked.ok and checked.error
