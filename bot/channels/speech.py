"""Chat text made speakable for a German text-to-speech voice on the phone.

The chat answers are written for reading: source lines, links, markup, abbreviations, phone numbers
in one piece. On the phone that turns into noise, so this module rewrites them as plain German
sentences; phone numbers and reference numbers are spelled digit by digit in small groups.
The two sentences of its own are in knowledge/data/texts/channels.yml (`speech.*`); the word lists
below (digits, abbreviations, Merkzeichen spelled out) are spoken-form data and stay here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

import phonenumbers

import knowledge

DIGIT_WORDS = ("null", "eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun")

WEEKDAYS = {
    "Mo": "Montag",
    "Di": "Dienstag",
    "Mi": "Mittwoch",
    "Do": "Donnerstag",
    "Fr": "Freitag",
    "Sa": "Samstag",
    "So": "Sonntag",
}
ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8, "IX": 9, "X": 10}
ROMAN |= {"XI": 11, "XII": 12, "XIII": 13, "XIV": 14}
NUMBER_WORDS = {2: "zwei", 3: "drei", 4: "vier", 5: "fünf", 6: "sechs", 7: "sieben", 8: "acht", 9: "neun"}
NUMBER_WORDS |= {1: "eins", 10: "zehn", 11: "elf", 12: "zwölf", 13: "dreizehn", 14: "vierzehn"}

# Written for the screen, said differently on the phone. Applied in this order.
REPLACEMENTS: tuple[tuple[str, str], ...] = (
    (r"\bz\.\s?B\.", "zum Beispiel"),
    (r"\bd\.\s?h\.", "das heißt"),
    (r"\bu\.\s?a\.", "unter anderem"),
    (r"\bbzw\.", "beziehungsweise"),
    (r"\busw\.(?=\s+[A-ZÄÖÜ]|\s*$)", "und so weiter."),  # the dot also ended the sentence
    (r"\busw\.", "und so weiter"),
    (r"\bggf\.", "gegebenenfalls"),
    (r"\bevtl\.", "eventuell"),
    (r"\binkl\.", "inklusive"),
    (r"\bca\.", "circa"),
    (r"\bNr\.", "Nummer"),
    (r"\bTel\.", "Telefon"),
    (r"\bStr\.", "Straße"),
    (r"\b1\.\s?Kl\.(?=\s+[A-ZÄÖÜ]|\s*$)", "erste Klasse."),  # the dot also ended the sentence
    (r"\b1\.\s?Kl\.", "erste Klasse"),
    (r"§§?", "Paragraf "),
    (r"\s*€", " Euro"),
    (r"\s*%", " Prozent"),
    (r"\bGdB\b", "G D B"),
    (r"\bKfz\b", "K F Z"),
    (r"\bTBl\b", "T B L"),
    (r"\bBl\b", "B L"),
    (r"\bGl\b", "G L"),
    (r"\baG\b", "a G"),
    # Chat wording that does not fit a call.
    (r"\bschreiben Sie mir gern wieder\b", "rufen Sie gern wieder an"),
    (r"\bWählen Sie unten aus oder schreiben Sie\b", "Sagen Sie es mir, oder sagen Sie"),
    (r"\b(Bitte|bitte) schreiben Sie\b", r"\1 sagen Sie"),
    (r"\bSchreiben Sie (mir|bitte|einfach)\b", r"Sagen Sie \1"),
    (r"\b(Postleitzahl|Wohnort|Frage) schreiben\b", r"\1 sagen"),
    (r"\bwenn Sie mir Ihren Wohnort schreiben\b", "wenn Sie mir Ihren Wohnort sagen"),
)
COMPILED = tuple((re.compile(pattern), replacement) for pattern, replacement in REPLACEMENTS)

SOURCE_LINE = re.compile(r"^\s*Quellen?\s*:", re.IGNORECASE)
MARKDOWN_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
URL = re.compile(r"(?:https?://|www\.)[^\s<>()]+?(?=[.,;:!?)]*(?:\s|$))", re.IGNORECASE)
EMAIL = re.compile(r"\b([\w.+-]+)@([\w-]+(?:\.[\w-]+)+)\b")
HTML_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
EMPHASIS = re.compile(r"(\*\*|__|\*|_|`)(\S(?:.*?\S)?)\1")
BULLET = re.compile(r"^\s*(?:[-*•·]|#{1,6}|\d+[.)])\s+")
EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\ufe0f\u200d]")
QUOTES = re.compile('[„“”"«»‚‘]')
REFERENCE = re.compile(r"\b([A-Z]{2})-([A-Z0-9]{6})\b")
PHONE = re.compile(r"(?<![\w+.,:])(?:\+49[ ]?|0)\d+(?:[ /\-]\d+)*(?![\w])")
CLOCK = re.compile(r"\b(\d{1,2}):(\d{2})(?: Uhr)?")
_DAY = "|".join(WEEKDAYS)
WEEKDAY_LIST = re.compile(rf"\b({_DAY})\b(?=:|, (?:{_DAY})\b| und (?:{_DAY})\b| bis (?:{_DAY})\b)")
SGB = re.compile(r"\bSGB ([IVX]+)\b")
ACRONYM = re.compile(r"\b[A-ZÄÖÜ]{2,4}\b")
SLASH_BETWEEN_WORDS = re.compile(r"(?<=[^\W\d])/(?=[^\W\d])")
PARENTHESES = re.compile(r"\s*\(([^()]*)\)")
MIN_PHONE_DIGITS = 6


def spoken(text: str) -> str:
    """One chat message as plain spoken German."""
    lines = [_spoken_line(line) for line in text.splitlines() if not SOURCE_LINE.match(line)]
    return _tidy(" ".join(line for line in lines if line))


def spoken_buttons(titles: Iterable[str]) -> str:
    """'Sie können zum Beispiel sagen: Antrag stellen, Wertmarke oder Amt finden.'"""
    said = [spoken(title).rstrip(".!?") for title in titles]
    said = [title for title in said if title]
    if not said:
        return ""
    listed = said[0] if len(said) == 1 else f"{', '.join(said[:-1])} oder {said[-1]}"
    return f"{knowledge.load().texts('speech.buttons_intro')} {listed}."


def spoken_message(message: dict) -> str:
    """A collected Rasa message (text and buttons) as one spoken passage."""
    parts = [spoken(message.get("text") or "")]
    titles = [button.get("title") or "" for button in message.get("buttons") or []]
    parts.append(spoken_buttons(titles))
    return " ".join(part for part in parts if part)


def spoken_phone(number: str) -> str:
    """'0221 221-30702' -> 'null zwei zwei eins, zwei zwei eins, drei null, sieben null, zwei'.

    The area code stays one group; longer groups are split into pairs, so a voice reads
    each digit and the listener can write along.
    """
    national = _national(number)
    groups = [group for group in re.split(r"[\s/\-]+", national) if group]
    said: list[str] = []
    for index, group in enumerate(groups):
        limit = 5 if index == 0 else 4
        chunks = [group] if len(group) <= limit else [group[i : i + 2] for i in range(0, len(group), 2)]
        said += [" ".join(DIGIT_WORDS[int(digit)] for digit in chunk) for chunk in chunks]
    return ", ".join(said)


def _national(number: str) -> str:
    """A German number in national form ('+492219876543' -> '0221 9876543'); others as they are."""
    compact = re.sub(r"[\s/\-]", "", number)
    if not compact.startswith("+"):
        return number.strip()
    try:
        parsed = phonenumbers.parse(compact, "DE")
    except phonenumbers.NumberParseException:
        return compact.lstrip("+")
    if parsed.country_code != 49:
        return compact.lstrip("+")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)


def _spoken_line(line: str) -> str:
    line = HTML_TAG.sub(" ", line)
    line = MARKDOWN_LINK.sub(r"\1", line)
    line = URL.sub(lambda _: _website(), line)
    line = EMAIL.sub(_spoken_email, line)
    line = BULLET.sub("", line)
    line = EMPHASIS.sub(r"\2", line)
    line = EMOJI.sub("", line)
    line = QUOTES.sub("", line)
    line = REFERENCE.sub(_spoken_reference, line)
    line = PHONE.sub(_spoken_phone_match, line)
    line = CLOCK.sub(_spoken_clock, line)
    line = WEEKDAY_LIST.sub(lambda match: WEEKDAYS[match.group(1)], line)
    line = SGB.sub(_spoken_sgb, line)
    for pattern, replacement in COMPILED:
        line = pattern.sub(replacement, line)
    line = ACRONYM.sub(lambda match: " ".join(match.group(0)), line)
    line = SLASH_BETWEEN_WORDS.sub(" oder ", line)
    line = PARENTHESES.sub(r", \1,", line)
    line = line.replace("–", ",").replace("—", ",").replace("…", ".")
    line = _tidy(line)
    if line and line[-1] not in ".!?:;,":
        line += "."
    return line


@cache
def _website() -> str:
    """What a link is said as: 'auf der Internetseite des Amtes'."""
    return knowledge.load().texts("speech.website")


@cache
def _under_website() -> re.Pattern[str]:
    return re.compile(r"\bunter " + re.escape(_website()))


def _tidy(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    text = _under_website().sub(lambda _: _website(), text)
    text = re.sub(r"\s+([,.;:!?])", r"\1", text)
    text = re.sub(r",\s*([,.;:!?])", r"\1", text)
    return text.strip(" ,;")


def _spoken_email(match: re.Match[str]) -> str:
    local, domain = match.group(1), match.group(2)
    return f"{local.replace('.', ' Punkt ')} ät {domain.replace('.', ' Punkt ')}"


def _spoken_reference(match: re.Match[str]) -> str:
    letters = " ".join(match.group(1))
    rest = " ".join(DIGIT_WORDS[int(c)] if c.isdigit() else c for c in match.group(2))
    return f"{letters}, {rest},"


def _spoken_phone_match(match: re.Match[str]) -> str:
    number = match.group(0)
    if sum(character.isdigit() for character in number) < MIN_PHONE_DIGITS:
        return number
    return spoken_phone(number) + ","


def _spoken_clock(match: re.Match[str]) -> str:
    hours, minutes = int(match.group(1)), int(match.group(2))
    return f"{hours} Uhr" if minutes == 0 else f"{hours} Uhr {minutes}"


def _spoken_sgb(match: re.Match[str]) -> str:
    number = ROMAN.get(match.group(1))
    return f"SGB {NUMBER_WORDS[number]}" if number in NUMBER_WORDS else match.group(0)
