"""The website chat widget: serves bot/channels/web/widget.js, its CSS and a German demo page at
the server root.

The channel has no webhook of its own. The widget sends messages to the guarded REST channel
(/webhooks/rest/webhook), so the limits and the reply guarantee of bot/channels/guard.py apply.
Files are read once at start-up; each response carries an ETag, so browsers revalidate cheaply.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

WEB_DIR = Path(__file__).resolve().parent / "web"  # package data: served from an installed package too

# Short, so that a fixed widget reaches municipal sites soon; the ETag makes revalidation cheap.
ASSET_CACHE = "public, max-age=600"
# The demo page loads nothing but its own files: this also shows that the widget needs no inline code.
DEMO_PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


@dataclass(frozen=True)
class Asset:
    body: bytes
    content_type: str
    headers: dict[str, str]

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:32] + '"'


def _static(file: str, content_type: str) -> Asset:
    """A file a host page embeds from another origin (script, style sheet)."""
    headers = {"Cache-Control": ASSET_CACHE, "Cross-Origin-Resource-Policy": "cross-origin"}
    return Asset((WEB_DIR / file).read_bytes(), content_type, headers)


def load_assets() -> dict[str, Asset]:
    """URL path -> file, read now so that a missing file stops the server at start-up."""
    demo_headers = {
        "Cache-Control": "no-cache",
        "Content-Security-Policy": DEMO_PAGE_CSP,
        "Referrer-Policy": "no-referrer",
    }
    return {
        "/widget.js": _static("widget.js", "text/javascript; charset=utf-8"),
        "/widget.css": _static("widget.css", "text/css; charset=utf-8"),
        "/chat.css": _static("chat.css", "text/css; charset=utf-8"),
        "/chat": Asset((WEB_DIR / "chat.html").read_bytes(), "text/html; charset=utf-8", demo_headers),
    }


def serve(asset: Asset, request: Request) -> HTTPResponse:
    headers = {**asset.headers, "ETag": asset.etag, "X-Content-Type-Options": "nosniff"}
    if asset.etag in request.headers.get("If-None-Match", ""):
        return response.empty(status=304, headers=headers)
    return response.raw(asset.body, content_type=asset.content_type, headers=headers)


class WidgetInput(InputChannel):
    """Registered as `widget`; its routes live at the server root (/widget.js, /chat, ...)."""

    @classmethod
    def name(cls) -> str:
        return "widget"

    def url_prefix(self) -> str:
        # Rasa joins this with "/webhooks/"; an absolute path replaces that prefix.
        return "/"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        assets = load_assets()
        files = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        for path, asset in assets.items():
            files.add_route(_handler(asset), path, methods=["GET", "HEAD"], name=_route_name(path))
        return files


def _handler(asset: Asset) -> Callable[[Request], Awaitable[HTTPResponse]]:
    async def handle(request: Request) -> HTTPResponse:
        return serve(asset, request)

    return handle


def _route_name(path: str) -> str:
    return "widget_" + path.strip("/").replace(".", "_")
