"""Validate callback form input; every rejection comes with a short German message."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberType

NAME_MIN, NAME_MAX = 2, 100
REASON_MAX = 1000
NAME_PATTERN = re.compile(r"[^\W\d_]+(?:[ '’\-][^\W\d_]+)*")
EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]{2,}")
# Premium, shared-cost and personal numbers cost the office money or are not reachable.
REJECTED_TYPES = {
    PhoneNumberType.PREMIUM_RATE,
    PhoneNumberType.SHARED_COST,
    PhoneNumberType.PERSONAL_NUMBER,
    PhoneNumberType.UAN,
    PhoneNumberType.PAGER,
}
REJECTED_GERMAN_PREFIXES = ("+49900", "+49137", "+49180")
SERVICE_NUMBER = (
    "Kostenpflichtige Service-Nummern (zum Beispiel 0900, 0137, 0180) kann das Amt nicht anrufen. "
    "Bitte nennen Sie eine Festnetz- oder Handynummer."
)


@dataclass(frozen=True)
class Checked:
    """Either a clean value or a German error message."""

    value: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _clean(text: str) -> str:
    """Remove control and format characters, fold white space."""
    kept = "".join(" " if char in "\t\r\n" else char for char in text)
    kept = "".join(char for char in kept if unicodedata.category(char)[0] != "C")
    return re.sub(r"\s+", " ", kept).strip()


def check_name(text: str) -> Checked:
    name = unicodedata.normalize("NFC", _clean(text))
    if not NAME_MIN <= len(name) <= NAME_MAX:
        return Checked(error=f"Bitte schreiben Sie Ihren Namen mit {NAME_MIN} bis {NAME_MAX} Zeichen.")
    if not NAME_PATTERN.fullmatch(name):
        return Checked(
            error="Bitte schreiben Sie nur Ihren Namen: Buchstaben, Leerzeichen, Bindestrich oder Apostroph."
        )
    return Checked(value=name)


def looks_like_a_name(text: str, topic_words: frozenset[str]) -> bool:
    """A bare name ("Uwe Grün", "Sabine Hilfe") and not a question in keywords ("Wertmarke Kosten"):
    two to four words of letters whose first word never occurs in the questions people ask."""
    checked = check_name(text)
    if not checked.ok:
        return False
    words = checked.value.split()
    return 2 <= len(words) <= 4 and words[0].lower() not in topic_words


def check_phone(text: str) -> Checked:
    raw = _clean(text)
    if re.search(r"[^\d\s+()/\-.]", raw):
        return Checked(
            error="Bitte schreiben Sie die Telefonnummer nur mit Ziffern, zum Beispiel 0221 1234567."
        )
    try:
        number = phonenumbers.parse(raw, "DE")
    except phonenumbers.NumberParseException:
        return Checked(error="Das ist keine gültige Telefonnummer. Bitte prüfen Sie die Nummer.")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if e164.startswith(REJECTED_GERMAN_PREFIXES) or phonenumbers.number_type(number) in REJECTED_TYPES:
        return Checked(error=SERVICE_NUMBER)
    if not phonenumbers.is_valid_number(number):
        return Checked(error="Diese Telefonnummer ist zu kurz, zu lang oder ungültig. Bitte prüfen Sie sie.")
    return Checked(value=e164)


def check_reason(text: str) -> Checked:
    reason = _clean(text)
    if not reason:
        return Checked(error="Bitte schreiben Sie kurz, worum es geht.")
    if len(reason) > REASON_MAX:
        return Checked(error=f"Bitte fassen Sie Ihr Anliegen kürzer, höchstens {REASON_MAX} Zeichen.")
    return Checked(value=reason)


def check_email(text: str) -> Checked:
    email = _clean(text)
    if len(email) > 254 or not EMAIL_PATTERN.fullmatch(email):
        return Checked(error="Das sieht nicht wie eine E-Mail-Adresse aus, zum Beispiel name@beispiel.de.")
    return Checked(value=email)
