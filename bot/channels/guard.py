"""What every channel does around Rasa: limits on input, and a reply that never fails or stays silent.

- Messages longer than MAX_MESSAGE_LENGTH and empty messages get a friendly German message
  and never reach Rasa. The texts are in knowledge/data/texts/channels.yml (`guard.*`).
- Each sender may send RATE_LIMIT_BURST messages at once and then one every
  60 / RATE_LIMIT_PER_MINUTE seconds (a token bucket per sender, in this process; the buckets are
  a bounded LRU cache).
- If handling a message fails, sends nothing (e.g. the action server is down) or takes longer than
  REPLY_TIMEOUT_S, the person gets the phone number of their office instead of silence. A slow
  message keeps running in the background, so its events still reach the tracker store.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from cachetools import LRUCache
from rasa.core.channels.channel import OutputChannel, UserMessage

import knowledge
from knowledge.conversation import SLOT_OFFICE
from knowledge.office_answers import phone_text

logger = logging.getLogger(__name__)

# Names other code imported these texts by; kept readable from the texts (see __getattr__).
_TEXT_NAMES = {
    "EMPTY_MESSAGE": "guard.empty",
    "TOO_LONG": "guard.too_long",
    "TOO_FAST": "guard.too_fast",
    "TROUBLE": "guard.trouble",
    "SLOW": "guard.slow",
}


def __getattr__(name: str) -> str:
    """`guard.SLOW` and the like: the text from channels.yml (tests and tools compare with it)."""
    if name in _TEXT_NAMES:
        return knowledge.load().texts(_TEXT_NAMES[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _env_number(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        logger.warning("Ignoring %s: not a number", name)
        return default


@dataclass(frozen=True)
class Limits:
    max_length: int = 1000
    burst: int = 20
    per_minute: float = 30.0
    reply_timeout_s: float = 20.0

    @classmethod
    def from_env(cls) -> Limits:
        return cls(
            max_length=int(_env_number("MAX_MESSAGE_LENGTH", cls.max_length)),
            burst=int(_env_number("RATE_LIMIT_BURST", cls.burst)),
            per_minute=_env_number("RATE_LIMIT_PER_MINUTE", cls.per_minute),
            reply_timeout_s=_env_number("REPLY_TIMEOUT_S", cls.reply_timeout_s),
        )


@dataclass(frozen=True)
class Refusal:
    """A message that does not go to Rasa, and the HTTP status that fits it."""

    text: str
    status: int = 200
    retry_after_s: int | None = None


class RateLimiter:
    """A token bucket per sender. Keeps at most `max_senders` buckets (the least recently used go)."""

    def __init__(self, burst: int, per_minute: float, max_senders: int = 100_000) -> None:
        self.burst = burst
        self.rate = per_minute / 60.0
        self.max_senders = max_senders
        self._buckets: LRUCache[str, tuple[float, float]] = LRUCache(maxsize=max_senders)

    def wait_time(self, sender_id: str, now: float | None = None) -> float:
        """Take a token for this sender; return 0 if there was one, else the seconds until there is."""
        if self.burst <= 0 or self.rate <= 0:
            return 0.0
        now = time.monotonic() if now is None else now
        tokens, last = self._buckets.get(sender_id, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        waited = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            waited = (1.0 - tokens) / self.rate
        self._buckets[sender_id] = (tokens, now)  # the least recently used sender goes when full
        return waited


class MessageGuard:
    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits.from_env()
        self.rate_limiter = RateLimiter(self.limits.burst, self.limits.per_minute)
        knowledge.load()  # at start-up, so that the first help message is not slow

    def refusal(self, sender_id: str, text: str) -> Refusal | None:
        """Why this message must not reach Rasa, or None if it may."""
        texts = knowledge.load().texts
        wait = self.rate_limiter.wait_time(sender_id)
        if wait > 0:
            seconds = max(1, round(wait))
            return Refusal(texts("guard.too_fast", seconds=seconds), status=429, retry_after_s=seconds)
        if not text.strip():
            return Refusal(texts("guard.empty"))
        if len(text) > self.limits.max_length:
            return Refusal(texts("guard.too_long", length=len(text), limit=self.limits.max_length))
        return None

    async def handle(
        self,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        message: UserMessage,
        office_id: Callable[[], Awaitable[str | None]] | None = None,
    ) -> None:
        """Let Rasa handle the message; never raise, never leave the person without a reply.

        `office_id` looks up the office remembered in the conversation (for the phone number).
        """
        output = CountingOutput(message.output_channel)
        message.output_channel = output
        task = asyncio.ensure_future(on_new_message(message))
        try:
            await asyncio.wait_for(asyncio.shield(task), self.limits.reply_timeout_s)
        except asyncio.TimeoutError:
            logger.warning("Reply slower than %.0f s; sent the office phone", self.limits.reply_timeout_s)
            task.add_done_callback(_log_failure)
            await self._send_help(message, "guard.slow", office_id)
            return
        except Exception as error:  # noqa: BLE001 - the person must get an answer whatever failed
            logger.error("Handling a message failed: %s", type(error).__name__)
            await self._send_help(message, "guard.trouble", office_id)
            return
        if output.sent == 0:
            logger.warning("Rasa sent no reply (action server down?); answered with the office phone")
            await self._send_help(message, "guard.trouble", office_id)

    async def _send_help(
        self,
        message: UserMessage,
        opening: str,
        office_id: Callable[[], Awaitable[str | None]] | None,
    ) -> None:
        """Send the text `opening` (a key of channels.yml) and the office's phone number."""
        remembered = None
        if office_id is not None:
            try:
                remembered = await office_id()
            except Exception as error:  # noqa: BLE001 - the tracker store may be what failed
                logger.error("Could not read the conversation's office: %s", type(error).__name__)
        text = f"{knowledge.load().texts(opening)}\n{office_help(message.text or '', remembered)}"
        try:
            await message.output_channel.send_text_message(message.sender_id, text)
        except Exception as error:  # noqa: BLE001
            logger.error("Could not send the help message: %s", type(error).__name__)


def office_help(text: str, office_id: str | None) -> str:
    """The phone number of the office named in the message or remembered, else a request for the place."""
    kb = knowledge.load()
    office = kb.find_office(text).office if text else None
    return phone_text(kb.texts, office or kb.offices.get(office_id or ""))


def _log_failure(task: asyncio.Future) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("A slow message failed in the background: %s", type(task.exception()).__name__)


class CountingOutput(OutputChannel):
    """Passes everything to the real output channel and counts the messages sent."""

    def __init__(self, inner: OutputChannel) -> None:
        self.inner = inner
        self.sent = 0

    def name(self) -> str:  # type: ignore[override]
        return self.inner.name()

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self.inner, attribute)

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        self.sent += 1
        await self.inner.send_response(recipient_id, message)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        self.sent += 1
        await self.inner.send_text_message(recipient_id, text, **kwargs)

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        # Not OutputChannel's default (the JSON as text): the telephone reads these payloads.
        self.sent += 1
        await self.inner.send_custom_json(recipient_id, json_message, **kwargs)


async def remembered_office_id(agent: Any, sender_id: str) -> str | None:
    """The office slot of the conversation in the tracker store (None if there is none)."""
    if agent is None or agent.tracker_store is None:
        return None
    tracker = await agent.tracker_store.retrieve(sender_id)
    return tracker.get_slot(SLOT_OFFICE) if tracker else None
