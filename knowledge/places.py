"""Resolve what people type (town, postcode, district, Kreis, a sentence) to NRW places."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum

from rapidfuzz import fuzz, process

MAX_SPAN_TOKENS = 4
POSTCODE = re.compile(r"(?<!\d)(\d{5})(?!\d)")
QUALIFIER = re.compile(r"\s*(\([^)]*\)|/\s*\w+)\s*$")  # "Halle (Westf.)", "Fröndenberg/Ruhr"


class PlaceKind(str, Enum):
    MUNICIPALITY = "municipality"
    DISTRICT = "district"
    KREIS = "kreis"


class Outcome(str, Enum):
    FOUND = "found"
    AMBIGUOUS = "ambiguous"
    OUTSIDE_NRW = "outside_nrw"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Place:
    name: str
    kind: PlaceKind
    kreis_key: str
    municipality: str | None = None
    kreisfrei: bool = False

    def label(self) -> str:
        """What the person sees, e.g. 'Porz (Köln)' or 'Kreis Kleve'."""
        if self.kind is PlaceKind.DISTRICT and self.municipality:
            return f"{self.name} ({self.municipality})"
        return self.name


@dataclass(frozen=True)
class Resolution:
    outcome: Outcome
    places: tuple[Place, ...] = field(default=())
    matched: str | None = None
    method: str | None = None

    @property
    def place(self) -> Place | None:
        return self.places[0] if self.outcome is Outcome.FOUND else None


def normalize(text: str) -> str:
    """Lower case, umlauts as ae/oe/ue, ß as ss, no accents or punctuation, 'St.' as 'sankt'."""
    text = text.lower().replace("ß", "ss")
    for umlaut, plain in (("ä", "ae"), ("ö", "oe"), ("ü", "ue")):
        text = text.replace(umlaut, plain)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(char for char in text if not unicodedata.combining(char))
    text = re.sub(r"\bst\.\s*", "sankt ", text)
    text = re.sub(r"\ba\.\s*d\.\s*", "an der ", text)
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def name_variants(name: str) -> set[str]:
    """Spellings people use for an official name: without 'Bad', without 'an der Ruhr', …"""
    full = normalize(name)
    variants = {full, normalize(QUALIFIER.sub("", name))}
    short = re.split(r" (?:an der|am|an|im) ", full)[0]
    variants.add(short)
    if full.startswith("bad ") and len(full) > 8:
        variants.add(full[4:])
    return {variant for variant in variants if variant}


class PlaceIndex:
    """Exact names, postcodes and fuzzy matching over all places of NRW."""

    def __init__(
        self,
        places: Iterable[tuple[str, Place]],
        postcodes: dict[str, tuple[Place, ...]],
        outside_nrw: Iterable[str],
        word_like: Iterable[str],
        context_words: Iterable[str],
        common_words: Iterable[str],
        fuzzy_threshold: float,
    ) -> None:
        self._by_name: dict[str, list[Place]] = {}
        for spelling, place in places:
            bucket = self._by_name.setdefault(normalize(spelling), [])
            if place not in bucket:
                bucket.append(place)
        self._postcodes = postcodes
        self._outside = {normalize(name) for name in outside_nrw}
        self._word_like = {normalize(word) for word in word_like}
        self._context = {normalize(word) for word in context_words}
        self._common = {normalize(word) for word in common_words} - set(self._by_name)
        # Districts are matched exactly only: many are short village names close to ordinary words.
        self._fuzzy_names = [
            name
            for name, bucket in self._by_name.items()
            if len(name) >= 4
            and name not in self._word_like
            and any(place.kind is not PlaceKind.DISTRICT for place in bucket)
        ]
        self.fuzzy_threshold = fuzzy_threshold

    def resolve(self, text: str) -> Resolution:
        codes = POSTCODE.findall(text)
        if codes:
            return self._resolve_postcode(codes[-1])
        tokens = normalize(text).split()
        if not tokens:
            return Resolution(Outcome.UNKNOWN)
        return self._resolve_exact(tokens) or self._resolve_fuzzy(tokens) or Resolution(Outcome.UNKNOWN)

    def _resolve_postcode(self, code: str) -> Resolution:
        places = self._postcodes.get(code)
        if not places:
            return Resolution(Outcome.OUTSIDE_NRW, matched=code, method="postcode")
        return _found_or_ambiguous(places, code, "postcode")

    def _resolve_exact(self, tokens: list[str]) -> Resolution | None:
        """Longest known name in the text; the last mention wins ('jetzt in Hagen')."""
        best: tuple[int, str, str] | None = None  # (end position, span, kind)
        position = 0
        while position < len(tokens):
            for size in range(min(MAX_SPAN_TOKENS, len(tokens) - position), 0, -1):
                span = " ".join(tokens[position : position + size])
                kind = self._span_kind(span, tokens, position, size)
                if kind:
                    best = (position + size, span, kind)
                    position += size - 1
                    break
            position += 1
        if best is None:
            return None
        _, span, kind = best
        if kind == "outside":
            return Resolution(Outcome.OUTSIDE_NRW, matched=span, method="exact")
        return _found_or_ambiguous(self._by_name[span], span, "exact")

    def _span_kind(self, span: str, tokens: list[str], position: int, size: int) -> str | None:
        if span in self._outside:
            return "outside"
        if span not in self._by_name:
            return None
        if span in self._word_like and len(tokens) > size:
            preceding = tokens[position - 1] if position > 0 else ""
            if preceding not in self._context:
                return None
        return "place"

    def _resolve_fuzzy(self, tokens: list[str]) -> Resolution | None:
        spans = {
            " ".join(tokens[start : start + size])
            for size in range(1, 4)
            for start in range(len(tokens) - size + 1)
        }
        candidates = [
            span
            for span in spans
            if span not in self._by_name
            and all(len(token) >= 4 and token not in self._common for token in span.split())
        ]
        best: tuple[float, str, str] | None = None
        for span in candidates:
            match = process.extractOne(
                span, self._fuzzy_names, scorer=fuzz.ratio, score_cutoff=self.fuzzy_threshold
            )
            if match and (best is None or match[1] > best[0]):
                best = (match[1], match[0], span)
        if best is None:
            return None
        _, name, span = best
        return _found_or_ambiguous(self._by_name[name], span, "fuzzy")


def _found_or_ambiguous(places: Iterable[Place], matched: str, method: str) -> Resolution:
    distinct = tuple(dict.fromkeys(places))
    outcome = Outcome.FOUND if len(distinct) == 1 else Outcome.AMBIGUOUS
    return Resolution(outcome, distinct, matched, method)
