"""German answers about offices: who is responsible, how to reach them, when they are open."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from knowledge.offices import Office
from knowledge.places import Place, PlaceKind


class OfficeQuestion(str, Enum):
    RESPONSIBLE = "responsible_office"
    CONTACT = "contact"
    HOURS = "opening_hours"


ASK_FOR_PLACE = (
    "Das hängt von Ihrem Wohnort ab. In welcher Stadt oder Gemeinde wohnen Sie? "
    "Sie können auch Ihre Postleitzahl schreiben."
)
UNKNOWN_PLACE = (
    "Diesen Ort finde ich leider nicht in Nordrhein-Westfalen. "
    "Bitte schreiben Sie Ihre Stadt oder Gemeinde oder Ihre Postleitzahl, "
    "zum Beispiel „Bocholt“ oder „46395“."
)
ASK_PLACE_FOR_PHONE = (
    "Ich nenne Ihnen gern die Telefonnummer Ihres Amtes, wenn Sie mir Ihren Wohnort schreiben."
)
BUERGERBUERO_HINT = "Antragsformulare gibt es oft auch im Bürgerbüro Ihrer Stadt oder Gemeinde."


def phone_text(office: Office | None) -> str:
    """How to reach the office by phone; without an office, how to find out which one it is."""
    if office is None:
        return ASK_PLACE_FOR_PHONE
    return f"Sie erreichen {office.name} unter {' oder '.join(office.phones)}."


def outside_nrw_text(matched: str) -> str:
    shown = matched if matched.isdigit() else matched.title()
    return (
        f"„{shown}“ liegt nicht in Nordrhein-Westfalen. "
        "Zuständig ist dann die Stelle für Schwerbehindertenrecht in Ihrem Bundesland, "
        "meist das Versorgungsamt. "
        "Ich kenne nur die Ämter in NRW."
    )


def ambiguous_text(name: str) -> str:
    return f"„{name}“ gibt es mehrmals. Welchen Ort meinen Sie?"


def office_text(office: Office, place: Place, question: OfficeQuestion, now: datetime) -> str:
    """The answer for a known place, with honesty about the age of the data."""
    if question is OfficeQuestion.HOURS:
        body = f"{office.name}, {office.address}.\n{office.hours_text(now)}\nTelefon: {office.main_phone}."
    elif question is OfficeQuestion.CONTACT:
        body = office.contact_text()
    else:
        body = f"Für {place.label()} ist zuständig:\n{office.contact_text()}"
        if office.opening_hours is not None:
            body += "\n" + office.hours_text(now)
        if place.kind is PlaceKind.MUNICIPALITY and not place.kreisfrei:
            body += "\n" + BUERGERBUERO_HINT
    return f"{body}\n{office.data_age_text()}"
