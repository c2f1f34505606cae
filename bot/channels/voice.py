"""The German telephone channel: Twilio (or a Twilio-compatible system) calls /webhooks/voice/webhook.

Replaces Rasa's `twilio_voice` channel, which has no language setting and trusts every request.
Every request must carry a valid `X-Twilio-Signature`; the answer is TwiML in German (de-DE).
The conversation id is a hash of the CallSid: the caller's number is never an id and never logged.

The channel is transport only; Rasa and its actions decide what happens in the call.
- In: the speech (SpeechResult) or, when only keys were pressed, the digits (Digits) are the
  message text; the message metadata carries the caller's number and the digits:
  `{"caller": "+492214567890", "digits": "0"}` (each only when there is one; `caller` only when
  `From` is a phone number, not "anonymous", a client or a SIP address).
- Out: a text is said (<Say>, rewritten for speaking by bot/channels/speech.py) while listening
  (<Gather>); buttons are read out as things to say, and saying a button's title sends its payload.
  The custom payload `{"transfer": {"office": "<office id>", "number": "0221 221-30702"}}` connects
  the call (<Dial> to the number in E.164), `{"end_call": true}` ends it (<Hangup/>).
- Around Rasa: the greeting when the call comes in, silence (asked again once, then a goodbye) and
  the outcome of a transfer (nobody answered: the number and the offer of a callback).

What the channel remembers between two requests of a call (the buttons it just read out, the
silences, the transfer it dialled) is kept in this process, per call, in a bounded TTL cache;
nothing of it is in the tracker store or in the URLs given to Twilio.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import phonenumbers
from cachetools import TTLCache
from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import Gather, VoiceResponse

import knowledge
from bot.channels.guard import Limits, MessageGuard, remembered_office_id
from bot.channels.speech import spoken, spoken_buttons, spoken_phone
from knowledge import clock
from knowledge.office_answers import status_text

logger = logging.getLogger(__name__)

LANGUAGE = "de-DE"
# Amazon Polly's German standard voice; Twilio offers it without extra set-up (docs/voice.md).
DEFAULT_VOICE = "Polly.Vicki"
WEBHOOK_PATH = "/webhooks/voice/webhook"
# Twilio gives up on a webhook after 15 s; the guard must answer before that.
TWILIO_REPLY_BUDGET_S = 12.0
MAX_SILENCES = 2
DIAL_TIMEOUT_S = 30
DIAL_ANSWERED = ("completed", "answered")
# A call's memory lives this long after its latest request; at most this many calls at once.
CALL_MEMORY_TTL_S = 3600
MAX_CALLS = 10_000
# The caller's number as Twilio sends it for a real phone (E.164); anything else is no number.
CALLER_FORMAT = re.compile(r"\+[1-9]\d{6,14}")


def text(key: str, **values: Any) -> str:
    """A text of this channel: `voice.<key>` in knowledge/data/texts/channels.yml."""
    return knowledge.load().texts(f"voice.{key}", **values)


@dataclass(frozen=True)
class Call:
    """What one request from the telephony tells us."""

    call_sid: str
    caller: str
    speech: str
    digits: str
    dial_status: str = ""

    @classmethod
    def from_form(cls, form: Mapping[str, list[str]]) -> Call:
        def first(key: str) -> str:
            return (form.get(key) or [""])[0].strip()

        return cls(
            call_sid=first("CallSid"),
            caller=first("From"),
            speech=first("SpeechResult").rstrip("."),  # recognisers end every utterance with a dot
            digits=first("Digits"),
            dial_status=first("DialCallStatus"),
        )

    @property
    def text(self) -> str:
        """The message for Rasa: what was said, or the keys pressed when nothing was said."""
        return self.speech or self.digits

    def metadata(self) -> dict[str, str]:
        """The caller's number and the keys pressed, for the actions (e.g. the callback form)."""
        metadata = {}
        if CALLER_FORMAT.fullmatch(self.caller):
            metadata["caller"] = self.caller
        if self.digits:
            metadata["digits"] = self.digits
        return metadata


