"""The offices responsible for the Schwerbehindertenrecht in NRW (knowledge/data/offices.yml)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from knowledge.opening_hours import OpeningHours
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
    hours_kind: str  # "office" (visits) or "telephone" (phone hours only, no visits)
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

    def field_ages(self) -> list[tuple[str, Source]]:
        """Fields whose source is older or newer than the record's, with their label."""
        return [
            (FIELD_LABELS.get(name, name), source)
            for name, source in self.field_sources.items()
            if source.date and source.date != self.source.date
        ]


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
            hours_kind=item.get("hours_kind", "office"),
            note=item.get("note"),
            source=sources[item["source"]],
            field_sources={
                name: sources[ref["source"]] for name, ref in (item.get("field_sources") or {}).items()
            },
            serves=tuple(item["serves"]),
        )
    return offices
