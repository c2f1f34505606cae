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
EMAIL_MAX, EMAIL_LOCAL_MAX = 254, 64
# Local part: letters, digits and the usual signs, dots only between them (no "..", no dot at an end).
EMAIL_LOCAL = re.compile(r"[\w!#$%&'*+/=?^`{|}~-]+(?:\.[\w!#$%&'*+/=?^`{|}~-]+)*")
# Domain label: letters or digits, hyphens only inside, at most 63 characters (umlaut domains allowed).
EMAIL_LABEL = re.compile(r"[^\W_](?:(?:[^\W_]|-){0,61}[^\W_])?")
EMAIL_TLD = re.compile(r"[^\W\d_]{2,63}")
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


def _check_number(text: str, label: str) -> tuple[Checked, phonenumbers.PhoneNumber | None]:
    """A German or international number in E.164; `label` is "Telefonnummer" or "Faxnummer"."""
    raw = _clean(text)
    if re.search(r"[^\d\s+()/\-.]", raw):
        example = "zum Beispiel 0221 1234567"
        return Checked(error=f"Bitte schreiben Sie die {label} nur mit Ziffern, {example}."), None
    try:
        number = phonenumbers.parse(raw, "DE")
    except phonenumbers.NumberParseException:
        return Checked(error=f"Das ist keine gültige {label}. Bitte prüfen Sie die Nummer."), None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if e164.startswith(REJECTED_GERMAN_PREFIXES) or phonenumbers.number_type(number) in REJECTED_TYPES:
        return Checked(error=SERVICE_NUMBER), None
    if not phonenumbers.is_valid_number(number):
        return Checked(error=f"Diese {label} ist zu kurz, zu lang oder ungültig. Bitte prüfen Sie sie."), None
    return Checked(value=e164), number


def check_phone(text: str) -> Checked:
    return _check_number(text, "Telefonnummer")[0]


def check_fax(text: str) -> Checked:
    """A fax number follows the rules of a phone number (the office dials it the same way)."""
    return _check_number(text, "Faxnummer")[0]


SMS_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


def check_sms_number(text: str) -> Checked:
    """An SMS reaches only a mobile number; a landline is refused with a hint."""
    checked, number = _check_number(text, "Handynummer")
    if checked.ok and phonenumbers.number_type(number) not in SMS_TYPES:
        return Checked(
            error="Eine SMS kann das Amt nur an eine Handynummer schicken, zum Beispiel 0170 1234567."
        )
    return checked


def check_reason(text: str) -> Checked:
    reason = _clean(text)
    if not reason:
        return Checked(error="Bitte schreiben Sie kurz, worum es geht.")
    if len(reason) > REASON_MAX:
        return Checked(error=f"Bitte fassen Sie Ihr Anliegen kürzer, höchstens {REASON_MAX} Zeichen.")
    return Checked(value=reason)


EMAIL_ERROR = "Das sieht nicht wie eine E-Mail-Adresse aus, zum Beispiel name@beispiel.de."


def check_email(text: str) -> Checked:
    email = unicodedata.normalize("NFC", _clean(text))
    if len(email) > EMAIL_MAX or email.count("@") != 1:
        return Checked(error=EMAIL_ERROR)
    local, domain = email.split("@")
    labels = domain.split(".")
    if (
        len(local) > EMAIL_LOCAL_MAX
        or not EMAIL_LOCAL.fullmatch(local)
        or len(labels) < 2
        or not all(EMAIL_LABEL.fullmatch(label) for label in labels[:-1])
        or not EMAIL_TLD.fullmatch(labels[-1])
    ):
        return Checked(error=EMAIL_ERROR)
    return Checked(value=email)
