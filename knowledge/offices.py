"""The offices responsible for the Schwerbehindertenrecht and how to describe them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from knowledge.opening_hours import OpeningHours, status_text
from knowledge.sources import Source

FIELD_LABELS = {"phones": "Telefon", "email": "E-Mail", "fax": "Fax", "opening_hours": "Öffnungszeiten"}


@dataclass(frozen=True)
class Office:
    id: str
    name: str
    street: str
    postcode: str
    city: str
    phones: tuple[str, ...]
    email: str | None
    fax: str | None
    opening_hours: OpeningHours | None
    note: str | None
    source: Source
    field_sources: Mapping[str, Source]
    serves: tuple[str, ...]

    @property
    def address(self) -> str:
        return f"{self.street}, {self.postcode} {self.city}"

    @property
    def main_phone(self) -> str:
        return self.phones[0]

    def contact_text(self) -> str:
        lines = [f"{self.name}, {self.address}.", f"Telefon: {' oder '.join(self.phones)}."]
        if self.email:
            lines.append(f"E-Mail: {self.email}")
        if self.note:
            lines.append(self.note)
        return "\n".join(lines)

    def hours_text(self, now: datetime) -> str:
        if self.opening_hours is None:
            return (
                "Die Öffnungszeiten dieses Amtes liegen mir nicht vor. "
                f"Bitte fragen Sie telefonisch nach: {self.main_phone}."
            )
        return f"Öffnungszeiten: {self.opening_hours.week_text()}.\n{status_text(self.opening_hours, now)}"

    def data_age_text(self) -> str:
        """Honesty about age: 'Stand der Angaben: Januar 2021; Telefon: 2020 oder später'."""
        parts = [self.source.date or "unbekannt"]
        for field_name, source in self.field_sources.items():
            if source.date and source.date != self.source.date:
                parts.append(f"{FIELD_LABELS.get(field_name, field_name)}: {source.date}")
        return f"Stand der Angaben: {'; '.join(parts)}."


def parse_offices(raw: list[Mapping], sources: Mapping[str, Source]) -> dict[str, Office]:
    offices = {}
    for item in raw:
        hours = item.get("opening_hours")
        offices[item["id"]] = Office(
            id=item["id"],
            name=item["name"],
            street=item["street"],
            postcode=str(item["postcode"]),
            city=item["city"],
            phones=tuple(item["phones"]),
            email=item.get("email"),
            fax=item.get("fax"),
            opening_hours=OpeningHours.parse(hours) if hours else None,
            note=item.get("note"),
            source=sources[item["source"]],
            field_sources={
                name: sources[ref["source"]] for name, ref in (item.get("field_sources") or {}).items()
            },
            serves=tuple(item["serves"]),
        )
    return offices
