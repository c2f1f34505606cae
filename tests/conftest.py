"""Shared fixtures: the knowledge base, a CollectingDispatcher, trackers, the domain, a fixed clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

import knowledge
from actions import common
from knowledge.opening_hours import BERLIN

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def kb() -> knowledge.Knowledge:
    return knowledge.load()


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    """bot/domain/*.yml merged, as Rasa reads the folder."""
    merged: dict[str, Any] = {}
    for path in sorted((ROOT / "bot" / "domain").glob("*.yml")):
        for key, value in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).items():
            if isinstance(value, dict):
                merged.setdefault(key, {}).update(value)
            elif isinstance(value, list):
                merged.setdefault(key, []).extend(value)
            else:
                merged[key] = value
    return merged


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


TrackerFactory = Callable[..., Tracker]


@pytest.fixture
def tracker() -> TrackerFactory:
    """Build a tracker whose latest message is `text`, classified as `intent`."""

    def make(
        text: str,
        intent: str,
        entities: list[dict[str, Any]] | None = None,
        slots: dict[str, Any] | None = None,
        ranking: list[dict[str, Any]] | None = None,
    ) -> Tracker:
        message = {
            "text": text,
            "intent": {"name": intent, "confidence": 0.9},
            "entities": entities or [],
            "intent_ranking": ranking or [{"name": intent, "confidence": 0.9}],
        }
        return Tracker(
            sender_id="test",
            slots=slots or {},
            latest_message=message,
            events=[],
            paused=False,
            followup_action=None,
            active_loop={},
            latest_action_name="action_listen",
        )

    return make


@pytest.fixture
def fixed_now(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], None]:
    """Freeze the actions' clock: fixed_now(datetime(2026, 11, 24, 9, 0))."""

    def freeze(moment: datetime) -> None:
        aware = moment if moment.tzinfo else moment.replace(tzinfo=BERLIN)
        monkeypatch.setattr(common, "now", lambda: aware)

    return freeze


def texts(dispatcher: CollectingDispatcher) -> str:
    return "\n".join(message.get("text") or "" for message in dispatcher.messages)


def button_payloads(dispatcher: CollectingDispatcher) -> list[str]:
    return [button["payload"] for message in dispatcher.messages for button in message.get("buttons", [])]