@dataclass(frozen=True)
class Transfer:
    """The custom payload {"transfer": {"office": "koeln", "number": "0221 221-30702"}}."""

    office_id: str | None
    number: str

    @classmethod
    def from_payload(cls, payload: Any) -> Transfer | None:
        if not isinstance(payload, Mapping):
            return None
        office_id = payload.get("office") if isinstance(payload.get("office"), str) else None
        number = payload.get("number") if isinstance(payload.get("number"), str) else ""
        office = knowledge.load().offices.get(office_id or "")
        if not number.strip() and office is not None:
            number = office.main_phone
        return cls(office_id, number.strip()) if number.strip() else None

    @property
    def office(self) -> knowledge.Office | None:
        return knowledge.load().offices.get(self.office_id or "")


@dataclass(frozen=True)
class CallMemory:
    """What the channel remembers of one call between two of its requests."""

    buttons: tuple[tuple[str, str], ...] = ()  # (title, payload) of the options just read out
    silences: int = 0  # requests in a row in which nothing was heard
    transfer: Transfer | None = None  # the office just dialled


@dataclass(frozen=True)
class Passage:
    """One message of the assistant as spoken text, and its buttons as things to say."""

    said: str
    options: str = ""

    def full(self) -> str:
        return " ".join(part for part in (self.said, self.options) if part)


@dataclass(frozen=True)
class Replies:
    """The assistant's messages of one turn, read for the telephone."""

    passages: tuple[Passage, ...] = ()
    buttons: tuple[tuple[str, str], ...] = ()
    transfer: Transfer | None = None
    end_call: bool = False

    @classmethod
    def read(cls, messages: Iterable[Mapping[str, Any]]) -> Replies:
        """Texts and buttons in order, up to the first transfer or end of the call."""
        passages: list[Passage] = []
        buttons: list[tuple[str, str]] = []
        for message in messages:
            custom = message.get("custom")
            if isinstance(custom, Mapping):
                if "transfer" in custom:
                    transfer = Transfer.from_payload(custom["transfer"])
                    if transfer is not None:
                        return cls(tuple(passages), (), transfer=transfer)
                    logger.warning("Ignored a transfer without a number to dial")
                elif custom.get("end_call") is True:
                    return cls(tuple(passages), (), end_call=True)
                else:
                    logger.info("Ignored a custom message the telephone cannot play")
                continue
            offered = [b for b in message.get("buttons") or [] if isinstance(b, Mapping) and b.get("title")]
            buttons += [(str(b["title"]), str(b["payload"])) for b in offered if b.get("payload")]
            passage = Passage(spoken(message.get("text") or ""), spoken_buttons(b["title"] for b in offered))
            if passage.full():
                passages.append(passage)
        return cls(tuple(passages), tuple(buttons))


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


def words(said: str) -> list[str]:
    return re.findall(r"\w+", said.lower())


