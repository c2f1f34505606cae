"""Every German sentence the assistant says that is not an answer card: knowledge/data/texts.yml.

Chat, Telegram and the telephone read the same texts, so an editor changes wording in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Texts:
    entries: Mapping[str, str]

    def __call__(self, key: str, **values: Any) -> str:
        """The text `key` ("office.ask_place") with its {placeholders} filled."""
        return self.entries[key].format(**values) if values else self.entries[key]

    def __contains__(self, key: str) -> bool:
        return key in self.entries


def parse_texts(raw: Mapping[str, Any], prefix: str = "") -> Texts:
    """Nested YAML mappings become dotted keys; folded strings lose their line breaks."""
    entries: dict[str, str] = {}
    for key, value in raw.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            entries.update(parse_texts(value, f"{name}.").entries)
        else:
            entries[name] = " ".join(str(value).split(" ")).strip()
    return Texts(entries)
