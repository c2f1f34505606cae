"""Facts with their sources; the single place numbers and thresholds come from."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from knowledge.sources import Source

Value = int | str


def format_number(value: Value) -> str:
    """German thousands separator: 1140 -> '1.140'."""
    if isinstance(value, int):
        return f"{value:,}".replace(",", ".")
    return str(value)


@dataclass(frozen=True)
class FactValue:
    value: Value
    unit: str | None
    source: Source

    def text(self) -> str:
        number = format_number(self.value)
        return f"{number} {self.unit}" if self.unit else number


@dataclass(frozen=True)
class Fact:
    name: str
    current: FactValue
    superseded: tuple[FactValue, ...] = field(default=())

    @property
    def value(self) -> Value:
        return self.current.value

    @property
    def source(self) -> Source:
        return self.current.source

    def text(self) -> str:
        return self.current.text()


def merge_fact_files(parts: Iterable[tuple[str, Mapping[str, Mapping]]]) -> dict[str, Mapping]:
    """facts.yml and facts/<group>.yml as one mapping; a fact written twice is an error."""
    merged: dict[str, Mapping] = {}
    origin: dict[str, str] = {}
    for name, facts in parts:
        for key, item in (facts or {}).items():
            if key in merged:
                raise ValueError(f"Fact {key!r} is written twice: in {origin[key]} and {name}")
            merged[key], origin[key] = item, name
    return merged


def parse_facts(raw: Mapping[str, Mapping], sources: Mapping[str, Source]) -> dict[str, Fact]:
    def fact_value(item: Mapping) -> FactValue:
        return FactValue(value=item["value"], unit=item.get("unit"), source=sources[item["source"]])

    return {
        name: Fact(
            name=name,
            current=fact_value(item),
            superseded=tuple(fact_value(old) for old in item.get("superseded", [])),
        )
        for name, item in raw.items()
    }
