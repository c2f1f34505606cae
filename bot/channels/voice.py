"""The German telephone channel: Twilio (or a Twilio-compatible system) calls /webhooks/voice/webhook.

Replaces Rasa's `twilio_voice` channel, which has no language setting and trusts every request.
Every request must carry a valid `X-Twilio-Signature`; the answer is TwiML in German (de-DE).
The conversation id is a hash of the CallSid: the caller's number is never an id and never logged.

A call's state between requests (what the last question was, how often nothing was heard) travels
in the query string of the URLs we hand to Twilio; Twilio signs them, so they cannot be forged,
and any Rasa process can answer the next request.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import phonenumbers
from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.shared.core.events import BotUttered, UserUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import Gather, VoiceResponse

import knowledge
from actions import common
from bot.channels.guard import Limits, MessageGuard, remembered_office_id
from bot.channels.speech import spoken, spoken_message, spoken_phone
from callbacks.slots import PHONE as SLOT_CALLBACK_PHONE
from callbacks.validation import check_phone
from knowledge.opening_hours import status_text

logger = logging.getLogger(__name__)

LANGUAGE = "de-DE"
# Amazon Polly's German standard voice; Twilio offers it without extra set-up (docs/voice.md).
DEFAULT_VOICE = "Polly.Vicki"
WEBHOOK_PATH = "/webhooks/voice/webhook"
# Twilio gives up on a webhook after 15 s; the guard must answer before that.
TWILIO_REPLY_BUDGET_S = 12.0
MAX_SILENCES = 2
DIAL_TIMEOUT_S = 30
HINTS = "Mitarbeiter, Wertmarke, Merkzeichen, Schwerbehindertenausweis, Rückruf, Postleitzahl, Ja, Nein"
CALLBACK_FORM = "callback_form"

GREETING = (
    "Guten Tag. Hier ist der telefonische Assistent für den Schwerbehindertenausweis in "
    "Nordrhein-Westfalen. Ich bin ein Computerprogramm. Ich beantworte Fragen zum Antrag, zur "
    "Verlängerung, zu Merkzeichen und zur Wertmarke, und ich nenne Ihnen Ihr zuständiges Amt. "
    "Stellen Sie einfach Ihre Frage. Wenn Sie mit einem Menschen sprechen möchten, sagen Sie "
    "Mitarbeiter, oder drücken Sie die Null."
)
NOT_HEARD = "Ich habe Sie leider nicht gehört."
ASK_AGAIN = (
    "Bitte sagen Sie Ihre Frage oder Ihre Antwort. Für einen Menschen sagen Sie Mitarbeiter, "
    "oder drücken Sie die Null."
)
GOODBYE_SILENT = "Ich höre Sie leider nicht. Rufen Sie gern noch einmal an. Auf Wiederhören."
TROUBLE = "Entschuldigung, es gibt gerade eine technische Störung. Bitte stellen Sie Ihre Frage noch einmal."
NO_CALL = "Entschuldigung, dieser Anruf kann nicht bearbeitet werden. Auf Wiederhören."
ASK_PLACE_FOR_TRANSFER = (
    "Ich verbinde Sie gern mit Ihrem Amt. In welcher Stadt oder Gemeinde wohnen Sie? "
    "Sie können auch Ihre Postleitzahl sagen."
)
CONNECTING = "Ich verbinde Sie jetzt mit {office}. Einen Moment bitte."
NOBODY_ANSWERED = "Leider ist bei {office} gerade niemand erreichbar."
CALL_LATER = (
    "Sie erreichen das Amt unter {phone}. Ich kann auch eine Rückrufbitte an Ihr Amt weitergeben. "
    "Sagen Sie dazu Rückruf."
)
OFFER_CALLER_NUMBER = "Sollen wir Sie unter der Nummer {number} zurückrufen? Sagen Sie Ja oder Nein."
ASK_OWN_NUMBER = (
    "Bitte sagen Sie die Telefonnummer, unter der das Amt Sie erreichen kann. "
    "Sie können sie auch über die Tastatur eingeben."
)

PERSON_WORDS = {"mitarbeiter", "mitarbeiterin", "mensch", "menschen", "person", "sachbearbeiter"}
PERSON_WORDS |= {"sachbearbeiterin"}
MAX_WORDS_FOR_KEYWORD = 4  # longer sentences with "Person" are often questions: NLU decides
YES_WORDS = {"ja", "jawohl", "genau", "gerne", "gern", "richtig", "korrekt", "okay", "ok", "klar"}
NO_WORDS = {"nein", "nee", "ne", "nö", "falsch"}
NEGATIONS = {"nein", "nicht", "kein", "keine", "andere", "anderen"}


class Step(str, Enum):
    """What the last answer asked for; carried in the query string of the next request."""

    LISTEN = "listen"
    TRANSFER = "transfer"  # a person was asked for, the place is needed first
    OFFER = "offer"  # the caller's own number was offered for the callback
    DECLINED = "declined"  # the caller said no to their own number
    DIALED = "dialed"  # Twilio reports how the transfer went


@dataclass(frozen=True)
class Call:
    """What one request from the telephony tells us."""

    call_sid: str
    caller: str
    text: str
    digits: str
    step: Step | None
    silences: int
    dial_status: str

    @classmethod
    def from_request(cls, form: dict[str, list[str]], query: dict[str, list[str]]) -> Call:
        def first(values: dict[str, list[str]], key: str) -> str:
            return (values.get(key) or [""])[0].strip()

        digits = first(form, "Digits")
        speech = first(form, "SpeechResult").rstrip(".")  # recognisers end every utterance with a dot
        try:
            step = Step(first(query, "step")) if first(query, "step") else None
        except ValueError:
            step = None
        silent = first(query, "silent")
        return cls(
            call_sid=first(form, "CallSid"),
            caller=first(form, "From"),
            text=speech or digits,
            digits=digits,
            step=step,
            silences=int(silent) if silent.isdigit() else 0,
            dial_status=first(form, "DialCallStatus"),
        )


@dataclass(frozen=True)
class Conversation:
    """What the tracker knows about the conversation after a turn."""

    office: knowledge.Office | None = None
    requested_slot: str | None = None
    active_loop: str | None = None
    latest_intent: str | None = None
    recent_buttons: tuple[dict[str, Any], ...] = ()


class FormParams(dict):
    """Form fields with every value kept, blanks included: Twilio signs them all."""

    def getall(self, name: str) -> list[str]:
        return self[name]


def parse_form(body: bytes) -> FormParams:
    try:
        return FormParams(parse_qs((body or b"").decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        return FormParams()


def conversation_id(call_sid: str) -> str:
    """The Rasa sender id of a call: a hash, so the tracker store holds nothing that leads to the caller."""
    return "voice-" + hashlib.sha256(call_sid.encode("utf-8")).hexdigest()[:32]


def dial_number(phone: str) -> str:
    """An office phone as written in knowledge ('0221 221-30702') in E.164 ('+4922122130702')."""
    try:
        parsed = phonenumbers.parse(phone, "DE")
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        digits = re.sub(r"\D", "", phone)
        return "+49" + digits.removeprefix("0")


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def wants_person(call: Call) -> bool:
    said = words(call.text)
    if call.digits == "0" or said in (["0"], ["null"]):
        return True
    return 0 < len(said) <= MAX_WORDS_FOR_KEYWORD and any(word in PERSON_WORDS for word in said)


def is_yes(text: str) -> bool:
    said = words(text)
    return bool(said) and (said == ["1"] or said[0] in YES_WORDS) and not NEGATIONS & set(said)


def is_no(text: str) -> bool:
    said = words(text)
    return bool(said) and (said == ["2"] or said[0] in NO_WORDS)


def usable_caller_number(caller: str) -> str | None:
    """The caller's number in national form if a callback to it is possible (not hidden, no service line)."""
    if not caller.startswith("+"):
        return None  # 'anonymous', 'client:…', SIP addresses
    checked = check_phone(caller)
    if not checked.ok or not checked.value:
        return None
    number = phonenumbers.parse(checked.value, "DE")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def button_payload(text: str, buttons: tuple[dict[str, Any], ...]) -> str | None:
    """The payload of the button whose title the caller said ('Überspringen' -> '/skip')."""
    said = words(text)
    for button in buttons:
        if said and words(button.get("title") or "") == said and button.get("payload"):
            return str(button["payload"])
    return None


