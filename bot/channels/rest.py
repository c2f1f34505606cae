"""Rasa's REST channel (/webhooks/rest/webhook) behind the guard: checked input, limits, a reply always.

Unlike Rasa's own RestInput it answers a malformed body with a clear 400 instead of a 500, and it
never logs the message text.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

import knowledge
from bot.channels.guard import MessageGuard, remembered_office_id

logger = logging.getLogger(__name__)

MAX_SENDER_LENGTH = 128


class BadRequest(ValueError):
    pass


def parse_body(body: bytes) -> tuple[str, str, dict[str, Any] | None]:
    """sender, message and metadata from a REST request body, or BadRequest."""
    try:
        data = json.loads(body or b"")
    except (ValueError, UnicodeDecodeError) as error:
        raise BadRequest("not JSON") from error
    if not isinstance(data, dict):
        raise BadRequest("not a JSON object")
    sender, message, metadata = data.get("sender"), data.get("message"), data.get("metadata")
    if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_LENGTH:
        raise BadRequest("bad sender")
    if not isinstance(message, str):
        raise BadRequest("bad message")
    if metadata is not None and not isinstance(metadata, dict):
        raise BadRequest("bad metadata")
    return sender, message, metadata


class GuardedRestInput(RestInput):
    """Registered as `rest`, so the URL stays /webhooks/rest/webhook."""

    def __init__(self, guard: MessageGuard | None = None) -> None:
        self.guard = guard or MessageGuard()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                sender_id, text, metadata = parse_body(request.body)
            except BadRequest as error:
                logger.info("Rejected a REST request: %s", error)
                return response.json({"error": knowledge.load().texts("rest.bad_body")}, status=400)
            refusal = self.guard.refusal(sender_id, text)
            if refusal is not None:
                headers = {"Retry-After": str(refusal.retry_after_s)} if refusal.retry_after_s else None
                body = [{"recipient_id": sender_id, "text": refusal.text}]
                return response.json(body, status=refusal.status, headers=headers)
            collector = CollectingOutputChannel()
            message = UserMessage(text, collector, sender_id, input_channel=self.name(), metadata=metadata)
            agent = getattr(request.app.ctx, "agent", None)
            await self.guard.handle(
                on_new_message, message, office_id=lambda: remembered_office_id(agent, sender_id)
            )
            return response.json(collector.messages)

        return webhook
