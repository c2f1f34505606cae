"""Sources of the facts: the seed texts and the laws, with their dates."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

GENERAL = "general"


@dataclass(frozen=True)
class Source:
    key: str
    title: str
    date: str | None
    year: int | None

    @property
    def is_general(self) -> bool:
        return self.key == GENERAL

    def citation(self) -> str:
        """German citation line, e.g. 'Stadt Köln: … (Stand: Januar 2021)'."""
        if self.is_general:
            return "allgemein gültiges Verfahren"
        return f"{self.title} (Stand: {self.date})" if self.date else self.title


def parse_sources(raw: Mapping[str, Mapping]) -> dict[str, Source]:
    return {
        key: Source(key=key, title=item["title"], date=item.get("date"), year=item.get("year"))
        for key, item in raw.items()
    }
