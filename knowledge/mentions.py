"""What a message mentions besides its topic: a Merkzeichen, a GdB, the aspects of a follow-up."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

MERKZEICHEN_CODES = ("G", "aG", "H", "Bl", "TBl", "Gl", "B", "RF", "1.Kl")
_MERKZEICHEN_BY_KEY = {code.lower().replace(".", ""): code for code in MERKZEICHEN_CODES}
# Words people use instead of the code; checked after the codes themselves.
_MERKZEICHEN_WORDS = (
    (r"taubblind", "TBl"),
    (r"au(ss|ß)ergew(oe|ö)hnlich\w* geh", "aG"),
    (r"rollstuhl", "aG"),
    (r"hilflos", "H"),
    (r"\bblind", "Bl"),
    (r"geh(oe|ö)rlos", "Gl"),
    (r"begleit", "B"),
    (r"rundfunk|gez\b", "RF"),
    (r"erste[rn]? klasse|1\.? ?klasse", "1.Kl"),
    (r"gehbehind", "G"),
)


def normalize_merkzeichen(value: str) -> str | None:
    """'ag', 'AG', 'aG' -> 'aG'; '1. Kl.' -> '1.Kl'; unknown -> None."""
    key = re.sub(r"[\s.\"'„“]", "", value).lower()
    return _MERKZEICHEN_BY_KEY.get(key)


def find_merkzeichen(text: str) -> str | None:
    """The Merkzeichen a message asks about, by code ('Merkzeichen aG') or by word ('blind')."""
    text = re.sub(r"\b(z|u|d|o)\s*\.\s*(b|a|h|ä)\s*\.", " ", text, flags=re.I)  # z. B., u. a.
    codes = re.findall(r"(?<![\w.])(1\s*\.?\s*kl\.?|tbl|ag|bl|gl|rf|g|h|b)(?![\w])", text, re.I)
    for raw in codes:
        code = normalize_merkzeichen(raw)
        if code and (len(raw) > 1 or _single_letter_is_code(raw, text)):
            return code
    lowered = text.lower()
    for pattern, code in _MERKZEICHEN_WORDS:
        if re.search(pattern, lowered):
            return code
    return None


def _single_letter_is_code(letter: str, text: str) -> bool:
    """A lone 'G', 'H' or 'B' counts as a capital, or lower case right after a cue word."""
    cue = r"(merkzeichen|zeichen|buchstabe|bedeutet|hei(ss|ß)t|mit|das|ein|kein|nur)"
    return letter.isupper() or bool(re.search(rf"\b{cue}\s*[\"'„]?{letter}\b", text, re.I))


def find_gdb(text: str, allowed: Sequence[int]) -> int | None:
    """A GdB value named in the message ('GdB 50', 'grad 70'), if it is one that exists."""
    for match in re.findall(r"(?<!\d)(\d{2,3})(?!\d)", text):
        if int(match) in allowed:
            return int(match)
    return None


@dataclass(frozen=True)
class FollowUps:
    """Recognises "und was kostet das?": short, pointing back, asking for an aspect."""

    anaphora: re.Pattern[str]
    max_words: int
    aspects: Mapping[str, re.Pattern[str]]
    pointer: re.Pattern[str]
    pointer_max_words: int

    @classmethod
    def parse(cls, raw: Mapping) -> FollowUps:
        return cls(
            anaphora=re.compile(raw["anaphora"]),
            max_words=int(raw["max_words"]),
            aspects={name: re.compile(pattern) for name, pattern in raw["aspects"].items()},
            pointer=re.compile(raw["pointer"]),
            pointer_max_words=int(raw["pointer_max_words"]),
        )

    def points_back(self, text: str) -> bool:
        """ "und ab wann gilt das dann?": so short and so clearly about the previous answer that
        it stays with it, however sure the classifier is of another topic."""
        lowered = text.lower()
        return len(lowered.split()) <= self.pointer_max_words and bool(self.pointer.search(lowered))

    def is_follow_up(self, text: str) -> bool:
        lowered = text.lower()
        return len(lowered.split()) <= self.max_words and bool(self.anaphora.search(lowered))

    def aspects_of(self, text: str) -> list[str]:
        lowered = text.lower()
        return [name for name, pattern in self.aspects.items() if pattern.search(lowered)]


# Forms of the verbs a closed question starts with, by the form the card questions use.
_QUESTION_VERBS = {
    "kann": ("kann", "kannst", "koennen", "können", "koennte", "könnte", "geht", "gehts"),
    "darf": ("darf", "darfst", "duerfen", "dürfen"),
    "muss": ("muss", "musst", "muessen", "müssen", "muß"),
    "gibt": ("gibt", "gibts"),
    "gilt": ("gilt", "gelten"),
    "bekomme": ("bekomme", "bekommt", "bekommen", "krieg", "kriege", "kriegt", "erhalte", "erhält"),
    "brauche": ("brauch", "brauche", "braucht", "brauchen"),
    "ist": ("ist", "sind"),
    "habe": ("hab", "habe", "hat", "haben"),
}
_VERB_CLASS = {form: verb for verb, forms in _QUESTION_VERBS.items() for form in forms}
_LEADING_FILLERS = {"und", "aber", "also", "hallo", "moin", "ok", "okay", "gut", "achso", "ach", "so"}
_OPEN_QUESTION_WORDS = {
    "wie", "was", "wo", "wann", "wer", "wen", "wem", "welche", "welcher", "welches", "welchen",
    "warum", "wieso", "weshalb", "wohin", "woher", "wozu", "wieviel", "wieviele", "ab", "bis", "seit",
}  # fmt: skip
_NEGATION = re.compile(r"\b(nicht|kein\w*|nie)\b", re.I)
_SENTENCE = re.compile(r"[^.!?]*\?")


def closed_question_verb(text: str) -> str | None:
    """ "Kann ich das auch am Telefon machen?" -> "kann": the verb a yes/no question starts with
    (in its usual form), or None for open, negated or no questions."""
    for sentence in _SENTENCE.findall(text):
        words = [word.strip(",;:-").lower() for word in sentence.split()]
        words = [word for word in words if word]
        while words and words[0] in _LEADING_FILLERS:
            words.pop(0)
        if words and not _NEGATION.search(sentence):
            first = words[0].rstrip("?")
            if first.isalpha() and first not in _OPEN_QUESTION_WORDS:
                return _VERB_CLASS.get(first, first)
            return None
    return None
