"""Find the callback fields in one message, whatever the form just asked for.

People answer "Wie heißen Sie?" with "Maria Kaya, Tel 0211 445566" and start with everything in
one message. `extract` returns every field it recognises; the form decides what to use. Only the
field the form asked for (`expecting`) is read leniently; all others need a clear cue.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from phonenumbers import Leniency, PhoneNumberMatcher

from callbacks.validation import check_email, check_fax, check_name, check_phone, check_reason

EXPECTING = frozenset({"name", "phone", "contact", "reason", "preferred_time", "place"})
Span = tuple[int, int]


@dataclass(frozen=True)
class Extracted:
    name: str | None = None
    phone: str | None = None  # E.164, valid, no service number
    phone_error: str | None = None  # German message: a number was found but cannot be used
    email: str | None = None
    fax: str | None = None  # E.164, validated like a phone number
    wants_sms: bool = False
    cannot_phone: bool = False
    preferred_time: str | None = None
    reason: str | None = None
    rest: str = ""  # the message without what was recognised


# --- words -------------------------------------------------------------------------------------


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


PARTICLES = _words("""von van de der den del della di da du dos la le ter ten zu zur vom al el bin ibn y""")
HONORIFICS = frozenset({"frau", "herr", "herrn"})
# Function words: a name stops before them ("ich heiße Maria Kaya und wohne in Köln").
STOP_WORDS = _words(
    """und oder aber sondern ich mich mir mein meine meinen meinem meiner meines du sie ihr ihre ihren
    ihrem ihrer er es wir uns unser unsere unseren bin bist ist sind war wäre habe hab hat haben
    hätte wird werde wurde möchte möchten würde würden kann könnte können muss darf soll will
    brauche bräuchte benötige gerne gern bitte danke dank vielen ja jo jep nein nee nö nicht kein
    keine keinen keiner einen eine ein einem einer der die das den dem des dass im in am an auf aus
    bei mit nach von vom zu zum zur für über unter um wegen seit bis ab hier da dort noch schon auch
    nur so wie was wann wo warum wieso wer welche welcher welches hallo hi hey moin servus tag guten
    morgen abend okay ok also genau klar sicher natürlich gut super prima heute jetzt sofort mal
    doch egal weiß leider sehr viel liebe lieber grüße gruß mfg lg vg sowie beziehungsweise bzw
    selbst wohne komme heiße heisse heißt heisst name"""
)
# Topic, role and command words: never the first word of a name ("Wertmarke verloren").
NON_NAME_WORDS = _words(
    """rückruf rückrufbitte rückrufe anruf ausweis schwerbehindertenausweis wertmarke antrag erstantrag
    neuantrag verschlimmerungsantrag merkzeichen gdb grad bescheid widerspruch parkausweis beiblatt
    frage fragen problem termin anliegen grund thema betreff amt versorgungsamt sozialamt stadt
    kreis gemeinde bad sankt st rentner rentnerin tochter sohn mutter vater eltern kind betreuer
    betreuerin angehörige angehöriger pflegerin pfleger schwerbehindert schwerbehinderte gehörlos
    gehörlose taub schwerhörig hörbehindert blind abbrechen abbruch stopp stop zurück weiter hilfe
    ende nichts überspringen test festnetz mobil privat dienstlich montag dienstag mittwoch
    donnerstag freitag samstag sonntag vormittags nachmittags abends morgens mittags früh uhr
    aktenzeichen geschäftszeichen plz postleitzahl adresse straße strasse email mail telefonnummer
    handynummer faxnummer vorname nachname familienname deutschland nrw danke bitte kosten gebühr
    verloren kaputt gestohlen vormittag nachmittag mittag abend wochenende bergisch liebes team
    damen herren geehrte geehrter sehr neuer neue neues dringend verlängerung verlängern
    beantragen antragstellung schwerbehinderung behinderung pflegegrad"""
)
# A message starting like this is a question, never a name ("Wie lange dauert das?").
QUESTION_STARTS = _words(
    """kann können könnte kannst muss müssen muß darf dürfen gibt gibts gibt's wie was wann wo wohin
    woher warum wieso weshalb welche welcher welches wer wem wen ist sind habe hat haben bekomme
    bekommt kriege kriegt soll sollte sollen wird werde werden geht stimmt brauche braucht bin"""
)
FILLERS = _words(
    """hallo hi hey moin servus ja jo jep gerne gern klar okay ok danke bitte also genau natürlich
    sicher gut super prima na tja"""
)
FILLER_PHRASES = re.compile(
    r"\b(?:guten\s+(?:tag|morgen|abend)|vielen\s+dank|danke\s+schön|dankeschön|sehr\s+gerne|"
    r"ja\s+gerne|ja\s+bitte|na\s+klar|rückruf\s+bitte|bitte\s+rückruf|einen\s+rückruf\s+bitte)\b",
    re.IGNORECASE,
)
RELATIVES = (
    r"(?:mutter|vater|mama|papa|mutti|vati|oma|opa|großmutter|großvater|ehefrau|ehemann|frau|mann|"
    r"partnerin|partner|lebensgefährtin|lebensgefährte|sohn|tochter|schwester|bruder|tante|onkel|"
    r"nichte|neffe|schwiegermutter|schwiegervater|schwiegertochter|schwiegersohn|enkelin|enkel|"
    r"nachbarin|nachbar|freundin|freund|kind|klientin|klient|betreute[nr]?|schwägerin|schwager|"
    r"betreuerin|betreuer|pflegerin|pfleger|bevollmächtigte[r]?|vormund)"
)
NAME_WORD = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*")

# --- cues ----------------------------------------------------------------------------------------

CASE = re.IGNORECASE
NAME_CUES = [
    re.compile(p, CASE)
    for p in (
        r"\bmein\s+name\s+(?:ist|lautet|wäre)\s*:?\s*",
        r"\b(?:der\s+|ihr\s+|sein\s+)?name\s+(?:meine[rs]|des|der)\s+\w+\s*(?:ist|lautet|:)\s*",
        r"\b(?:(?:mein|der|ihr|sein|vor-?\s*und\s+nach|voller)\s*)?name\s*(?:ist|lautet|:|=)\s*",
        # the summary's correction: "Der Nachname ist falsch, richtig ist Jürgen Meyer"
        r"\b(?:vor|nach|familien)?name\b[^.;]{0,30}?\b(?:richtig|korrekt)\s+(?:ist|wäre|lautet|heißt)\s*:?\s*",
        r"\bich\s+hei(?:ß|ss|s)e\s+",  # "heise": a frequent typo
        r"\b(?:für|an)\s+(?=(?:frau|herrn?)\s)",  # "Rückruf für Herrn Peter Schmitz"
        rf"\b(?:sie|er|{RELATIVES})\s+hei(?:ß|ss)t\s+",
        r"\bhier\s+(?:ist|spricht|schreibt)\s+",
        r"\bes\s+schreibt\s+(?:ihnen\s+)?",
        rf"\b(?:für|von)\s+(?:meine[nmrs]?|unsere[nmrs]?|die|den|der|dem)\s+{RELATIVES}\s*[,:]?\s*"
        r"(?:namens\s+|mit\s+namen\s+)?",
        rf"\b(?:meine[nmr]?|unsere[nmr]?)\s+{RELATIVES}\s*,\s*",
        rf"\b{RELATIVES}\s+von\s+",
        r"\b(?:mit\s+freundlichen\s+grüßen|(?:viele|liebe|beste|freundliche)\s+grüße|grüße|gruß|mfg|"
        r"lg|vg)\s*[,:]?\s*",
    )
]
I_AM = re.compile(r"\bich\s+bin\s+", CASE)
# "ich bin gehörlos / 72 / die Tochter von …": no name after "ich bin".
NOT_AFTER_I_AM = _words(
    """gehörlos taub schwerhörig hörbehindert hörgeschädigt ertaubt blind sehbehindert schwerbehindert
    rentner rentnerin berufstätig erreichbar selten oft tagsüber meist meistens leider nicht sehr
    schon noch gerade jetzt heute morgen den ganzen die der das ein eine einer mir mich seit im am
    in an auf aus bei unter zu zuhause zu hause krank alleinstehend alt angehörige angehöriger
    betreuer betreuerin pflegerin pfleger"""
)
ACADEMIC_TITLE = re.compile(r"(?:(?:dr|prof|dipl)\.\s*)+", CASE)
HERE = re.compile(r"\s+hier\b(?=\s*(?:[,.;:!?–-]|$))", CASE)  # "Kaya hier," but not "Gibts hier ne …"

REASON_CUES = re.compile(
    r"\b(?:es\s+geht\s+um|geht\s+es\s+um|es\s+handelt\s+sich\s+um|wegen|bezüglich|betrifft|"
    r"(?:mein\s+|das\s+)?anliegen\s*(?::|ist|lautet)|grund\s*(?::|ist)|betreff\s*:|thema\s*:)\s*",
    CASE,
)
# Here the cue belongs to the reason: "ich habe eine Frage zur Wertmarke" -> "Frage zur Wertmarke".
REASON_KEEP_CUE = re.compile(r"\bfragen?\s+(?:zu[mr]?|wegen|zu\s+meine[mnrs]?|bezüglich|nach|über)\b", CASE)

SKIP_TIME = re.compile(
    r"(?:egal|ist\s+mir\s+egal|mir\s+egal|nein|nee|nö|überspringen|skip|keine|keine\s+angabe|"
    r"kein\s+wunsch|keinen\s+wunsch|keine\s+präferenz|keine\s+vorliebe|nicht\s+wichtig|weiter|"
    r"nichts|-+)(?:\s*,?\s*danke)?",
    CASE,
)
WEEKDAY = r"(?:montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|wochenende)s?"
DAYPART = (
    r"(?:vormittags?|nachmittags?|abends?|morgens|mittags?|früh|frühmorgens|spätnachmittags?|"
    r"tagsüber|mittagszeit)"
)
CLOCK = r"\d{1,2}(?:[:.]\d{2})?"
TIME_CORE = (
    rf"(?:(?:am|jeden|nächsten|kommenden|diesen|ab|bis|außer)\s+)?{WEEKDAY}"
    rf"(?:\s*(?:-|bis|oder|und|,)\s*{WEEKDAY})*(?:\s+{DAYPART})?"
    rf"|am\s+(?:frühen\s+|späten\s+)?(?:vormittag|nachmittag|abend|morgen|mittag)"
    rf"|in\s+der\s+(?:früh|mittagspause|mittagszeit)|über\s+mittag|{DAYPART}"
    rf"|(?:ab|bis|nach|vor|gegen|um|ca\.?|zwischen|von)\s+{CLOCK}\s*(?:uhr)?"
    rf"(?:\s*(?:und|bis|-)\s*{CLOCK}\s*(?:uhr)?)?"
    rf"|{CLOCK}\s*(?:-|bis)\s*{CLOCK}\s*uhr|{CLOCK}\s*uhr"
    rf"|(?<!guten\s)(?:heute|morgen|übermorgen)|(?:diese|nächste)\s+woche|jederzeit|ganztags"
)
TIME_PHRASE = re.compile(
    rf"(?:(?:am\s+(?:liebsten|besten|ehesten)|gerne?|bitte|nur|eher|lieber|meistens|meist|"
    rf"immer|gut)\s+){{0,2}}(?:{TIME_CORE})(?:\s*(?:,\s*)?(?:und|oder|oder\s+auch|ab|bis)?\s*(?:{TIME_CORE}))*"
    rf"(?:\s+(?:gut\s+)?(?:erreichbar|zu\s+erreichen|möglich|am\s+besten))?\b",
    CASE,
)

EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[^\W_][\w.-]*\.[^\W\d_]{2,}", CASE)
EMAIL_CUE = re.compile(
    r"(?:(?:meine|per|via|über|als)\s+)?(?:e-?mail|mail)(?:-?adresse)?\s*(?:ist|lautet|an|:)?\s*:?\s*$", CASE
)
SMS = re.compile(
    r"(?<!keine\s)(?<!kein\s)(?<!nicht\s)\b(?:(?:per|via|als|bitte|gerne?|lieber|eine)\s+)*"
    r"(?:sms|kurznachricht|textnachricht)\b",
    CASE,
)
CANNOT_PHONE = re.compile(
    r"(?:\b(?:ich\s+bin\s+|bin\s+)?(?:gehörlos|taub|ertaubt|schwerhörig|hörbehindert|hörgeschädigt|"
    r"sprachbehindert|stumm)\b"
    r"|\b(?:ich\s+)?kann\s+(?:leider\s+)?(?:nicht|kaum|schlecht)\s+(?:gut\s+)?(?:telefonieren|hören|sprechen)\b"
    r"|\btelefonieren\s+(?:geht|klappt|kann\s+ich)\s+(?:leider\s+)?nicht\b"
    r"|\b(?:ich\s+)?(?:habe|hab)?\s*kein(?:en)?\s+telefon(?:anschluss)?\b"
    r"|\b(?:bitte\s+)?(?:nur|lieber|ausschließlich)\s+(?:per\s+|über\s+)?(?:schriftlich|e-?mail|mail|fax|"
    r"brief|post|sms)\b"
    r"|\b(?:bitte|lieber)\s+(?:nur\s+)?(?:per|über|via)\s+(?:e-?mail|mail|fax|brief|post)\b"
    r"|\bbitte\s+(?:nur\s+)?schriftlich\b|\bbitte\s+nicht\s+anrufen\b|\bkeine\s+anrufe\b"
    r"|\bgebärdensprache\b)",
    CASE,
)

PHONE_CUES = re.compile(
    r"(?P<fax>\b(?:tele)?fax(?:-?nummer|-?nr)?\b)"
    r"|(?P<phone>\b(?:tel|telefon|handy|mobil|mobilfunk|ruf|festnetz)(?:-?nummer|-?nr)?\b"
    r"|\b(?:nummer|erreichbar|sms|anrufen|zurückrufen|whatsapp)\b)"
    r"|(?P<reference>\b(?:az|aktenzeichen|geschäftszeichen|gz|zeichen|kunden-?(?:nummer|nr)|"
    r"antrags-?(?:nummer|nr)|vorgangs-?(?:nummer|nr)|plz|postleitzahl|ausweis-?(?:nummer|nr)|"
    r"versicherungs-?(?:nummer|nr)|steuer-?(?:nummer|nr)|iban|geboren|geburtsdatum|jahrgang|"
    r"hausnummer)\b)",
    CASE,
)
CUE_WINDOW = 40
CUE_GAP = re.compile(r"[^\d]{0,25}")  # between a cue and its number: "Nr.: ", " ist "
CUE_PREFIX = re.compile(r"(?:(?:meine|die|unsere|seine|ihre)\s+)?$", CASE)
DIGITS = re.compile(r"[+(]?\d[\d\s()/.\-]*")
SENTENCE_END = re.compile(r"[.!?](?:\s|$)")
SEGMENT_SPLIT = re.compile(r"[,;:.!?()\[\]\"„“”]|\s[-–—]\s|[–—]|\s-$|^-\s|\s(?i:aus|in|wohnhaft\s+in)\s")
TRAILING = FILLERS | {"und", "oder"}


# --- the parser ----------------------------------------------------------------------------------


def extract(text: str, expecting: str | None = None) -> Extracted:
    """Every callback field found in `text`; `expecting` is the field the form just asked for."""
    if expecting not in EXPECTING:
        expecting = None
    clean = _normalise(text)
    spans: list[Span] = []

    email, email_span = _email(clean)
    if email_span:
        spans.append(email_span)
    sms = [m.span() for m in SMS.finditer(clean)]
    cannot = [m.span() for m in CANNOT_PHONE.finditer(clean)]
    spans += sms + cannot

    times: list[Span] = []
    if expecting not in ("reason", "preferred_time"):
        times = [m.span() for m in TIME_PHRASE.finditer(clean) if m.group().strip()]

    phone, fax, phone_error, phone_spans = _numbers(clean, expecting, blocked=spans + times)
    spans += phone_spans

    names = _cue_names(clean, blocked=spans)
    reason, reason_span = _reason(clean, expecting, hard=spans + [s for _, s in names], times=times)
    if reason_span:
        spans.append(reason_span)
        times = [t for t in times if not _inside(t, reason_span)]
    spans += times

    preferred_time = _time_from(clean, times)
    name, name_span = names[0] if names else (None, None)
    if name_span:
        spans.append(name_span)
    if name is None and expecting == "name":
        name, name_span = _bare_name(clean, spans, lenient=True)
    elif name is None and expecting in (None, "phone"):
        name, name_span = _bare_name(clean, spans, lenient=False, anchors=phone_spans)
    if name_span:
        spans.append(name_span)

    if expecting == "reason":
        reason = _whole_reason(clean)
        spans += [(0, len(clean))] if reason else []
    elif expecting == "preferred_time":
        preferred_time = _whole_time(clean, spans)
        spans += [(0, len(clean))] if preferred_time else []

    return Extracted(
        name=name,
        phone=phone,
        phone_error=None if phone else phone_error,
        email=email,
        fax=fax,
        wants_sms=bool(sms),
        cannot_phone=bool(cannot),
        preferred_time=preferred_time,
        reason=reason,
        rest=_rest(clean, spans),
    )


# "Bitte um Rückruf", "rufen Sie mich an", "dass mich jemand vom Amt anruft", "bitte anrufen",
# with the typos people make ("Rükruf", "Rückfur", "zurück rufen"); and in writing, for people
# who cannot phone: "antworten Sie mir per Fax", "können Sie ihr eine E-Mail schreiben".
CALLBACK_WISH = re.compile(
    r"r(?:ü|ue|u)c?k\s*-?\s*(?:ruf|fur|rfu)|zur(?:ü|ue|u)ck\s*(?:zu\s*|ge)?ruf|"
    r"\bruf\w*\s+(?:sie\s+|ihr\s+|du\s+)?(?:mich|ihn|uns|mein\w*\s+\w+)\b[^.?!]{0,40}\b(?:an|zurück)\b|"
    r"\bruf\w*\s+sie\s+sie\b[^.?!]{0,40}\b(?:an|zurück)\b|"
    # "mich … anruft", "jemand … anruft", but not "mich hinwenden, und kann ich da anrufen"
    r"\bmich\b(?:(?!\bich\b)[^.?!]){0,40}\ban(?:zu)?ruf|\bjemand\b(?:(?!\bich\b)[^.?!]){0,60}\ban(?:zu)?ruf|"
    r"\bbitte[nt]?\s+(?:um\s+(?:einen\s+)?)?anruf|"
    r"\b(?:möchte|moechte|will|hätte|haette|wünsche|wuensche)\s+(?:gerne?\s+)?(?:einen\s+)?anruf\b|"
    r"\banrufen\s+(?:sie\s+)?mich\b|"
    r"\bsich\s+(?:das\s+amt\s+|jemand\s+)?(?:bitte\s+)?bei\s+(?:mir|uns|ihr|ihm)\s+(?:[\w-]+\s+){0,3}melden\b|"
    r"\bantworten\s+sie\s+(?:mir|ihr|ihm|uns)\b|"
    r"\b(?:schreiben|mailen|faxen)\s+sie\s+(?:mir|ihr|ihm|uns)\b[^.?!]{0,30}?\b(?:per|e-?mail|mail|fax|zurück|nachricht)|"
    r"\b(?:mir|ihr|ihm|uns)\s+(?:bitte\s+)?(?:eine?\s+)?(?:e-?mail|mail|fax)\w*\s+(?:schreiben|schicken|senden)|"
    r"\bmelden\s+sie\s+sich\s+(?:bitte\s+)?(?:bei\s+)?(?:mir|uns|ihr|ihm)\b",
    re.IGNORECASE,
)
# "Ja, gern": an answer to the assistant's own offer, not a new request.
ANSWER_START = re.compile(r"^\s*(?:ja|jo|jep|gern|gerne|ok|okay|nein|nee)\b", re.IGNORECASE)


# "Vergessen Sie es, ich will das doch nicht. Stopp.": the person stops the callback request.
STOP_WISH = re.compile(
    r"\b(?:abbrechen|abbruch|stopp?|vergessen\s+sie\s+(?:es|das)|vergiss\s+(?:es|das)|doch\s+nicht|"
    r"hat\s+sich\s+erledigt|lassen\s+sie\s+(?:es|das|mal)|keinen\s+r(?:ü|ue)ckruf)\b",
    re.IGNORECASE,
)


def asks_to_stop(text: str) -> bool:
    return bool(STOP_WISH.search(_normalise(text)))


def asks_for_callback(text: str) -> bool:
    """The message asks to be called back, or gives name and phone number unasked."""
    clean = _normalise(text)
    if not clean or clean.startswith("/") or ANSWER_START.match(clean):
        return False
    if asks_to_stop(clean):
        return False
    if CALLBACK_WISH.search(clean):
        return True
    if not any(char.isdigit() or char == "@" for char in clean):
        return False  # no number, no address: the full parse is not needed
    found = extract(clean)
    return bool(found.name and (found.phone or found.email or found.fax))


def _normalise(text: str) -> str:
    """NFC, control characters to spaces, single spaces: offsets below refer to this string."""
    text = unicodedata.normalize("NFC", str(text))
    kept = "".join(" " if unicodedata.category(char)[0] in "CZ" else char for char in text)
    return re.sub(r"\s+", " ", kept).strip()


def _inside(span: Span, outer: Span) -> bool:
    return outer[0] <= span[0] and span[1] <= outer[1]


def _overlaps(span: Span, others: Iterable[Span]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in others)


# --- e-mail and numbers --------------------------------------------------------------------------


def _email(text: str) -> tuple[str | None, Span | None]:
    for match in EMAIL.finditer(text):
        candidate = match.group().rstrip(".-")
        checked = check_email(candidate)
        if checked.ok:
            start = match.start()
            cue = EMAIL_CUE.search(text[max(0, start - CUE_WINDOW) : start])
            if cue:
                start -= len(cue.group())
            return checked.value, (start, match.start() + len(candidate))
    return None, None


def _cue_before(text: str, start: int) -> tuple[str | None, int]:
    """The kind of the nearest cue before a number (fax, phone, reference) and where it starts."""
    window_start = max(0, start - CUE_WINDOW)
    window = text[window_start:start]
    kind, begin = None, start
    for match in PHONE_CUES.finditer(window):
        if CUE_GAP.fullmatch(window[match.end() :]):
            kind, begin = match.lastgroup, window_start + match.start()
    if kind in ("fax", "phone"):
        prefix = CUE_PREFIX.search(text[max(0, begin - 10) : begin])
        begin -= len(prefix.group()) if prefix else 0
    return kind, begin


def _plausible(raw: str) -> bool:
    """People write the trunk or country prefix; "50667" or "123/45" are no phone numbers."""
    return raw.lstrip("(")[:1] in ("0", "+") and not re.fullmatch(r"\d{1,2}\.\d{1,2}\.\d{2,4}", raw)


def _numbers(
    text: str, expecting: str | None, blocked: list[Span]
) -> tuple[str | None, str | None, str | None, list[Span]]:
    """(phone, fax, phone_error, spans) from the phone numbers in running text."""
    phone = fax = error = None
    spans: list[Span] = []
    seen: list[Span] = []
    strict_context = expecting in ("phone", "contact")
    for match in PhoneNumberMatcher(text, "DE", leniency=Leniency.VALID):
        span = (match.start, match.end)
        if _overlaps(span, blocked) or not _plausible(match.raw_string):
            continue
        seen.append(span)
        kind, begin = _cue_before(text, match.start)
        if kind == "reference":
            continue
        is_fax = kind == "fax"
        checked = check_fax(match.raw_string) if is_fax else check_phone(match.raw_string)
        if not checked.ok:
            if strict_context or kind or expecting is None:
                error = error or checked.error
            continue
        if is_fax and fax is None:
            fax = checked.value
        elif not is_fax and phone is None:
            phone = checked.value
        else:
            continue  # a second number stays in the rest
        spans.append((begin if kind else match.start, match.end))
    if phone or error:
        return phone, fax, error, spans
    for match in PhoneNumberMatcher(text, "DE", leniency=Leniency.POSSIBLE):
        span = (match.start, match.end)
        if _overlaps(span, blocked + seen):
            continue
        kind, _ = _cue_before(text, match.start)
        if kind == "reference" or not (strict_context or kind in ("phone", "fax")):
            continue
        checked = check_fax(match.raw_string) if kind == "fax" else check_phone(match.raw_string)
        error = (
            checked.error or "Diese Telefonnummer ist zu kurz, zu lang oder ungültig. Bitte prüfen Sie sie."
        )
        return phone, fax, error, spans
    if strict_context and not fax and not error:
        for match in DIGITS.finditer(text):
            span = (match.start(), match.end())
            if _overlaps(span, blocked + seen) or _cue_before(text, match.start())[0] == "reference":
                continue
            error = check_phone(match.group().strip()).error
            if error:
                break
    return phone, fax, error, spans


# --- names ---------------------------------------------------------------------------------------


def _words_after(text: str, start: int) -> list[re.Match[str]]:
    """The word matches from `start` to the next delimiter (comma, digit, sentence end, dash)."""
    end = len(text)
    stop = re.compile(r"[,;:.!?()\[\]\"„“”/\d@]|\s[-–—]\s|[–—]")
    found = stop.search(text, start)
    if found:
        end = found.start()
    return list(NAME_WORD.finditer(text, start, end))


def _name_from(words: list[re.Match[str]], lower_text: bool, lenient: bool) -> tuple[str, Span] | None:
    """The longest name at the start of `words`: 1–5 words, honorific and particles allowed."""
    taken: list[re.Match[str]] = []
    for index, word in enumerate(words):
        token, low = word.group(), word.group().lower()
        if len(taken) == 5:
            break
        if index > 0 and word.start() - words[index - 1].end() > 1:
            break  # "Maria  - Kaya" or other signs in between
        if not taken and low in HONORIFICS and index + 1 < len(words):
            taken.append(word)
            continue
        if taken and low in PARTICLES and _particle_leads_to_name(words[index + 1 :], lower_text or lenient):
            taken.append(word)
            continue
        if low in STOP_WORDS or (not taken and low in NON_NAME_WORDS):
            break
        if not (lower_text or lenient or token[0].isupper()):
            break
        taken.append(word)
    while taken and taken[-1].group().lower() in PARTICLES | HONORIFICS:
        taken.pop()
    real = [w for w in taken if w.group().lower() not in HONORIFICS]
    if not real:
        return None
    name = _title(" ".join(w.group() for w in taken))
    if not check_name(name).ok:
        return None
    return name, (taken[0].start(), taken[-1].end())


def _particle_leads_to_name(following: list[re.Match[str]], any_case: bool) -> bool:
    """'von der Heide': after the particles comes a name word, not 'von der Stadt' or 'von hier'."""
    for word in following:
        low = word.group().lower()
        if low in PARTICLES:
            continue
        if low in STOP_WORDS or low in NON_NAME_WORDS:
            return False
        return any_case or word.group()[0].isupper()
    return False


def _title(name: str) -> str:
    """'maria kaya' -> 'Maria Kaya', 'anna-lena de vries' -> 'Anna-Lena de Vries'; 'McLean' stays."""
    words = name.split()
    result = []
    for index, word in enumerate(words):
        if (word.islower() or (word.isupper() and len(word) > 1)) and (
            index == 0 or word.lower() not in PARTICLES
        ):
            word = re.sub(r"[^\W\d_]+", lambda m: m.group().capitalize(), word.lower())
        result.append(word)
    if len(result) > 1 and words[0].islower() and words[0].lower() in PARTICLES:
        result[0] = words[0].lower()
    if result[0].lower() == "herrn":  # "für Herrn Schmitz" -> "Herr Schmitz"
        result[0] = "Herr"
    return " ".join(result)


def _cue_names(text: str, blocked: list[Span]) -> list[tuple[str, Span]]:
    """Names after a cue ("Mein Name ist …", "für meine Mutter, …", "… hier"), in text order."""
    lower_text = text == text.lower()
    found: list[tuple[int, str, Span]] = []

    def add(cue_start: int, words_start: int, lenient: bool = False) -> None:
        title = ACADEMIC_TITLE.match(text, words_start)  # "Name: Dr. Maria Kaya"
        words_start = title.end() if title else words_start
        result = _name_from(_words_after(text, words_start), lower_text, lenient)
        if result and not _overlaps(result[1], blocked):
            found.append((cue_start, result[0], (cue_start, result[1][1])))

    for cue in NAME_CUES:
        for match in cue.finditer(text):
            add(match.start(), match.end())
    for match in I_AM.finditer(text):
        words = _words_after(text, match.end())
        first = words[0].group() if words else ""
        if first and first.lower() not in NOT_AFTER_I_AM and first.lower() not in STOP_WORDS:
            add(match.start(), match.end())
    for match in HERE.finditer(text):
        segment_start = max(text.rfind(sep, 0, match.start()) for sep in ",;.!?:–") + 1
        segment = text[segment_start : match.start()]
        leading = len(segment) - len(_strip_fillers(segment).lstrip())
        start = segment_start + leading
        words = list(NAME_WORD.finditer(text, start, match.start()))
        result = _name_from(words, lower_text, lenient=False)
        if result and result[1][1] == match.start() and not _overlaps(result[1], blocked):
            found.append((result[1][0], result[0], (result[1][0], match.end())))
    found.sort()
    return [(name, span) for _, name, span in found]


def _strip_fillers(segment: str) -> str:
    """'Hallo, ja gerne Maria Kaya danke' -> 'Maria Kaya'."""
    segment = FILLER_PHRASES.sub(" ", segment)
    words = segment.split()
    while words and words[0].lower().strip(",.!") in FILLERS:
        words.pop(0)
    while words and words[-1].lower().strip(",.!") in FILLERS:
        words.pop()
    return " ".join(words)


def is_question(text: str) -> bool:
    """'Wie lange dauert das?', 'Kann ich …', 'Was kostet die Wertmarke' are questions, no names."""
    clean = _strip_fillers(_normalise(text).strip(" ,.;"))
    if clean.endswith("?"):
        return True
    first = NAME_WORD.match(clean)
    return bool(first) and first.group().lower() in QUESTION_STARTS


def _bare_name(
    text: str, spans: list[Span], lenient: bool, anchors: list[Span] = ()
) -> tuple[str | None, Span | None]:
    """A name without a cue. Lenient (the form asked for the name): a short answer that reads like
    a name. Strict: a segment of two to four capitalised words only ("Maria Kaya"); in a message
    typed in lower case only two or three words right next to the phone number."""
    if lenient and is_question(text):
        return None, None
    lower_text = text == text.lower()
    masked = list(text)
    for start, end in spans:
        masked[start:end] = ["," for _ in range(end - start)]
    masked_text = FILLER_PHRASES.sub(lambda m: "," * len(m.group()), "".join(masked))
    parts: list[tuple[int, int, bool]] = []
    position, after_place_word = 0, False
    for separator in [*SEGMENT_SPLIT.finditer(masked_text), None]:
        end = separator.start() if separator else len(masked_text)
        if masked_text[position:end].strip():
            parts.append((position, end, after_place_word))
        position = separator.end() if separator else end
        after_place_word = bool(separator) and separator.group().strip().isalpha()  # "aus", "in"
    candidates = []
    for start, end, after_place in parts:
        if after_place and not lenient:
            continue  # "ich wohne in Köln Ehrenfeld": a place, not a name
        words = list(NAME_WORD.finditer(masked_text, start, end))
        # Only words in this segment (no digits or signs besides punctuation between words).
        letters = re.sub(r"[\W_]", "", masked_text[start:end])
        whole = len(letters) == len(re.sub(r"[\W_]", "", "".join(w.group() for w in words)))
        while words and words[0].group().lower() in FILLERS:
            words.pop(0)
        while words and words[-1].group().lower() in TRAILING:
            words.pop()
        candidates.append((words, whole))
    if lenient:
        return _lenient_name(candidates, lower_text)
    for words, whole in candidates:
        if not whole or not words:
            continue
        result = _name_from(words, lower_text, lenient=False)
        if result is None or result[1] != (words[0].start(), words[-1].end()):
            continue
        real = [w for w in words if w.group().lower() not in HONORIFICS]
        honorific = len(real) < len(words)
        if lower_text:
            if (
                2 <= len(words) <= 3
                and _next_to(words, anchors, text)
                and not any(w.group().lower() in STOP_WORDS | NON_NAME_WORDS for w in words)
            ):
                return result
            continue
        capitalised = all(w.group()[0].isupper() or w.group().lower() in PARTICLES for w in words)
        topic = any(w.group().lower() in NON_NAME_WORDS for w in words)  # "Neuer Antrag"
        if capitalised and not topic and (2 <= len(real) <= 4 or (honorific and real)):
            return result
    return None, None


def _next_to(words: list[re.Match[str]], anchors: Iterable[Span], text: str) -> bool:
    """Only spaces, commas or colons between the words and one of the anchors (a phone number)."""
    start, end = words[0].start(), words[-1].end()
    for anchor_start, anchor_end in anchors:
        between = text[end:anchor_start] if anchor_start >= end else text[anchor_end:start]
        if re.fullmatch(r"[\s,:;\-]*", between):
            return True
    return False


def _lenient_name(
    candidates: list[tuple[list[re.Match[str]], bool]], lower_text: bool
) -> tuple[str | None, Span | None]:
    whole = [(words, ok) for words, ok in candidates if words]
    if not whole or not whole[0][1]:
        return None, None
    if (
        len(whole) == 2
        and whole[1][1]
        and len(whole[1][0]) == 1
        and (len(whole[0][0]) == 1 or whole[0][0][0].group().lower() in PARTICLES)
    ):
        # "Kaya, Maria" -> "Maria Kaya"
        last, first = whole[0][0], whole[1][0]
        name = _title(" ".join(w.group() for w in first + last))
        if all(w.group().lower() not in STOP_WORDS | NON_NAME_WORDS for w in first + last[-1:]):
            checked = check_name(name)
            if checked.ok:
                return checked.value, (last[0].start(), first[-1].end())
    words = whole[0][0]
    result = _name_from(words, lower_text, lenient=True)
    if result is None or result[1] != (words[0].start(), words[-1].end()):
        return None, None
    return result


# --- reason and time -----------------------------------------------------------------------------


def _reason(
    text: str, expecting: str | None, hard: list[Span], times: list[Span]
) -> tuple[str | None, Span | None]:
    """The reason after a cue, up to the sentence end or the next recognised field."""
    if expecting == "reason":
        return None, None
    cues = [(m.start(), m.end()) for m in REASON_CUES.finditer(text)]
    cues += [(m.start(), m.start()) for m in REASON_KEEP_CUE.finditer(text)]
    cues = sorted(c for c in cues if not _overlaps((c[0], max(c[1], c[0] + 1)), hard))
    for cue_start, start in cues:
        sentence = SENTENCE_END.search(text, start)
        end = sentence.start() if sentence else len(text)
        pieces, position = [], start
        while position < end:
            comma = text.find(",", position, end)
            piece_end = comma if comma >= 0 else end
            piece = (position, piece_end)
            stripped = text[position:piece_end].strip()
            leading = position + len(text[position:piece_end]) - len(text[position:piece_end].lstrip())
            starts_field = any(s[0] <= leading < s[1] for s in hard + times)
            if pieces and (starts_field or _overlaps(piece, hard)):
                break
            if not pieces and _overlaps(piece, hard):
                # cut the first piece where a number or name begins: "wegen Wertmarke 0211 445566"
                piece_end = min(s[0] for s in hard if piece[0] < s[1] and s[0] < piece[1])
                pieces.append((position, piece_end))
                break
            if stripped:
                pieces.append(piece)
            position = piece_end + 1
        if not pieces:
            continue
        reason = text[pieces[0][0] : pieces[-1][1]].strip(" ,;:-–")
        checked = check_reason(reason)
        if checked.ok and re.search(r"[^\W\d_]{2,}", reason):
            return checked.value, (cue_start, pieces[-1][1])
    return None, None


def _whole_reason(text: str) -> str | None:
    """At "Worum geht es?" the whole answer is the reason, even a question."""
    reason = re.sub(r"^(?:(?:ja|also|ok|okay|gut)\b[\s,.:!-]*)+", "", text, flags=CASE)
    return check_reason(reason or text).value


def _time_from(text: str, times: list[Span]) -> str | None:
    """The first clear time phrase ("am liebsten Freitag früh"), as written."""
    if not times:
        return None
    start, end = times[0]
    return re.sub(r"^bitte\s+", "", text[start:end].strip(" ,;"), flags=CASE)


def _whole_time(text: str, spans: list[Span]) -> str | None:
    """At "Wann passt es Ihnen?" the answer is the time, unless it skips the question."""
    others = _rest(text, spans) if spans else text
    answer = re.sub(r"^(?:(?:ja|also|ok|okay)\b[\s,.:!-]*)+", "", others, flags=CASE).strip(" ,.;!")
    answer = re.sub(r"[\s,]+(?:bitte|danke)$", "", answer, flags=CASE).strip(" ,.;!")
    if not answer or SKIP_TIME.fullmatch(answer.lower().strip(" .!")):
        return None
    if re.search(r"\bjederzeit\b", answer, CASE) and len(answer.split()) <= 4:
        return "jederzeit"
    checked = check_reason(answer)
    return checked.value if checked.ok else None


# --- what is left --------------------------------------------------------------------------------


def _rest(text: str, spans: list[Span]) -> str:
    """The text without the recognised spans, with tidy spaces and punctuation."""
    keep = [True] * len(text)
    for start, end in spans:
        for index in range(max(0, start), min(len(text), end)):
            keep[index] = False
    rest = "".join(char if keep[i] else " " for i, char in enumerate(text))
    rest = re.sub(r"\s+", " ", rest)
    rest = re.sub(r"\s+([,.;:!?])", r"\1", rest)
    rest = re.sub(r"([,.;:!?])(?:\s*[,.;:!?])+", r"\1", rest)
    rest = re.sub(r"([-–—])(?:\s*[-–—,])+", r"\1", rest)
    return rest.strip(" ,;:-–—")
