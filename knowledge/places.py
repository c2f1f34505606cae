"""Resolve what people type (town, postcode, district, Kreis, a sentence) to places.

NRW places lead to an office; places elsewhere in Germany and just across the border are
recognised as such, so that no NRW office is ever given for them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import Enum

from rapidfuzz import fuzz, process

MAX_SPAN_TOKENS = 5
FUZZY_ELSEWHERE_THRESHOLD = 92.0
PLACE_PREPOSITIONS = ("in", "aus", "nach", "bei")
NEAR_WORDS = ("bei", "nahe", "naehe", "neben", "nähe")
REGION_WORDS = ("im", "am", "an")
# "ich wohne in Kamen, ist Dortmund zuständig?": where the person lives beats a later town
RESIDENCE_WORDS = ("wohne", "wohn", "wohnen", "wohnt", "lebe", "leben", "lebt")
CONNECTIVE_WORDS = ("an", "der", "dem", "den", "die", "im", "am", "in", "bei")
KNOWN_TOWN_POPULATION = 10_000
POSTCODE = re.compile(r"(?<![\d.,])(\d{5})(?![\d.,]?\d)")
QUALIFIER = re.compile(r"\s*(\([^)]*\)|/\s*\w+)\s*$")  # "Halle (Westf.)", "Fröndenberg/Ruhr"
WORD = re.compile(r"[^\W_]+(?:\.(?=\s*[^\W\d_]))?", re.UNICODE)
# Short forms people write; expanded token by token so that offsets stay right.
EXPANSIONS = {"st": ("sankt",), "a": ("an",), "d": ("der",), "i": ("im",)}
UNDOTTED_EXPANSIONS = {"st"}  # a word of its own only as "Sankt"


class PlaceKind(str, Enum):
    MUNICIPALITY = "municipality"
    DISTRICT = "district"
    KREIS = "kreis"


class Outcome(str, Enum):
    FOUND = "found"
    AMBIGUOUS = "ambiguous"
    OUTSIDE_NRW = "outside_nrw"
    ABROAD = "abroad"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Place:
    """A place in NRW; `key` identifies it in entities and slots ("m:05154032")."""

    name: str
    kind: PlaceKind
    kreis_key: str
    municipality: str | None = None
    kreisfrei: bool = False
    ags: str | None = None

    @property
    def key(self) -> str:
        if self.kind is PlaceKind.KREIS:
            return f"k:{self.kreis_key}"
        if self.kind is PlaceKind.DISTRICT:
            return f"d:{self.ags}:{normalize(self.name)}"
        return f"m:{self.ags}"

    def label(self) -> str:
        """What the person sees, e.g. 'Porz (Köln)' or 'Kreis Kleve'."""
        if self.kind is PlaceKind.DISTRICT and self.municipality:
            return f"{self.name} ({self.municipality})"
        return self.name


@dataclass(frozen=True)
class Resolution:
    """What was understood. `region` names the state or country of a place outside NRW;
    `span` is where in the original text the place was found (start, end)."""

    outcome: Outcome
    places: tuple[Place, ...] = field(default=())
    matched: str | None = None
    method: str | None = None
    region: str | None = None
    span: tuple[int, int] | None = None

    @property
    def place(self) -> Place | None:
        return self.places[0] if self.outcome is Outcome.FOUND else None


@dataclass(frozen=True)
class Token:
    text: str  # normalised
    start: int
    end: int


@dataclass(frozen=True)
class Elsewhere:
    """A place that is not in NRW: a German municipality (region = its state) or abroad."""

    name: str
    region: str
    abroad: bool = False


def normalize(text: str) -> str:
    """Lower case, umlauts as ae/oe/ue, ß as ss, no accents or punctuation, 'St.' as 'sankt'."""
    return " ".join(token.text for token in tokenize(text))


def _fold(word: str) -> str:
    word = word.lower().replace("ß", "ss")
    for umlaut, plain in (("ä", "ae"), ("ö", "oe"), ("ü", "ue")):
        word = word.replace(umlaut, plain)
    word = unicodedata.normalize("NFKD", word)
    return "".join(char for char in word if not unicodedata.combining(char) and char.isalnum())


def tokenize(text: str) -> list[Token]:
    """Normalised word tokens with their character offsets in `text`."""
    tokens: list[Token] = []
    for match in WORD.finditer(text):
        raw = match.group()
        folded = _fold(raw)
        if not folded:
            continue
        abbreviated = raw.endswith(".") or folded in UNDOTTED_EXPANSIONS  # "St Augustin"
        for part in EXPANSIONS.get(folded, (folded,)) if abbreviated else (folded,):
            tokens.append(Token(part, match.start(), match.end()))
    return tokens


def name_variants(name: str) -> set[str]:
    """Spellings people use for an official name: without 'Bad', without 'an der Ruhr', …"""
    full = normalize(name)
    variants = {full, normalize(QUALIFIER.sub("", name))}
    variants.add(re.split(r" (?:an der|am|an|im|in der|ob der) ", full)[0])
    if full.startswith("bad ") and len(full) > 8:
        variants.add(full[4:])
    return {variant for variant in variants if variant}


class PlaceIndex:
    """Exact names, postcodes and fuzzy matching over the places of NRW and beyond."""

    def __init__(
        self,
        places: Iterable[tuple[str, Place]],
        postcodes: Mapping[str, tuple[Place, ...]],
        elsewhere: Iterable[tuple[str, Elsewhere]],
        elsewhere_postcodes: Mapping[str, str],
        fuzzy_elsewhere: Iterable[str],
        populations: Mapping[str, int],
        word_like: Iterable[str],
        context_words: Iterable[str],
        common_words: Iterable[str],
        filler_words: Iterable[str],
        fuzzy_threshold: float,
        frequent_words: Iterable[str] = (),
    ) -> None:
        self._by_name: dict[str, list[Place]] = {}
        self._by_key: dict[str, Place] = {}
        for spelling, place in places:
            bucket = self._by_name.setdefault(normalize(spelling), [])
            if place not in bucket:
                bucket.append(place)
            self._by_key[place.key] = place
        for bucket in postcodes.values():
            self._by_key.update((place.key, place) for place in bucket)
        self._postcodes = dict(postcodes)
        self._elsewhere: dict[str, list[Elsewhere]] = {}
        for spelling, other in elsewhere:
            name = normalize(spelling)
            if name in self._by_name:  # a name NRW has too means the NRW place
                continue
            bucket = self._elsewhere.setdefault(name, [])
            if other not in bucket:
                bucket.append(other)
        self._elsewhere_postcodes = dict(elsewhere_postcodes)
        self._word_like = {normalize(word) for word in word_like}
        self._context = {normalize(word) for word in context_words}
        self._filler = {normalize(word) for word in filler_words}
        common = {normalize(word) for word in common_words}
        self._common = common - set(self._by_name)
        # Names elsewhere that are everyday words or very short ("Meine", "Bescheid", "Au") count
        # only right after "in", "aus", ... in a message that says nothing else: "für meine Mutter"
        # and "Bescheid" alone are not towns in Niedersachsen and Rheinland-Pfalz.
        sizes: dict[str, int] = {}
        for name, size in populations.items():
            sizes[normalize(name)] = max(size, sizes.get(normalize(name), 0))
        frequent = set(frequent_words)
        wordy = {name for name in self._elsewhere if name in frequent or len(name) < 4}
        self._whole_only = {name for name in wordy if sizes.get(name, 0) < KNOWN_TOWN_POPULATION}
        self._word_like |= wordy - self._whole_only  # "Hof": a town of 45,000, and a yard
        # Districts are matched exactly only: many are short village names close to ordinary words.
        self._fuzzy_names = [
            name
            for name, bucket in self._by_name.items()
            if len(name) >= 4
            and name not in self._word_like
            and any(place.kind is not PlaceKind.DISTRICT for place in bucket)
        ]
        # Big towns elsewhere, with typos, but stricter: "schwerbi" must not become Schwerin.
        self._fuzzy_elsewhere = [
            name for name in map(normalize, fuzzy_elsewhere) if name in self._elsewhere and len(name) >= 5
        ]
        self.fuzzy_threshold = fuzzy_threshold

    def place(self, key: str) -> Place | None:
        return self._by_key.get(key)

    def resolve(self, text: str) -> Resolution:
        tokens = tokenize(text)
        codes = list(POSTCODE.finditer(text))
        if codes:
            found = self._resolve_postcode(codes[-1].group(1), codes[-1].span(1))
            if found is not None and found.outcome is Outcome.AMBIGUOUS:
                named = self._resolve_exact(tokens) if tokens else None  # "52538 Gangelt"
                if named is not None and named.outcome is Outcome.FOUND and named.place in found.places:
                    return named
            if found is not None:
                return found
        if not tokens:
            return Resolution(Outcome.UNKNOWN)
        return self._resolve_exact(tokens) or self._resolve_fuzzy(tokens) or Resolution(Outcome.UNKNOWN)

    def only_place(self, text: str, resolution: Resolution) -> bool:
        """The message is a place and nothing else ("Issum", "ich wohne in 47533 Kleve")."""
        if resolution.span is None:
            return False
        start, end = resolution.span
        rest = tokenize(text[:start] + " " + text[end:])
        return all(token.text in self._filler or token.text in _spelled(resolution) for token in rest)

    def _resolve_postcode(self, code: str, span: tuple[int, int]) -> Resolution | None:
        places = self._postcodes.get(code)
        if places:
            return _found_or_ambiguous(places, code, "postcode", span)
        state = self._elsewhere_postcodes.get(code)
        if state:
            return Resolution(Outcome.OUTSIDE_NRW, matched=code, method="postcode", region=state, span=span)
        return None

    def _resolve_exact(self, tokens: list[Token]) -> Resolution | None:
        """Longest known name in the text; the last mention wins ('jetzt in Hagen'), except a
        landmark after 'bei' ('Wachtberg bei Bonn' is Wachtberg)."""
        found: list[tuple[str, int, int]] = []  # (name, first token, last token + 1)
        position = 0
        while position < len(tokens):
            for size in range(min(MAX_SPAN_TOKENS, len(tokens) - position), 0, -1):
                span = " ".join(token.text for token in tokens[position : position + size])
                if self._counts(span, tokens, position, size):
                    found.append((span, position, position + size))
                    position += size - 1
                    break
            position += 1
        if not found:
            return None
        best = found[-1]
        lives = [item for item in found if _after_residence_word(tokens, item[1])]
        between = tokens[lives[-1][2] : best[1]] if lives else []
        if (
            lives
            and not _after_residence_word(tokens, best[1])
            and not all(token.text in CONNECTIVE_WORDS for token in between)
            and tokens[best[1] - 1].text not in REGION_WORDS
        ):
            # not "Velbert-Langenberg" or "Betzdorf an der Sieg im Westerwald": one place in several words
            best = lives[-1]
        elif len(found) > 1 and best[1] > 0:
            before = tokens[best[1] - 1].text
            # "Wenden im Sauerland": the region right after a town only says where the town is.
            right_after = before in REGION_WORDS and found[-2][2] == best[1] - 1
            if before in NEAR_WORDS or right_after:
                best = found[-2]
        name, first, last = best
        span = (tokens[first].start, tokens[last - 1].end)
        resolution = self._resolution(name, "exact", span)
        if resolution.outcome is Outcome.AMBIGUOUS:  # "Dortmund-Wickede": the town named with it
            named = {other for other, *_ in found if other != name}
            within = tuple(
                p for p in resolution.places if p.municipality and normalize(p.municipality) in named
            )
            if len(within) == 1:
                return replace(resolution, outcome=Outcome.FOUND, places=within)
        return resolution

    def _counts(self, span: str, tokens: list[Token], position: int, size: int) -> bool:
        if span not in self._by_name and span not in self._elsewhere:
            return False
        if span in self._whole_only and span not in self._by_name:
            others = tokens[:position] + tokens[position + size :]
            preceding = tokens[position - 1].text if position > 0 else None
            return all(t.text in self._filler for t in others) and preceding in PLACE_PREPOSITIONS
        if span in self._word_like and len(tokens) > size:
            preceding = tokens[position - 1].text if position > 0 else ""
            return preceding in self._context
        return True

    def _resolution(self, name: str, method: str, span: tuple[int, int]) -> Resolution:
        if name in self._by_name:
            return _found_or_ambiguous(self._by_name[name], name, method, span)
        others = self._elsewhere[name]
        outcome = Outcome.ABROAD if others[0].abroad else Outcome.OUTSIDE_NRW
        regions = ", ".join(dict.fromkeys(other.region for other in others))
        return Resolution(outcome, matched=others[0].name, method=method, region=regions, span=span)

    def _resolve_fuzzy(self, tokens: list[Token]) -> Resolution | None:
        candidates: dict[str, tuple[int, int]] = {}
        for size in range(1, 4):
            for start in range(len(tokens) - size + 1):
                window = tokens[start : start + size]
                span = " ".join(token.text for token in window)
                if span in self._by_name or span in self._elsewhere:
                    continue
                long_enough = all(len(token.text) >= 4 for token in window)
                # "Bergisch Gladbch": one rare word is enough for a span of several words
                if long_enough and any(token.text not in self._common for token in window):
                    candidates[span] = (window[0].start, window[-1].end)
        best: tuple[float, str, tuple[int, int]] | None = None
        pools = (
            (self._fuzzy_names, self.fuzzy_threshold),
            (self._fuzzy_elsewhere, FUZZY_ELSEWHERE_THRESHOLD),
        )
        for span, offsets in candidates.items():
            for names, cutoff in pools:
                matches = process.extract(span, names, scorer=fuzz.ratio, score_cutoff=cutoff, limit=3)
                # People misspell the middle of a name, not its first letter ("gebüren" is no Büren).
                match = next((m for m in matches if m[0][0] == span[0]), None)
                if match and (best is None or match[1] > best[0]):
                    best = (match[1], match[0], offsets)
        if best is None:
            return None
        _, name, offsets = best
        return self._resolution(name, "fuzzy", offsets)


def _spelled(resolution: Resolution) -> set[str]:
    """Words of the place's own names, so that "Kleve, Kreis Kleve" still counts as only a place."""
    words: set[str] = set()
    for place in resolution.places:
        words.update(normalize(place.label()).split())
        if place.municipality:
            words.update(normalize(place.municipality).split())
    return words


def _found_or_ambiguous(
    places: Iterable[Place], matched: str, method: str, span: tuple[int, int]
) -> Resolution:
    distinct = tuple(dict.fromkeys(places))
    outcome = Outcome.FOUND if len(distinct) == 1 else Outcome.AMBIGUOUS
    return Resolution(outcome, distinct, matched, method, span=span)


def _after_residence_word(tokens: list[Token], position: int) -> bool:
    """ "wohne in Kamen", "wohn in Witten": a place word after a word for living there."""
    return (
        position >= 2 and tokens[position - 1].text == "in" and tokens[position - 2].text in RESIDENCE_WORDS
    )