class GermanVoiceInput(InputChannel):
    """Registered as `voice`: /webhooks/voice/webhook."""

    @classmethod
    def name(cls) -> str:
        return "voice"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        # From the environment, not credentials.yml: Rasa refuses to start on an unset ${VAR} there.
        return cls(
            auth_token=os.environ.get("TWILIO_AUTH_TOKEN") or None,
            webhook_url=os.environ.get("VOICE_WEBHOOK_URL") or None,
            voice=os.environ.get("VOICE_NAME") or DEFAULT_VOICE,
        )

    def __init__(
        self,
        auth_token: str | None,
        webhook_url: str | None = None,
        voice: str = DEFAULT_VOICE,
        guard: MessageGuard | None = None,
    ) -> None:
        self.validator = RequestValidator(auth_token) if auth_token else None
        self.webhook_url = _without_query(webhook_url) if webhook_url else None
        self.voice = voice
        if guard is None:
            limits = Limits.from_env()
            guard = MessageGuard(
                replace(limits, reply_timeout_s=min(limits.reply_timeout_s, TWILIO_REPLY_BUDGET_S))
            )
        self.guard = guard
        if self.validator is None:
            logger.warning("TWILIO_AUTH_TOKEN is not set: the voice channel rejects every request")

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            form = parse_form(request.body)
            if not self._authentic(request, form):
                return response.text("Forbidden", status=403)
            agent = getattr(request.app.ctx, "agent", None)
            call = Call.from_request(form, parse_qs(request.query_string, keep_blank_values=True))
            try:
                twiml = await self._answer(call, on_new_message, agent)
            except Exception as error:  # noqa: BLE001 - the caller must hear something whatever failed
                logger.error("Answering a call failed: %s", type(error).__name__)
                twiml = self._gather([TROUBLE], Step.LISTEN)
            return response.text(str(twiml), content_type="text/xml; charset=utf-8")

        return webhook

    def _authentic(self, request: Request, form: FormParams) -> bool:
        if self.validator is None:
            logger.warning("Rejected a voice request: TWILIO_AUTH_TOKEN is not set")
            return False
        signature = request.headers.get("X-Twilio-Signature", "")
        base = self.webhook_url or f"{request.scheme}://{request.host}{request.path}"
        url = f"{base}?{request.query_string}" if request.query_string else base
        if not signature or not self.validator.validate(url, form, signature):
            logger.warning("Rejected a voice request: missing or invalid signature")
            return False
        return True

    async def _answer(self, call: Call, on_new_message: Callable, agent: Any) -> VoiceResponse:
        if not call.call_sid:
            return self._hang_up(NO_CALL)
        sender_id = conversation_id(call.call_sid)
        if call.step is Step.DIALED:
            return await self._after_dial(call, agent, sender_id)
        if not call.text:
            return self._silence(call)
        step = call.step or Step.LISTEN
        text = call.text
        if step is Step.OFFER and is_no(text):
            return self._gather([ASK_OWN_NUMBER], Step.DECLINED)
        if step is Step.OFFER and is_yes(text):
            text = usable_caller_number(call.caller) or text
        before = await _conversation(agent, sender_id)
        asked_for_person = wants_person(call)
        if asked_for_person:
            if before.office is not None:
                return self._dial(before.office)
            text = "/request_human"  # the assistant asks for the place and remembers why
        text = button_payload(text, before.recent_buttons) or text

        refusal = self.guard.refusal(sender_id, text)
        if refusal is not None:
            return self._gather([spoken(refusal.text)], step)
        collector = CollectingOutputChannel()
        message = UserMessage(text, collector, sender_id, input_channel=self.name())
        await self.guard.handle(
            on_new_message, message, office_id=lambda: remembered_office_id(agent, sender_id)
        )
        after = await _conversation(agent, sender_id)
        said = [spoken_message(reply) for reply in collector.messages]
        return self._after_turn(call, step, asked_for_person, said, after)

    def _after_turn(
        self, call: Call, step: Step, asked_for_person: bool, said: list[str], after: Conversation
    ) -> VoiceResponse:
        in_form = after.active_loop is not None
        if not in_form and (asked_for_person or after.latest_intent == "request_human"):
            if after.office is not None:
                return self._dial(after.office)
            return self._gather([ASK_PLACE_FOR_TRANSFER], Step.TRANSFER)
        if step is Step.TRANSFER and not in_form:
            if after.office is not None:
                return self._dial(after.office)
            return self._gather(said, Step.TRANSFER)
        if after.active_loop == CALLBACK_FORM and after.requested_slot == SLOT_CALLBACK_PHONE:
            own_number = usable_caller_number(call.caller)
            if step in (Step.OFFER, Step.DECLINED) or own_number is None:
                return self._gather(said, Step.DECLINED)
            offer = OFFER_CALLER_NUMBER.format(number=spoken_phone(own_number))
            return self._gather([*said, offer], Step.OFFER)
        return self._gather(said, Step.LISTEN)

    def _silence(self, call: Call) -> VoiceResponse:
        if call.step is None and call.silences == 0:
            return self._gather([GREETING], Step.LISTEN)
        silences = call.silences + 1
        if silences >= MAX_SILENCES:
            return self._hang_up(GOODBYE_SILENT)
        step = call.step or Step.LISTEN
        own_number = usable_caller_number(call.caller) if step is Step.OFFER else None
        question = OFFER_CALLER_NUMBER.format(number=spoken_phone(own_number)) if own_number else ASK_AGAIN
        return self._gather([NOT_HEARD, question], step, silences)

    async def _after_dial(self, call: Call, agent: Any, sender_id: str) -> VoiceResponse:
        if call.dial_status in ("completed", "answered"):
            hang_up = VoiceResponse()
            hang_up.hangup()
            return hang_up
        office = (await _conversation(agent, sender_id)).office
        if office is None:
            return self._gather([TROUBLE], Step.LISTEN)
        lines = [NOBODY_ANSWERED.format(office=office.name)]
        if office.opening_hours is not None:
            lines.append(spoken(status_text(office.opening_hours, common.now())))
        lines.append(CALL_LATER.format(phone=spoken_phone(office.main_phone)))
        return self._gather(lines, Step.LISTEN)

    def _dial(self, office: knowledge.Office) -> VoiceResponse:
        twiml = VoiceResponse()
        twiml.say(spoken(CONNECTING.format(office=office.name)), language=LANGUAGE, voice=self.voice)
        twiml.dial(
            dial_number(office.main_phone),
            action=self._url(Step.DIALED),
            method="POST",
            timeout=DIAL_TIMEOUT_S,
        )
        return twiml

    def _gather(self, passages: list[str], step: Step, silences: int = 0) -> VoiceResponse:
        """Say the passages while listening; if nothing is heard, come back with one more silence."""
        url = self._url(step, silences)
        gather = Gather(
            input="speech dtmf",
            language=LANGUAGE,
            speechTimeout="auto",
            action=url,
            method="POST",
            actionOnEmptyResult=True,
            hints=HINTS,
        )
        for passage in [p for p in passages if p] or [ASK_AGAIN]:
            gather.say(passage, language=LANGUAGE, voice=self.voice)
        twiml = VoiceResponse()
        twiml.append(gather)
        # Systems without actionOnEmptyResult fall through to here when nothing was said.
        twiml.redirect(url, method="POST")
        return twiml

    def _hang_up(self, text: str) -> VoiceResponse:
        twiml = VoiceResponse()
        twiml.say(text, language=LANGUAGE, voice=self.voice)
        twiml.hangup()
        return twiml

    def _url(self, step: Step, silences: int = 0) -> str:
        query = urlencode({"step": step.value, "silent": silences})
        return f"{self.webhook_url or WEBHOOK_PATH}?{query}"


