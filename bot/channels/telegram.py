"""Telegram behind the guard, with a secret token on the webhook: Rasa 3.6's Telegram channel, fixed.

Configured from the environment (docs/telegram.md); without TELEGRAM_TOKEN the channel is off and
makes no network call. What it does differently from rasa/core/channels/telegram.py (3.6):
- It registers the webhook with a `secret_token` and answers 403 to every update whose
  X-Telegram-Bot-Api-Secret-Token header does not match. Rasa's only compares the bot's public
  username (from a getMe call on every update), so anyone could post fake updates.
- It registers the webhook once, when the server runs, in the server's event loop. Rasa's calls
  asyncio.run() while building the blueprint (the aiohttp session then belongs to a closed loop) and
  again on every get_output_channel(), which fails inside a running loop. Rasa's unauthenticated
  /set_webhook route is gone.
- Edited messages are not answered a second time, updates without text (photos, channel posts,
  polls, unknown types) get a polite German answer instead of an AttributeError, and a failure never
  becomes a 500, so Telegram does not send the same update again and again. Repeated updates are
  ignored.
- Button presses (callback queries) are answered, so the button stops spinning in the app.
- "/bot" is no longer cut out of every text, and /restart is followed by a real greeting.
- Texts longer than Telegram's 4096 characters are split instead of refused, and button payloads
  longer than Telegram's 64 bytes of callback_data still work.
The message text and the chat id are never logged. The channel's own German texts are in
knowledge/data/texts/channels.yml (`telegram.*`).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from aiogram.bot.api import TelegramAPIServer, check_token
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup
from aiogram.utils.exceptions import NetworkError, TelegramAPIError, ValidationError
from cachetools import LRUCache
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.telegram import TelegramInput, TelegramOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

import knowledge
from bot.channels.guard import MessageGuard, remembered_office_id

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]

ENV_NAMES = {
    "token": "TELEGRAM_TOKEN",
    "bot_name": "TELEGRAM_BOT_NAME",
    "webhook_url": "TELEGRAM_WEBHOOK_URL",
    "secret_token": "TELEGRAM_SECRET_TOKEN",
    "api_url": "TELEGRAM_API_URL",
}
DEFAULT_API_URL = "https://api.telegram.org"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SECRET_TOKEN_FORMAT = re.compile(r"[A-Za-z0-9_-]{1,256}")  # what Telegram accepts
ENV_NAME_FORMAT = re.compile(r"[A-Z_][A-Z0-9_]*")
ALLOWED_UPDATES = ["message", "edited_message", "channel_post", "edited_channel_post", "callback_query"]
MAX_TEXT_LENGTH = 4096  # Telegram's limit per message, in UTF-16 code units
MAX_CALLBACK_DATA_BYTES = 64
REQUEST_TIMEOUT_S = 15
REGISTER_RETRY_DELAYS_S = (5, 30, 120, 600)
MAX_LONG_PAYLOADS = 10_000  # long button payloads kept under a short key
MAX_RECENT_UPDATES = 10_000  # update ids remembered to ignore Telegram's repeats

GREET = "/greet"
COMMANDS = {"/start": GREET, "/hilfe": "/ask_capabilities", "/help": "/ask_capabilities"}
RESTART = "/restart"
# Messages about the chat itself (someone joined, a pinned message, ...): nobody asked anything.
SERVICE_FIELDS = frozenset(
    {
        "new_chat_members",
        "left_chat_member",
        "new_chat_title",
        "new_chat_photo",
        "delete_chat_photo",
        "group_chat_created",
        "supergroup_chat_created",
        "channel_chat_created",
        "message_auto_delete_timer_changed",
        "migrate_to_chat_id",
        "migrate_from_chat_id",
        "pinned_message",
        "proximity_alert_triggered",
        "voice_chat_scheduled",
        "voice_chat_started",
        "voice_chat_ended",
        "voice_chat_participants_invited",
        "video_chat_scheduled",
        "video_chat_started",
        "video_chat_ended",
        "video_chat_participants_invited",
        "forum_topic_created",
        "forum_topic_edited",
        "forum_topic_closed",
        "forum_topic_reopened",
        "successful_payment",
        "connected_website",
        "write_access_allowed",
    }
)


def channel_text(key: str) -> str:
    """A text of this channel: `telegram.<key>` in knowledge/data/texts/channels.yml."""
    return knowledge.load().texts(f"telegram.{key}")


@dataclass(frozen=True)
class TelegramSettings:
    token: str | None = None
    bot_name: str | None = None
    webhook_url: str | None = None
    secret_token: str | None = None
    api_url: str = DEFAULT_API_URL

    @classmethod
    def from_env(
        cls, names: Mapping[str, str] = ENV_NAMES, environ: Mapping[str, str] = os.environ
    ) -> TelegramSettings:
        values = {key: (environ.get(name) or "").strip() or None for key, name in names.items()}
        return cls(
            token=values["token"],
            bot_name=(values["bot_name"] or "").lstrip("@") or None,
            webhook_url=values["webhook_url"],
            secret_token=values["secret_token"],
            api_url=values["api_url"] or DEFAULT_API_URL,
        )

    def problem(self, names: Mapping[str, str] = ENV_NAMES) -> str | None:
        """Why the channel must not start with these settings (None if it may)."""
        try:
            check_token(self.token or "")
        except ValidationError:
            return f"{names['token']} is not a bot token from BotFather"
        if not self.secret_token:
            return f"{names['secret_token']} is not set; the webhook would accept updates from anyone"
        if not SECRET_TOKEN_FORMAT.fullmatch(self.secret_token):
            return f"{names['secret_token']} must be 1-256 characters A-Z, a-z, 0-9, _ or -"
        if not self.webhook_url:
            return f"{names['webhook_url']} is not set (the public HTTPS URL of /webhooks/telegram/webhook)"
        return None


def env_names(credentials: Mapping[str, Any] | None) -> dict[str, str]:
    """The names of the environment variables; credentials.yml may rename them, never hold secrets."""
    names = dict(ENV_NAMES)
    for key, name in (credentials or {}).items():
        if key not in ENV_NAMES:
            raise ValueError(f"unknown setting {key!r} (known: {', '.join(ENV_NAMES)})")
        if not isinstance(name, str) or not ENV_NAME_FORMAT.fullmatch(name):
            raise ValueError(f"{key!r} must name an environment variable, not hold a value")
        names[key] = name
    return names


# --- splitting long texts ---------------------------------------------------------------------------


def utf16_length(text: str) -> int:
    """Telegram counts message length in UTF-16 code units (an emoji counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def split_message(text: str, limit: int = MAX_TEXT_LENGTH) -> list[str]:
    """Parts of at most `limit`, cut at a paragraph, else a line, else a word, else anywhere.

    The whitespace at each cut is dropped, and so is whitespace around the whole text; no part is empty.
    """
    parts = []
    rest = text.strip()
    while rest:
        end = _longest_prefix(rest, limit)
        if end == len(rest):
            parts.append(rest)
            break
        cut = _cut_position(rest, end)
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return parts


def _longest_prefix(text: str, limit: int) -> int:
    """The number of characters of `text` that fit into `limit` UTF-16 code units (at least 1)."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            return max(index, 1)
    return len(text)


def _cut_position(text: str, end: int) -> int:
    """Where to cut text[:end]; a separator may also sit just after it, at text[end]."""
    window = text[: end + 1]
    for separator in ("\n\n", "\n"):
        position = window.rfind(separator)
        if position >= end // 2:  # a break too early would leave a tiny part
            return position
    for position in range(end, 0, -1):
        if window[position].isspace():
            return position
    return end


# --- buttons -------------------------------------------------------------------------------------------


class CallbackPayloads:
    """Telegram's callback_data holds 64 bytes; longer Rasa payloads are kept here under a short key.

    After a restart a key is unknown; then the button's title is used as if the person had typed it.
    """

    def __init__(self, max_entries: int = MAX_LONG_PAYLOADS) -> None:
        self.max_entries = max_entries
        self._payloads: LRUCache[str, str] = LRUCache(maxsize=max_entries)

    def callback_data(self, payload: str) -> str:
        if len(payload.encode()) <= MAX_CALLBACK_DATA_BYTES and not payload.startswith("#"):
            return payload
        key = "#" + hashlib.sha256(payload.encode()).hexdigest()[:32]
        self._payloads[key] = payload  # the least recently used key goes when full
        return key

    def payload(self, data: str, reply_markup: Mapping[str, Any] | None = None) -> str | None:
        """The Rasa payload behind a button's callback_data (None if it cannot be known any more)."""
        if not data.startswith("#"):
            return data
        known = self._payloads.get(data)
        if known is not None:
            return known
        rows = (reply_markup or {}).get("inline_keyboard") or []
        titles = [b.get("text") for row in rows for b in row if b.get("callback_data") == data]
        return titles[0] if titles and titles[0] else None


class SecureTelegramOutput(TelegramOutput):
    """Rasa's Telegram output with a configurable API server, length limits and robust keyboards."""

    def __init__(self, token: str, api_url: str = DEFAULT_API_URL) -> None:
        Bot.__init__(self, token, server=TelegramAPIServer.from_base(api_url), timeout=REQUEST_TIMEOUT_S)
        self.payloads = CallbackPayloads()

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for part in split_message(text or ""):
            await self.send_message(recipient_id, part)

    async def send_text_with_buttons(
        self,
        recipient_id: str,
        text: str,
        buttons: list[dict[str, Any]],
        button_type: str | None = "inline",
        **kwargs: Any,
    ) -> None:
        parts = split_message(text or "") or [channel_text("choose")]
        keyboard = self.keyboard(buttons, button_type)
        for part in parts[:-1]:
            await self.send_message(recipient_id, part)
        await self.send_message(recipient_id, parts[-1], reply_markup=keyboard)

    def keyboard(
        self, buttons: list[dict[str, Any]], button_type: str | None
    ) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | None:
        """One button per row: long German titles stay readable and are easy to hit."""
        usable = [b for b in buttons if isinstance(b, dict) and b.get("title")]
        if not usable:
            return None
        if button_type == "reply":  # the app sends the title as a text message
            markup = ReplyKeyboardMarkup(resize_keyboard=True, one_time_keyboard=True)
            for button in usable:
                markup.row(KeyboardButton(button["title"]))
            return markup
        markup = InlineKeyboardMarkup()
        for button in usable:
            if button.get("url"):
                markup.row(InlineKeyboardButton(button["title"], url=button["url"]))
            else:
                payload = str(button.get("payload") or button["title"])
                data = self.payloads.callback_data(payload)
                markup.row(InlineKeyboardButton(button["title"], callback_data=data))
        return markup

    async def close_session(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


# --- the input channel ------------------------------------------------------------------------------


class SecureTelegramInput(TelegramInput):
    """Registered as `telegram`, so the URL stays /webhooks/telegram/webhook."""

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> SecureTelegramInput:
        names = env_names(credentials)
        settings = TelegramSettings.from_env(names)
        if not settings.token:
            logger.info("Telegram channel is off: %s is not set", names["token"])
            return cls(None)
        problem = settings.problem(names)
        if problem:
            logger.error("Telegram channel is off: %s", problem)
            return cls(None)
        return cls(settings)

    def __init__(self, settings: TelegramSettings | None, guard: MessageGuard | None = None) -> None:
        self.settings = settings
        if settings is None:
            super().__init__(None, None, None, debug_mode=False)
            self.output: SecureTelegramOutput | None = None
            self.guard: MessageGuard | None = None
        else:
            super().__init__(settings.token, settings.bot_name, settings.webhook_url, debug_mode=False)
            self.output = SecureTelegramOutput(settings.token or "", settings.api_url)
            self.guard = guard or MessageGuard()
        self._registration: asyncio.Task | None = None
        self._recent_updates: LRUCache[int, bool] = LRUCache(maxsize=MAX_RECENT_UPDATES)

    @property
    def enabled(self) -> bool:
        return self.output is not None

    def get_output_channel(self) -> SecureTelegramOutput | None:  # type: ignore[override]
        return self.output

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self.enabled else "off"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            agent = getattr(request.app.ctx, "agent", None)
            return await self.receive(request.headers, request.body, on_new_message, agent)

        if self.enabled:

            @webhook.listener("after_server_start")
            async def start(app: Any, loop: Any) -> None:
                self.start_registration()

            @webhook.listener("before_server_stop")
            async def stop(app: Any, loop: Any) -> None:
                await self.stop()

        return webhook

    # --- start and stop -----------------------------------------------------------------------------

    def start_registration(self) -> None:
        """Register the webhook in the background: the server starts even while Telegram is unreachable."""
        if self.enabled and self._registration is None:
            self._registration = asyncio.ensure_future(self.register_webhook())

    async def register_webhook(self) -> bool:
        assert self.output is not None and self.settings is not None
        for delay in (*REGISTER_RETRY_DELAYS_S, None):
            try:
                me = await self.output.get_me()
                if self.settings.bot_name and (me.username or "").lower() != self.settings.bot_name.lower():
                    logger.warning("TELEGRAM_BOT_NAME differs from the bot's username in Telegram")
                await self.output.request(
                    "setWebhook",
                    {
                        "url": self.settings.webhook_url,
                        "secret_token": self.settings.secret_token,
                        "allowed_updates": json.dumps(ALLOWED_UPDATES),
                    },
                )
                logger.info("Telegram webhook registered")
                return True
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - retried; the server must keep running
                reason = _describe(error)
                if delay is None:
                    logger.error("Could not register the Telegram webhook (%s); giving up", reason)
                    return False
                logger.warning("Could not register the Telegram webhook (%s); again in %d s", reason, delay)
                await asyncio.sleep(delay)
        return False

    async def stop(self) -> None:
        if self._registration is not None and not self._registration.done():
            self._registration.cancel()
        if self.output is not None:
            await self.output.close_session()

    # --- updates ------------------------------------------------------------------------------------

    def authentic(self, header: str | None) -> bool:
        secret = (self.settings.secret_token if self.settings else None) or ""
        return bool(secret) and hmac.compare_digest((header or "").encode(), secret.encode())

    async def receive(
        self, headers: Mapping[str, str], body: bytes, on_new_message: OnNewMessage, agent: Any
    ) -> HTTPResponse:
        """Check and handle one webhook call; 200 for every authentic update, so Telegram never resends."""
        if not self.enabled:
            return response.json({"error": "The Telegram channel is off."}, status=503)
        if not self.authentic(headers.get(SECRET_HEADER)):
            logger.warning("Rejected a Telegram webhook call without the right secret token")
            return response.json({"error": "forbidden"}, status=403)
        try:
            update = json.loads(body or b"")
        except (ValueError, UnicodeDecodeError):
            update = None
        if not isinstance(update, dict):
            logger.warning("Ignored a Telegram update that is not a JSON object")
            return response.json({"ok": True})
        if self._seen_before(update.get("update_id")):
            logger.info("Ignored a repeated Telegram update")
            return response.json({"ok": True})
        try:
            await self.handle_update(update, on_new_message, agent)
        except Exception as error:  # noqa: BLE001 - a 500 would make Telegram resend the update forever
            logger.error("Handling a Telegram update failed: %s", type(error).__name__)
        return response.json({"ok": True})

    def _seen_before(self, update_id: Any) -> bool:
        if not isinstance(update_id, int):
            return False
        if update_id in self._recent_updates:
            return True
        self._recent_updates[update_id] = True  # the least recently seen id goes when full
        return False

    async def handle_update(self, update: dict[str, Any], on_new_message: OnNewMessage, agent: Any) -> None:
        kind = next((key for key in update if key != "update_id"), "none")
        logger.debug("Telegram update of type %s", kind)
        content = update.get(kind)
        if not isinstance(content, dict):
            return
        chat_id = _chat_id(content.get("message") if kind == "callback_query" else content)
        if kind == "callback_query":
            await self._handle_button(content, chat_id, on_new_message, agent)
        elif chat_id is None:
            return  # inline queries, polls, chat member changes: no chat to answer in
        elif kind == "message":
            await self._handle_message(content, chat_id, on_new_message, agent)
        elif kind == "edited_message":
            await self._tell(chat_id, channel_text("edited"))
        elif kind in ("channel_post", "edited_channel_post"):
            await self._tell(chat_id, channel_text("channel_post"))

    async def _handle_message(
        self, message: dict[str, Any], chat_id: str, on_new_message: OnNewMessage, agent: Any
    ) -> None:
        text = message.get("text")
        if isinstance(text, str):
            await self._handle_text(text, chat_id, on_new_message, agent)
        elif not SERVICE_FIELDS.intersection(message):
            await self._tell(chat_id, channel_text("only_text"))

    async def _handle_text(self, text: str, chat_id: str, on_new_message: OnNewMessage, agent: Any) -> None:
        command, addressed_to = _command(text)
        if command is not None:
            bot_name = (self.settings.bot_name if self.settings else None) or ""
            if addressed_to and bot_name and addressed_to.lower() != bot_name.lower():
                return  # a command for another bot in a group
            if command == RESTART:
                await self._to_rasa(GREET, chat_id, on_new_message, agent, restart=True)
                return
            text = COMMANDS.get(command, text)
        await self._to_rasa(text, chat_id, on_new_message, agent)

    async def _handle_button(
        self, query: dict[str, Any], chat_id: str | None, on_new_message: OnNewMessage, agent: Any
    ) -> None:
        assert self.output is not None
        if query.get("id"):
            try:  # first, so that the button stops spinning even if Rasa is slow
                await self.output.answer_callback_query(str(query["id"]))
            except Exception as error:  # noqa: BLE001
                logger.warning("Could not answer a Telegram button press: %s", type(error).__name__)
        if chat_id is None:
            return  # a button under an inline message: no chat to answer in
        data = query.get("data")
        message = query.get("message")
        markup = message.get("reply_markup") if isinstance(message, dict) else None
        payload = self.output.payloads.payload(data, markup) if isinstance(data, str) and data else None
        if payload is None:
            await self._tell(chat_id, channel_text("stale_button"))
        else:
            await self._to_rasa(payload, chat_id, on_new_message, agent)

    async def _restart(self, chat_id: str, on_new_message: OnNewMessage) -> None:
        """Rasa's restart answers nothing; the greeting that follows is the answer."""
        try:
            await on_new_message(UserMessage(RESTART, self.output, chat_id, input_channel=self.name()))
        except Exception as error:  # noqa: BLE001 - the greeting still follows
            logger.error("Restarting a Telegram conversation failed: %s", type(error).__name__)

    async def _to_rasa(
        self, text: str, chat_id: str, on_new_message: OnNewMessage, agent: Any, restart: bool = False
    ) -> None:
        assert self.guard is not None
        refusal = self.guard.refusal(chat_id, text)
        if refusal is not None:
            await self._send(chat_id, refusal.text)
            return
        if restart:
            await self._restart(chat_id, on_new_message)
        message = UserMessage(text, self.output, chat_id, input_channel=self.name())
        office_id = lambda: remembered_office_id(agent, chat_id)  # noqa: E731
        await self.guard.handle(on_new_message, message, office_id=office_id)

    async def _tell(self, chat_id: str, text: str) -> None:
        """A fixed answer, within the sender's rate limit (stickers can come fast)."""
        assert self.guard is not None
        if self.guard.rate_limiter.wait_time(chat_id) > 0:
            return
        await self._send(chat_id, text)

    async def _send(self, chat_id: str, text: str) -> None:
        assert self.output is not None
        try:
            await self.output.send_text_message(chat_id, text)
        except Exception as error:  # noqa: BLE001 - e.g. the person blocked the bot
            logger.warning("Could not send a Telegram message: %s", type(error).__name__)


def _chat_id(message: Any) -> str | None:
    chat = message.get("chat") if isinstance(message, dict) else None
    chat_id = chat.get("id") if isinstance(chat, dict) else None
    return str(chat_id) if isinstance(chat_id, (int, str)) and str(chat_id) else None


def _command(text: str) -> tuple[str | None, str | None]:
    """('/start', 'MyBot') for '/start@MyBot payload'; (None, None) if the text is no command."""
    match = re.match(r"(/[A-Za-z0-9_]+)(?:@([A-Za-z0-9_]+))?(?:\s|$)", text.strip())
    if not match:
        return None, None
    return match.group(1).lower(), match.group(2)


def _describe(error: Exception) -> str:
    """Telegram's own error text is safe to log; other errors might contain the URL with the token."""
    if isinstance(error, TelegramAPIError) and not isinstance(error, NetworkError):
        return f"{type(error).__name__}: {error}"
    return type(error).__name__
