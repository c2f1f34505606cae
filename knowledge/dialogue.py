"""What the assistant replies to one message: the answer card, the office, an honest gap, out of
scope, a follow-up on the previous answer, or the two-stage fallback. Plain Python over Turn and
Context (knowledge.conversation); actions/answer.py only translates the tracker."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime

from knowledge import Knowledge, Office, OfficeMatch, extra_leave
from knowledge.cards import Card
from knowledge.catalogue import Topic
from knowledge.conversation import Button, Context, Message, PlaceMention, Reply, Turn
from knowledge.mentions import closed_question_verb, find_gdb, find_merkzeichen
from knowledge.office_answers import OfficeQuestion, office_text, phone_text, phones, status_text
from knowledge.places import Outcome, Resolution

OFFICE_TOPICS = {question.value: question for question in OfficeQuestion}
SMALLTALK = {
    "greet",
    "goodbye",
    "thank",
    "bot_challenge",
    "ask_capabilities",
    "affirm",
    "deny",
    "cancel",
    "skip",
}
# A card of the predicted topic below this response-selector confidence is not trusted to answer
# the question: the honest gap instead (docs/benchmarks.md has the figures it was chosen on).
MIN_CARD_CONFIDENCE = 0.0
# nlu_fallback is answered anyway when a topic has at least this confidence (tests/blind.py).
RESCUE_MIN_CONFIDENCE = 0.2
PERSON_RESCUE = 0.5  # an unsure wish for a person this likely is taken as one
CARD_PRIOR = 0.05
# A topic below this confidence whose best card is out of scope with at least that: out of scope.
OUT_OF_SCOPE_MAX_TOPIC, OUT_OF_SCOPE_MIN_CARD = 0.9, 0.2
SECOND_QUESTION_MIN_CARD = 0.08
SECOND_QUESTION_TOPIC_CARD = 0.3
# How much the topic classifier's belief weighs against the card ranker's score (tests/blind.py).
TOPIC_WEIGHT = 0.35
# A question asked with the wish for a callback is answered first when its best card is this sure.
CALLBACK_QUESTION_MIN_CARD = 0.3
# A short "und was hab ich davon?" stays with the previous topic unless the topic is this sure.
FOLLOW_UP_MAX_TOPIC = 0.95
# "gdb 70, wieviel steuervorteil?": the amount for that GdB, whichever tax card fits best
ASKS_AMOUNT = re.compile(
    r"wie ?viel|wie hoch|höhe|hoehe|betrag|absetz|geltend|vorteil|sparen|bringt|gibt es|gibts", re.I
)
# A message that tells who and where ("Ich bin Rentnerin in Schermbeck") rather than asks
INTRODUCTION = re.compile(
    r"\b(wohn\w*|leb\w*|komm\w* aus|bin aus|frage für|frage fuer|es geht um|kümmere|kuemmere|ich bin)\b",
    re.I,
)
QUESTION = re.compile(
    r"\?|^\W*(wie|was|wo|wann|wer|welche\w*|warum|wieso|weshalb|wohin|woher|kann|darf|muss|gibt|gilt)\b",
    re.I,
)
INTRODUCTION_MAX_OUT_OF_SCOPE = 0.4
# "adresse bitte" after the office was named; "neue Adresse melden" is a change of address
ASKS_ADDRESS = re.compile(r"\b(adresse|addresse|anschrift)\b", re.I)
REPORTS_ADDRESS = re.compile(r"neu|umz|umgezogen|ge(ä|ae)ndert|(ä|ae)nder|meld|mitteil|falsch|ausweis", re.I)
OFFICE_ADDRESS_MAX_WORDS = 4
CONTACT_CARD = "contact/overview"
QUESTION_SPLIT = re.compile(
    r"\?|\s(?:und|oder|aber)\s(?=(?:wie|was|wo|wann|wer|welche\w*|kann|muss|darf|gibt|gilt|bekomme|brauche|ist|sind)\b)",
    re.I,
)
# "wohne jetzt in Issum, danke": a short message with a place is about the place.
SHORT_PLACE_MESSAGE = 6
MAX_SUGGESTIONS = 3
MAIN_TOPICS = (
    "apply/overview",
    "extend/overview",
    "lost_card/overview",
    "wertmarke/overview",
    "parking/overview",
)
CALLBACK, CONSENT = "callback", "consent"
PERSON_KEY = "0"
WANTS_PERSON = "request_human"  # awaiting_place: a person was wanted before the place was known
# The out-of-scope card for other states: wrong for a person who names a town in NRW.
OTHER_STATES = "out_of_scope/other_states"
NONSENSE = "out_of_scope/nonsense"
SCOPE_SENTENCE = "Fragen zum Schwerbehindertenausweis"  # every out-of-scope reply says what it covers


def card_payload(key: str) -> str:
    topic = key.split("/", 1)[0]
    return f'/ask_{topic}{{"card":"{key}"}}'


def place_payload(key: str) -> str:
    return f'/inform_place{{"place":"{key}"}}'


# Merkzeichen cards about a procedure, not about one Merkzeichen's meaning.
MERKZEICHEN_PROCEDURES = {
    f"merkzeichen/{name}" for name in ("apply", "children", "illness", "h_pflegegrad", "g_vs_ag")
}


@dataclass(frozen=True)
class Responder:
    kb: Knowledge
    gaps: bool = True  # no card of the topic among the ranked ones: the honest gap

    def respond(self, turn: Turn, context: Context, now: datetime) -> Reply:
        if context.offer == CONSENT and turn.intent not in {"affirm", "deny"}:
            # A question instead of the answer to the privacy notice: answer it, then ask again.
            reply = self.respond(turn, context.but(offer=None), now)
            return replace(reply, followup=reply.followup or "action_offer_callback")
        context = context.but(offer=None)  # "ja" to an offer is a rule (data/rules/callback.yml)
        if turn.requested_card in self.kb.cards:
            return self._card(self.kb.cards[turn.requested_card], turn, context, now)
        if turn.digits == PERSON_KEY:  # the telephone's "press 0 for a person"
            turn = replace(turn, intent="request_human")
        turn = self._rescued(turn, context)
        match = self._match(turn.place)
        if match is not None and self._is_about_the_place(turn, context):
            return self._place(turn, match, context, now)
        if turn.intent == "inform_place":
            return self._unknown_place(context)
        if turn.intent in SMALLTALK:
            return self._smalltalk(turn, context)
        if turn.intent == "request_human":
            return self._human(turn, context, now)
        if turn.intent == "request_callback":
            return self._callback_request(turn, context, now)
        if turn.intent == "out_of_scope" and self._continues_last_answer(turn, context):
            turn = replace(turn, intent=f"ask_{self.kb.cards[context.last_card or ''].topic}")
        if turn.intent == "out_of_scope":
            if (
                match is not None
                and match.outcome is Outcome.FOUND
                and (self._best_out_of_scope(turn) == OTHER_STATES or self._introduces_oneself(turn))
            ):
                return self._place(turn, match, context, now)  # "Wo beantrage ich in Siegburg …?"
            return self._out_of_scope(turn, context)
        if self._asks_office_address(turn, context) and CONTACT_CARD in self.kb.cards:
            return self._office_topic(self.kb.cards[CONTACT_CARD], turn, context, now)
        topic = self.kb.catalogue.topic_of_intent(turn.intent)
        if topic is None:
            return self._fallback(turn, context)
        return self._topic(topic, turn, context, now)

    @staticmethod
    def _asks_office_address(turn: Turn, context: Context) -> bool:
        """ "Die Adresse?" once the office is known: its address, not how to report a new one."""
        words = turn.text.split()
        return (
            bool(context.office_id)
            and len(words) <= OFFICE_ADDRESS_MAX_WORDS
            and bool(ASKS_ADDRESS.search(turn.text))
            and not REPORTS_ADDRESS.search(turn.text)
        )

    def _rescued(self, turn: Turn, context: Context) -> Turn:
        """An unsure NLU (nlu_fallback) with a clear enough topic, or a follow-up of the previous
        answer, is answered rather than asked back: the best of the two likeliest topics, weighed by
        how well their best card fits."""
        if turn.intent != "nlu_fallback":
            return turn
        likeliest = next(((i, c) for i, c in turn.intents if i != "nlu_fallback"), ("", 0.0))
        if likeliest[0] == "request_human" and likeliest[1] >= PERSON_RESCUE:
            # "Mensch bitte": unsure between a person and "are you a person?"; asking back would
            # keep someone who wants a person in the chat
            return replace(turn, intent="request_human", confidence=likeliest[1])
        candidates = [
            (intent, confidence)
            for intent, confidence in turn.intents[:3]
            if confidence >= RESCUE_MIN_CONFIDENCE
            and (intent == "out_of_scope" or self.kb.catalogue.topic_of_intent(intent) is not None)
        ]
        if not candidates:
            last = self.kb.cards.get(context.last_card or "")
            if last is not None and self.kb.follow_ups.is_follow_up(turn.text):
                return replace(
                    turn, intent=f"ask_{last.topic}" if last.topic != "out_of_scope" else "out_of_scope"
                )
            return turn

        def fit(item: tuple[str, float]) -> float:
            intent, confidence = item
            prefix = "out_of_scope/" if intent == "out_of_scope" else intent.removeprefix("ask_") + "/"
            card = max((c for key, c in turn.cards if key.startswith(prefix)), default=0.0)
            return confidence * (card + CARD_PRIOR)

        intent, confidence = max(candidates[:2], key=fit)
        return replace(turn, intent=intent, confidence=confidence)

    # Places ----------------------------------------------------------------------------------

    def _match(self, mention: PlaceMention | None) -> OfficeMatch | None:
        if mention is None or mention.outcome is Outcome.UNKNOWN:
            return None
        places = tuple(p for p in (self.kb.places.place(key) for key in mention.keys) if p is not None)
        return self.kb.match(Resolution(mention.outcome, places, mention.matched, region=mention.region))

    def _is_about_the_place(self, turn: Turn, context: Context) -> bool:
        """A place alone, a place after the assistant asked for one, or a place the NLU did not
        take for a question: read as the answer "where do you live?"."""
        assert turn.place is not None
        if turn.place.only or turn.intent == "inform_place":
            return True
        if turn.intent == "nlu_fallback":  # not rescued: the place is all that was understood
            return True
        if turn.intent in SMALLTALK:
            return bool(context.awaiting_place) or len(turn.text.split()) <= SHORT_PLACE_MESSAGE
        topic = self.kb.catalogue.topic_of_intent(turn.intent)
        if context.awaiting_place and (topic is None or topic.key in OFFICE_TOPICS):
            return True
        return topic is not None and topic.key in OFFICE_TOPICS and self._is_overview(turn, topic)

    def _place(self, turn: Turn, match: OfficeMatch, context: Context, now: datetime) -> Reply:
        texts = self.kb.texts
        resolution = match.resolution
        waiting = context.awaiting_place
        if match.outcome is Outcome.FOUND and match.place and match.office:
            context = context.but(office_id=match.office.id, place=match.place.label(), awaiting_place=None)
            if waiting == WANTS_PERSON:
                return self._human(turn, context, now)
            if waiting in self.kb.cards and self.kb.cards[waiting].topic not in OFFICE_TOPICS:
                question = OfficeQuestion.RESPONSIBLE
            else:
                question = OFFICE_TOPICS.get((waiting or "").split("/")[0], self._office_question(turn))
            text = office_text(texts, match.office, match.place, question, now)
            others = [q for q in OfficeQuestion if q is not question]
            buttons = tuple(Button(texts(f"buttons.{q.value}"), f"/ask_{q.value}") for q in others)
            buttons += (Button(texts("buttons.callback"), "/request_callback"),)
            return Reply((Message(text, buttons),), context, topic=question.value, kind="place")
        if match.outcome is Outcome.AMBIGUOUS:
            buttons = tuple(Button(p.label(), place_payload(p.key)) for p in resolution.places)
            shortest = min((p.name for p in resolution.places), key=len)
            keep = waiting or f"{self._office_question(turn).value}/overview"
            return Reply(
                (Message(texts("office.ambiguous", name=shortest), buttons),),
                context.but(awaiting_place=keep),
                kind="place",
            )
        key = "office.abroad" if match.outcome is Outcome.ABROAD else "office.outside_nrw"
        shown = resolution.matched or turn.text.strip()
        text = texts(key, place=shown, region=resolution.region or "einem anderen Bundesland")
        return Reply((Message(text),), context.but(awaiting_place=None), kind="place")

    def _office_question(self, turn: Turn) -> OfficeQuestion:
        topic = self.kb.catalogue.topic_of_intent(turn.intent)
        return OFFICE_TOPICS.get(topic.key if topic else "", OfficeQuestion.RESPONSIBLE)

    def _unknown_place(self, context: Context) -> Reply:
        if not context.awaiting_place:
            return self._fallback(Turn(text="", intent="nlu_fallback"), context)
        return Reply((Message(self.kb.texts("office.unknown_place")),), context, kind="place")

    def _office_of(self, turn: Turn, context: Context) -> tuple[OfficeMatch | None, Context]:
        """The office of a place in this message (remembered from now on), else the remembered one."""
        match = self._match(turn.place)
        if match is not None and match.office is not None and match.place is not None:
            return match, context.but(office_id=match.office.id, place=match.place.label())
        return match, context

    # Topics and cards ------------------------------------------------------------------------

    def _topic(self, topic: Topic, turn: Turn, context: Context, now: datetime) -> Reply:
        follow_up = self._follow_up(turn, context)
        if isinstance(follow_up, Reply):
            return follow_up
        if follow_up is not None:
            if follow_up.gap:
                return self._gap(self.kb.catalogue.topics[follow_up.topic], context)
            return self._card(follow_up, turn, context, now)
        if self._looks_out_of_scope(turn) and not self._names_nrw_place(turn):
            return self._out_of_scope(turn, context)
        card = self._select(topic, turn)
        if card is None or card.gap:
            return self._gap(self.kb.catalogue.topics[card.topic] if card else topic, context)
        reply = self._card(card, turn, context, now)
        second = self._second_question(card, turn)
        if second is None:
            return reply
        extra = self._card(second, replace(turn, place=None), reply.context, now)
        return replace(reply, messages=reply.messages + extra.messages, context=extra.context)

    def _looks_out_of_scope(self, turn: Turn) -> bool:
        """The topic classifier unsure, the card selector sure it is about something else."""
        if not turn.cards or turn.confidence >= OUT_OF_SCOPE_MAX_TOPIC:
            return False
        key, confidence = turn.cards[0]
        return key.startswith("out_of_scope/") and confidence >= OUT_OF_SCOPE_MIN_CARD

    def _names_nrw_place(self, turn: Turn) -> bool:
        match = self._match(turn.place)
        return match is not None and match.outcome is Outcome.FOUND

    def _second_question(self, first: Card, turn: Turn) -> Card | None:
        """ "Was kostet die Wertmarke und gilt die auch im ICE?": the other question's card too."""
        if len([part for part in QUESTION_SPLIT.split(turn.text) if len(part.split()) >= 2]) < 2:
            return None
        topics = {intent.removeprefix("ask_") for intent, _ in turn.intents[:3]}
        topics |= {key.split("/")[0] for key, score in turn.cards[:3] if score >= SECOND_QUESTION_TOPIC_CARD}
        for key, confidence in turn.cards:
            card = self.kb.cards.get(key)
            if (
                card is None
                or card.key == first.key
                or card.is_overview
                or card.gap
                or card.topic not in topics
            ):
                continue
            return card if confidence >= SECOND_QUESTION_MIN_CARD else None
        return None

    def _is_overview(self, turn: Turn, topic: Topic) -> bool:
        card = self._select(topic, turn)
        return card is None or card.is_overview

    def _select(self, topic: Topic, turn: Turn) -> Card | None:
        """The best card: the card ranker's score weighed by the classifier's belief in the card's
        topic, so a clearly better card of the second likeliest topic wins over a weak one of the
        first. A named Merkzeichen picks its own card."""
        belief = {intent.removeprefix("ask_"): confidence for intent, confidence in turn.intents}
        belief[topic.key] = max(belief.get(topic.key, 0.0), turn.confidence)
        scored = [
            (self.kb.cards[key], score * belief.get(self.kb.cards[key].topic, 0.0) ** TOPIC_WEIGHT)
            for key, score in turn.cards
            if key in self.kb.cards and self.kb.cards[key].topic in self.kb.catalogue.topics
        ]
        best = max(scored, key=lambda item: item[1], default=None)
        if best is not None and best[0].topic != topic.key and best[1] > 0:
            topic = self.kb.catalogue.topics[best[0].topic]
        ranked = [(card, score) for card, score in scored if card.topic == topic.key]
        ranked.sort(key=lambda item: -item[1])
        if topic.key == "merkzeichen":
            code = find_merkzeichen(turn.text)
            key = f"merkzeichen/{code.lower().replace('.', '')}" if code else ""
            # A named Merkzeichen wins over another Merkzeichen's card, not over "how to apply for one".
            if key in self.kb.cards and (not ranked or ranked[0][0].key not in MERKZEICHEN_PROCEDURES):
                return self.kb.cards[key]
        if not ranked:
            return None if self.gaps else self.kb.cards.get(topic.overview)
        card, confidence = ranked[0]
        return card if confidence >= MIN_CARD_CONFIDENCE else None

    def _follow_up(self, turn: Turn, context: Context) -> Card | Reply | None:
        """ "und was kostet das?" after the Wertmarke: the card of the previous topic with that aspect."""
        last = self.kb.cards.get(context.last_card or "")
        if last is None or not self.kb.follow_ups.is_follow_up(turn.text):
            return None
        aspects = self.kb.follow_ups.aspects_of(turn.text)
        predicted = self.kb.catalogue.topic_of_intent(turn.intent)
        if not aspects:
            if predicted is not None and (
                predicted.key == last.topic or turn.confidence >= FOLLOW_UP_MAX_TOPIC
            ):
                return None
            same = [
                self.kb.cards[k]
                for k, _ in turn.cards
                if k in self.kb.cards and self.kb.cards[k].topic == last.topic
            ]
            return same[0] if same else None
        sure_elsewhere = (
            predicted is not None and predicted.key != last.topic and turn.confidence >= FOLLOW_UP_MAX_TOPIC
        )
        if sure_elsewhere and not self.kb.follow_ups.points_back(turn.text):
            return None  # a new question on another topic ("Was kostet für sie die Wertmarke?")
        first = self.kb.cards_of(last.follow_up_topic) if last.follow_up_topic else []
        see_also = [self.kb.cards[k] for k in last.see_also if k in self.kb.cards]
        nearby = first + self.kb.cards_of(last.topic) + see_also
        candidates = [card for card in dict.fromkeys(nearby) if card.aspects & set(aspects) and not card.gap]
        if not candidates:
            if predicted is not None and predicted.key == last.topic:
                return self._gap(self.kb.catalogue.topics[last.topic], context)
            return None
        ranked = {key: index for index, (key, _) in enumerate(turn.cards)}
        candidates.sort(
            key=lambda card: (
                card.topic != last.follow_up_topic,
                card.is_overview,
                ranked.get(card.key, 999),
                -len(card.aspects & set(aspects)),
            )
        )
        return candidates[0]

    def _card(self, card: Card, turn: Turn, context: Context, now: datetime) -> Reply:
        texts = self.kb.texts
        if card.topic in OFFICE_TOPICS:
            return self._office_topic(card, turn, context, now)
        rendered = self.kb.render(card.key)
        body = self._specific(card, turn) or rendered.text
        parts = [f"{self._yes_or_no(card, turn)} {body}".lstrip()]
        match, context = self._office_of(turn, context)
        awaiting = None
        # "Ich wohne in Hilden, was kostet die Wertmarke?": whoever names a place wants its office too.
        names_place = match is not None and match.outcome is not Outcome.UNKNOWN
        place_buttons: tuple[Button, ...] = ()
        if card.office or names_place:
            office = self.kb.offices.get(context.office_id or "")
            if match is not None and match.outcome in (Outcome.OUTSIDE_NRW, Outcome.ABROAD):
                key = "card.office_abroad" if match.outcome is Outcome.ABROAD else "card.office_elsewhere"
                parts.append(texts(key, place=match.resolution.matched or ""))
            elif match is not None and match.outcome is Outcome.AMBIGUOUS:
                places = match.resolution.places
                parts.append(texts("office.ambiguous", name=min((p.name for p in places), key=len)))
                place_buttons = tuple(Button(p.label(), place_payload(p.key)) for p in places)
                awaiting = card.key
            elif office is not None:
                parts.append(texts("card.office_line", office=office.name, phones=phones(office)))
            else:
                parts.append(texts("card.office_hint"))
                awaiting = card.key
        parts.append(rendered.source_line())
        buttons = (
            place_buttons
            or tuple(
                Button(self.kb.cards[key].title, card_payload(key))
                for key in card.see_also
                if key in self.kb.cards
            )[:MAX_SUGGESTIONS]
        )
        context = context.but(last_card=card.key, awaiting_place=awaiting, fallbacks=0)
        return Reply((Message("\n".join(parts), buttons),), context, topic=card.topic)

    def _yes_or_no(self, card: Card, turn: Turn) -> str:
        """ "Ja." or "Nein." first when the person asks the card's closed question with its verb
        ("Darf mein Sohn …?" for "Darf ein Jugendlicher …?"); nothing for another verb or a negation."""
        if card.yes_no is None:
            return ""
        asked = closed_question_verb(turn.text)
        if asked is None or asked != closed_question_verb(card.question):
            return ""
        return self.kb.texts(f"card.{card.yes_no}")

    def _specific(self, card: Card, turn: Turn) -> str | None:
        """A GdB named in a tax question about the amount narrows the answer to that GdB's; the
        working week and the start date of a Zusatzurlaub question give its number of days."""
        if card.topic == "extra_leave":
            return self._extra_leave(card, turn)
        if card.topic != "tax_allowance":
            return None
        about_amount = not card.aspects.isdisjoint({"amount"})
        if not about_amount and not ASKS_AMOUNT.search(turn.text):
            return None
        gdb = find_gdb(turn.text, self.kb.gdb_values())
        fact = self.kb.facts.get(f"tax_allowance_gdb_{gdb}")
        if gdb is None or fact is None:
            return None
        texts, facts = self.kb.texts, self.kb.facts
        parts = [texts("card.tax_by_gdb", gdb=gdb, amount=fact.text())]
        if gdb < int(facts["gdb_min_card"].value):
            parts.append(
                texts("card.tax_certificate", certificate=facts["tax_allowance_certificate_gdb"].text())
            )
        else:
            parts.append(texts("card.tax_card"))
        parts.append(texts("card.tax_helpless_blind", amount=facts["tax_allowance_helpless_blind"].text()))
        if "children" in card.aspects:  # "unser Sohn hat GdB 90, wie viel können wir geltend machen?"
            parts.append(self.kb.render(card.key).text)
        return " ".join(parts)

    def _extra_leave(self, card: Card, turn: Turn) -> str | None:
        case = extra_leave.case_of(turn.text)
        if case.days_per_week is None and case.start_month is None:
            return None
        week = case.days_per_week or int(self.kb.facts["extra_leave_days"].value)
        texts, rendered = self.kb.texts, self.kb.render(card.key).text
        if case.start_month is None:
            return f"{texts('extra_leave.per_week', days=week)} {rendered}"
        days = extra_leave.days_this_year(week, case.start_day, case.start_month)
        months = extra_leave.full_months(case.start_day or 1, case.start_month)
        month = extra_leave.MONTHS[case.start_month - 1].capitalize()
        lead = texts(
            "extra_leave.part_of_year", day=case.start_day, month=month, months=months, week=week, days=days
        )
        return f"{lead} {rendered}"

    def _office_topic(self, card: Card, turn: Turn, context: Context, now: datetime) -> Reply:
        """Who is responsible, how to reach them, when they are open: the person's office, and the
        specific card (a visit, the contact form, ...) before it."""
        question = OFFICE_TOPICS[card.topic]
        match, context = self._office_of(turn, context)
        if match is not None and match.outcome is not Outcome.FOUND:
            return self._place(turn, match, context.but(awaiting_place=card.key), now)
        office = self.kb.offices.get(context.office_id or "")
        place = match.place if match is not None else None
        if place is None and context.place:
            place = self.kb.find_office(context.place).place
        specific = None if card.is_overview else self.kb.render(card.key)
        if office is None or place is None:
            if specific is None:
                message = Message(self.kb.texts("office.ask_place"))
                return Reply(
                    (message,), context.but(awaiting_place=card.key, last_card=card.key), topic=card.topic
                )
            text = f"{specific.text}\n{self.kb.texts('card.office_hint')}\n{specific.source_line()}"
            return Reply(
                (Message(text),), context.but(awaiting_place=card.key, last_card=card.key), topic=card.topic
            )
        text = office_text(self.kb.texts, office, place, question, now)
        if specific is not None:
            text = f"{specific.text}\n{text}\n{specific.source_line()}"
        others = [q for q in OfficeQuestion if q is not question]
        buttons = tuple(Button(self.kb.texts(f"buttons.{q.value}"), f"/ask_{q.value}") for q in others)
        context = context.but(last_card=card.key, awaiting_place=None, fallbacks=0)
        return Reply((Message(text, buttons),), context, topic=card.topic, kind="place")

    def _gap(self, topic: Topic, context: Context) -> Reply:
        texts = self.kb.texts
        office = self.kb.offices.get(context.office_id or "")
        text = " ".join(
            [
                texts("gap.opening"),
                texts("gap.summary", summary=self.kb.summary(topic.key)),
                texts("gap.ask_office", phone=phone_text(texts, office)),
                texts("gap.callback"),
            ]
        )
        buttons = (Button(texts("buttons.callback"), "/request_callback"),)
        if self.kb.cards.get(topic.overview):
            buttons += (Button(self.kb.cards[topic.overview].title, card_payload(topic.overview)),)
        return Reply((Message(text, buttons),), context.but(offer=CALLBACK), topic=topic.key, kind="gap")

    # Everything else -------------------------------------------------------------------------

    def _smalltalk(self, turn: Turn, context: Context) -> Reply:
        texts = self.kb.texts
        key = {"ask_capabilities": "capabilities"}.get(turn.intent, turn.intent)
        buttons: tuple[Button, ...] = ()
        if turn.intent in {"greet", "ask_capabilities"}:
            buttons = tuple(
                Button(self.kb.cards[k].title, card_payload(k)) for k in MAIN_TOPICS[:3] if k in self.kb.cards
            )
        elif turn.intent == "bot_challenge":
            buttons = (Button(texts("buttons.human"), "/request_human"),)
        return Reply(
            (Message(texts(f"smalltalk.{key}"), buttons),), context.but(fallbacks=0), kind="smalltalk"
        )

    def _human(self, turn: Turn, context: Context, now: datetime) -> Reply:
        texts = self.kb.texts
        _, context = self._office_of(turn, context)
        office = self.kb.offices.get(context.office_id or "")
        callback = Button(texts("buttons.callback"), "/request_callback")
        if office is None:
            text = f"{texts('human.no_office_yet')}\n{texts('human.callback_hint')}"
            return Reply((Message(text, (callback,)),), context.but(awaiting_place=WANTS_PERSON))
        if turn.channel == "voice":
            return self._connect(office, context, now)
        lines = [texts("human.office", office=office.name), texts("human.phone", phones=phones(office))]
        if office.opening_hours is not None:
            lines.append(status_text(texts, office, now))
        lines += [texts("human.ready_for_the_call"), texts("human.callback_hint")]
        hours = Button(texts("buttons.opening_hours"), "/ask_opening_hours")
        return Reply(
            (Message("\n".join(lines), (callback, hours)),),
            context.but(offer=CALLBACK),
            topic="request_human",
        )

    def _callback_request(self, turn: Turn, context: Context, now: datetime) -> Reply:
        """Before the privacy notice (a rule runs it next): the answer to a question in the request
        ("Kann mich das Amt in Köln zurückrufen?"), and the office of a place it names."""
        _, context = self._office_of(turn, context)
        card = next(
            (
                self.kb.cards[k]
                for k, score in turn.cards
                if k in self.kb.cards and score >= CALLBACK_QUESTION_MIN_CARD
            ),
            None,
        )
        if (
            not turn.text.rstrip().endswith("?")
            or card is None
            or card.gap
            or card.topic not in self.kb.catalogue.topics
        ):
            return Reply((), context, topic="request_callback")
        reply = self._card(card, replace(turn, place=None), context, now)
        return replace(reply, topic="request_callback")

    def _connect(self, office: Office, context: Context, now: datetime) -> Reply:
        """On the telephone: connect the caller (bot/channels/voice.py dials), unless the office is
        closed now: then say when it opens and offer a callback instead."""
        texts = self.kb.texts
        if office.opening_hours is not None and not office.opening_hours.status(now).is_open:
            text = f"{status_text(texts, office, now)} {texts('human.callback_hint')}"
            return Reply((Message(text),), context.but(offer=CALLBACK), topic="request_human")
        transfer = {"transfer": {"office": office.id, "number": office.main_phone}}
        return Reply((Message("", custom=transfer),), context, topic="request_human")

    def _continues_last_answer(self, turn: Turn, context: Context) -> bool:
        """ "wo beantrag ich das?" after Merkzeichen RF: a follow-up that the classifier took for
        out of scope while the card ranker finds no out-of-scope card first."""
        last = self.kb.cards.get(context.last_card or "")
        if (
            last is None
            or last.topic not in self.kb.catalogue.topics
            or not self.kb.follow_ups.is_follow_up(turn.text)
        ):
            return False
        return bool(turn.cards) and not turn.cards[0][0].startswith("out_of_scope/")

    def _introduces_oneself(self, turn: Turn) -> bool:
        """ "Mein Vater lebt in Schwelm im Pflegeheim.": who and where, no question, and no
        out-of-scope card fits well; the word "Pflegeheim" is not a question about care."""
        if QUESTION.search(turn.text) or not INTRODUCTION.search(turn.text):
            return False
        best = next((score for key, score in turn.cards if key.startswith("out_of_scope/")), 0.0)
        return best < INTRODUCTION_MAX_OUT_OF_SCOPE

    def _best_out_of_scope(self, turn: Turn) -> str | None:
        return next((k for k, _ in turn.cards if k.startswith("out_of_scope/") and k in self.kb.cards), None)

    def _out_of_scope(self, turn: Turn, context: Context) -> Reply:
        """Never card facts, never the card office, even when a town is named."""
        key = self._best_out_of_scope(turn)
        text = self.kb.render(key).text if key else self.kb.texts("out_of_scope.generic")
        if SCOPE_SENTENCE not in text:
            text = f"{text} {self.kb.texts('out_of_scope.scope')}"
        # Unreadable input ("xq zzv"): the main topics to tap, for those who find typing hard
        buttons = self._main_topic_buttons() if key == NONSENSE else ()
        return Reply((Message(text, buttons),), context.but(fallbacks=0), kind="out_of_scope")

    def _main_topic_buttons(self) -> tuple[Button, ...]:
        keys = [k for k in MAIN_TOPICS if k in self.kb.cards]
        return tuple(Button(self.kb.cards[k].title, card_payload(k)) for k in keys)

    def _fallback(self, turn: Turn, context: Context) -> Reply:
        """First time: the likeliest topics as buttons. Again: the main topics, the phone, a callback."""
        texts = self.kb.texts
        context = context.but(fallbacks=context.fallbacks + 1)
        office = self.kb.offices.get(context.office_id or "")
        if context.fallbacks >= 2:
            buttons = self._main_topic_buttons() + (Button(texts("buttons.callback"), "/request_callback"),)
            text = texts("fallback.main_topics", phone=phone_text(texts, office))
            return Reply((Message(text, buttons),), context.but(offer=CALLBACK), kind="fallback")
        suggestions: list[Button] = []
        for intent, confidence in turn.intents:
            topic = self.kb.catalogue.topic_of_intent(intent)
            if len(suggestions) >= MAX_SUGGESTIONS:
                break
            if topic is not None and topic.overview in self.kb.cards:
                suggestions.append(Button(topic.title, card_payload(topic.overview)))
            elif intent == "request_human" and confidence >= RESCUE_MIN_CONFIDENCE:
                suggestions.append(Button(texts("buttons.human"), "/request_human"))
        suggestions.append(Button(texts("fallback.something_else"), "/deny"))
        return Reply((Message(texts("fallback.suggest"), tuple(suggestions)),), context, kind="fallback")