def _without_query(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


async def _conversation(agent: Any, sender_id: str) -> Conversation:
    """The tracker's view of the conversation; empty if there is none yet (or the store fails)."""
    if agent is None or agent.tracker_store is None:
        return Conversation()
    try:
        tracker = await agent.tracker_store.retrieve(sender_id)
    except Exception as error:  # noqa: BLE001 - without the tracker the call still goes on
        logger.error("Could not read the call's conversation: %s", type(error).__name__)
        return Conversation()
    if tracker is None:
        return Conversation()
    # The same reading of the office as the guard's, so a transfer and its help text agree.
    office_id = await remembered_office_id(agent, sender_id)
    return Conversation(
        office=knowledge.load().offices.get(office_id) if office_id else None,
        requested_slot=tracker.get_slot("requested_slot"),
        active_loop=tracker.active_loop_name,
        latest_intent=(tracker.latest_message.intent or {}).get("name") if tracker.latest_message else None,
        recent_buttons=_recent_buttons(tracker.events),
    )


def _recent_buttons(events: Any) -> tuple[dict[str, Any], ...]:
    """The buttons of the latest bot message that had any, within the last two turns."""
    turns = 0
    for event in reversed(list(events)):
        if isinstance(event, UserUttered):
            turns += 1
            if turns >= 2:
                break
        elif isinstance(event, BotUttered) and event.data.get("buttons"):
            return tuple(event.data["buttons"])
    return ()