def button_payload(said: str, buttons: Iterable[tuple[str, str]]) -> str | None:
    """The payload of the button whose title the caller said ('Überspringen' -> '/skip')."""
    heard = words(said)
    for title, payload in buttons:
        if heard and words(title) == heard and payload:
            return payload
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
        self.calls: TTLCache[str, CallMemory] = TTLCache(maxsize=MAX_CALLS, ttl=CALL_MEMORY_TTL_S)
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
            twiml = await self.answer(Call.from_form(form), on_new_message, agent)
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

    async def answer(self, call: Call, on_new_message: Callable, agent: Any = None) -> VoiceResponse:
        """The TwiML for one authentic request; something is said whatever fails."""
        try:
            return await self._answer(call, on_new_message, agent)
        except Exception as error:  # noqa: BLE001 - the caller must hear something whatever failed
            logger.error("Answering a call failed: %s", type(error).__name__)
            return self._gather([text("trouble")])

    async def _answer(self, call: Call, on_new_message: Callable, agent: Any) -> VoiceResponse:
        if not call.call_sid:
            return self._hang_up([text("no_call")])
        sender_id = conversation_id(call.call_sid)
        memory = self.calls.get(sender_id)
        if call.dial_status:
            return self._after_dial(sender_id, memory, call.dial_status)
        if not call.text:
            return self._silence(sender_id, memory)
        memory = replace(memory or CallMemory(), silences=0)
        message_text = button_payload(call.text, memory.buttons) or call.text
        refusal = self.guard.refusal(sender_id, message_text)
        if refusal is not None:
            self.calls[sender_id] = memory
            return self._gather([spoken(refusal.text)])
        collector = CollectingOutputChannel()
        message = UserMessage(
            message_text,
            collector,
            sender_id,
            input_channel=self.name(),
            metadata=call.metadata() or None,
        )
        await self.guard.handle(
            on_new_message, message, office_id=lambda: remembered_office_id(agent, sender_id)
        )
        return self._play(sender_id, Replies.read(collector.messages))

    def _play(self, sender_id: str, replies: Replies) -> VoiceResponse:
        """The assistant's messages as TwiML: said while listening, or before a transfer or hang-up."""
        if replies.transfer is not None:
            self.calls[sender_id] = CallMemory(transfer=replies.transfer)
            return self._dial([p.said for p in replies.passages], replies.transfer)
        if replies.end_call:
            self.calls.pop(sender_id, None)
            return self._hang_up([p.said for p in replies.passages])
        self.calls[sender_id] = CallMemory(buttons=replies.buttons)
        return self._gather([p.full() for p in replies.passages])

    def _silence(self, sender_id: str, memory: CallMemory | None) -> VoiceResponse:
        if memory is None:  # the call has just come in
            self.calls[sender_id] = CallMemory()
            return self._gather([text("greeting")])
        silences = memory.silences + 1
        if silences >= MAX_SILENCES:
            self.calls.pop(sender_id, None)
            return self._hang_up([text("goodbye_silent")])
        self.calls[sender_id] = replace(memory, silences=silences)
        return self._gather([text("not_heard"), text("ask_again")])

    def _after_dial(self, sender_id: str, memory: CallMemory | None, status: str) -> VoiceResponse:
        """Twilio reports how the transfer went: ended after a talk, or nobody answered."""
        if status in DIAL_ANSWERED:
            self.calls.pop(sender_id, None)
            return self._hang_up([])
        transfer = memory.transfer if memory is not None else None
        office = transfer.office if transfer is not None else None
        self.calls[sender_id] = CallMemory()
        if transfer is None:  # dialled by another process, or forgotten
            return self._gather([text("nobody_answered_unnamed"), text("call_later_unnamed")])
        lines = [text("nobody_answered", office=office.name) if office else text("nobody_answered_unnamed")]
        if office is not None and office.opening_hours is not None:
            lines.append(spoken(status_text(knowledge.load().texts, office, clock.now())))
        lines.append(text("call_later", phone=spoken_phone(transfer.number)))
        return self._gather(lines)

    def _dial(self, passages: list[str], transfer: Transfer) -> VoiceResponse:
        twiml = VoiceResponse()
        office = transfer.office
        connecting = text("connecting", office=office.name) if office else text("connecting_unnamed")
        for passage in [*passages, spoken(connecting)]:
            if passage:
                twiml.say(passage, language=LANGUAGE, voice=self.voice)
        twiml.dial(dial_number(transfer.number), action=self._url(), method="POST", timeout=DIAL_TIMEOUT_S)
        return twiml

    def _gather(self, passages: list[str]) -> VoiceResponse:
        """Say the passages while listening; if nothing is heard, Twilio comes back without speech."""
        url = self._url()
        gather = Gather(
            input="speech dtmf",
            language=LANGUAGE,
            speechTimeout="auto",
            action=url,
            method="POST",
            actionOnEmptyResult=True,
            hints=text("hints"),
        )
        for passage in [p for p in passages if p] or [text("ask_again")]:
            gather.say(passage, language=LANGUAGE, voice=self.voice)
        twiml = VoiceResponse()
        twiml.append(gather)
        # Systems without actionOnEmptyResult fall through to here when nothing was said.
        twiml.redirect(url, method="POST")
        return twiml

    def _hang_up(self, passages: list[str]) -> VoiceResponse:
        twiml = VoiceResponse()
        for passage in passages:
            if passage:
                twiml.say(passage, language=LANGUAGE, voice=self.voice)
        twiml.hangup()
        return twiml

    def _url(self) -> str:
        return self.webhook_url or WEBHOOK_PATH


def _without_query(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
