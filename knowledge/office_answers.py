"""German answers about offices: who is responsible, how to reach them, when they are open."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from knowledge.offices import Office
from knowledge.opening_hours import OpeningHours, describe_moment, format_time
from knowledge.places import Place, PlaceKind
from knowledge.texts import Texts


class OfficeQuestion(str, Enum):
    RESPONSIBLE = "responsible_office"
    CONTACT = "contact"
    HOURS = "opening_hours"


def phones(office: Office) -> str:
    return " oder ".join(office.phones)


def phone_text(texts: Texts, office: Office | None) -> str:
    """How to reach the office by phone; without an office, how to find out which one it is."""
    if office is None:
        return texts("office.ask_place_for_phone")
    return texts("office.phone", office=office.name, phones=phones(office))


def status_text(texts: Texts, office: Office, now: datetime) -> str:
    """Open now (or reachable by phone now), and when it opens next."""
    hours = office.opening_hours
    assert hours is not None
    by_phone = office.hours_kind == "telephone"
    status = hours.status(now)
    if status.is_open and status.closes_at:
        key = "opening_hours.reachable_now" if by_phone else "opening_hours.open_now"
        return texts(key, until=format_time(status.closes_at.time()))
    parts = [texts("opening_hours.holiday", name=status.holiday)] if status.holiday else []
    parts.append(texts("opening_hours.unreachable_now" if by_phone else "opening_hours.closed_now"))
    if status.next_opening is not None:
        key = "opening_hours.next_reachable" if by_phone else "opening_hours.next_opening"
        parts.append(texts(key, moment=describe_moment(status.next_opening, now)))
    return " ".join(parts)


def hours_text(texts: Texts, office: Office, now: datetime) -> str:
    hours: OpeningHours | None = office.opening_hours
    if hours is None:
        return texts("office.no_hours", phone=office.main_phone)
    key = "office.phone_hours" if office.hours_kind == "telephone" else "office.hours"
    return f"{texts(key, week=hours.week_text())}\n{status_text(texts, office, now)}"


def contact_text(texts: Texts, office: Office) -> str:
    lines = [f"{office.name}, {office.address}.", f"Telefon: {phones(office)}."]
    if office.fax:
        lines.append(f"Fax: {office.fax}")
    if office.email:
        lines.append(f"E-Mail: {office.email}")
    if office.note:
        lines.append(office.note)
    return "\n".join(lines)


def data_age_text(texts: Texts, office: Office) -> str:
    """Honesty about age: 'Stand der Angaben: 2025 oder später; Telefon: 2020 oder später'."""
    parts = [office.source.date or texts("office.unknown_age")]
    for label, source in office.field_ages():
        parts.append(f"{label}: {source.date}")
    return texts("office.data_age", ages="; ".join(parts))


def office_text(texts: Texts, office: Office, place: Place, question: OfficeQuestion, now: datetime) -> str:
    """The answer for a known place."""
    if question is OfficeQuestion.HOURS:
        body = (
            f"{office.name}, {office.address}.\n{hours_text(texts, office, now)}\nTelefon: {phones(office)}."
        )
    elif question is OfficeQuestion.CONTACT:
        body = contact_text(texts, office)
        if office.opening_hours is not None:
            body += "\n" + hours_text(texts, office, now)
    else:
        body = f"{texts('office.responsible', place=place.label())}\n{contact_text(texts, office)}"
        if office.opening_hours is not None:
            body += "\n" + hours_text(texts, office, now)
        if place.kind is PlaceKind.MUNICIPALITY and not place.kreisfrei:
            body += "\n" + texts("office.buergerbuero")
    return f"{body}\n{data_age_text(texts, office)}"
